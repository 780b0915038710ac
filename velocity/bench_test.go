package velocity_test

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// BenchmarkFileSource_Orders measures a full export pass over generated
// orders; it reports orders/s (the 1,000,000-order target is ≤ 30 s on 2
// cores, i.e. ≥ 33,000 orders/s).
func BenchmarkFileSource_Orders(b *testing.B) {
	const n = 20000
	var buf bytes.Buffer
	if err := velocitytest.WriteNDJSON(&buf, 1, n); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	src := velocity.NewFileSource(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		got := 0
		for _, err := range src.Orders(b.Context(), time.Time{}) {
			if err != nil {
				b.Fatal(err)
			}
			got++
		}
		if got != n {
			b.Fatalf("got %d orders; want %d", got, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/time.Since(start).Seconds(), "orders/s")
}

// BenchmarkFileReader_Next is the single-goroutine reader.
func BenchmarkFileReader_Next(b *testing.B) {
	const n = 5000
	var buf bytes.Buffer
	if err := velocitytest.WriteNDJSON(&buf, 1, n); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		fr := velocity.NewFileReader(bytes.NewReader(data))
		for {
			_, err := fr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

var decoderRounds = flag.Int("decoder-rounds", 1, "BenchmarkDecodeExport: rounds, each measuring every decoder once")

// BenchmarkDecodeExport measures each candidate order decoder on the order
// lines of BenchmarkFileSource_Orders' export, on one goroutine: "wire"
// fills the wire struct, "order" is the whole DecodeOrder (wire struct,
// validation, Order). The decoders take turns round after round
// (-decoder-rounds N), so that the load of a shared machine falls on all
// of them alike; cpu-ns/op is the process's CPU time, which other
// processes' load inflates less than wall time. Benchmark names repeat per
// round (#01, ...): strip the suffix before benchstat.
func BenchmarkDecodeExport(b *testing.B) {
	const n = 20000
	var buf bytes.Buffer
	if err := velocitytest.WriteNDJSON(&buf, 1, n); err != nil {
		b.Fatal(err)
	}
	var lines [][]byte
	var size int64
	for line := range bytes.SplitSeq(buf.Bytes(), []byte("\n")) {
		if bytes.HasPrefix(line, []byte(`{"type":"order"`)) {
			lines = append(lines, line)
			size += int64(len(line)) + 1
		}
	}
	if len(lines) != n {
		b.Fatalf("got %d order lines; want %d", len(lines), n)
	}
	decoders := velocity.OrderDecoders()
	for _, d := range decoders {
		for _, line := range lines[:500] {
			want, err := velocity.DecodeOrder(line)
			got, gerr := d.DecodeOrder(line)
			if err != nil || gerr != nil || !d.DecodeWire(line) {
				b.Fatalf("%s: %v, %v", d.Name, err, gerr)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				b.Fatalf("%s decodes %s differently (-want +got):\n%s", d.Name, line, diff)
			}
		}
	}
	measure := func(b *testing.B, decode func([]byte) bool) {
		b.SetBytes(size)
		b.ReportAllocs()
		cpu0 := cpuTime(b)
		for b.Loop() {
			for _, line := range lines {
				if !decode(line) {
					b.Fatalf("failed to decode %s", line)
				}
			}
		}
		b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "orders/s")
	}
	for range *decoderRounds {
		for _, d := range decoders {
			b.Run(d.Name+"/wire", func(b *testing.B) { measure(b, d.DecodeWire) })
			b.Run(d.Name+"/order", func(b *testing.B) {
				measure(b, func(line []byte) bool { _, err := d.DecodeOrder(line); return err == nil })
			})
		}
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestLargeExport generates and scans VELQBO_LARGE_ORDERS orders through a
// temporary file (e.g. 1000000: the target is ≤ 20 s to generate and
// ≤ 30 s to scan on 2 cores). It is skipped unless the variable is set.
func TestLargeExport(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("VELQBO_LARGE_ORDERS"))
	if n <= 0 {
		t.Skip("set VELQBO_LARGE_ORDERS to run")
	}
	path := filepath.Join(t.TempDir(), "export.ndjson")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := velocitytest.WriteNDJSON(f, 1, n); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %d orders in %v", n, time.Since(start))
	start = time.Now()
	got := 0
	for _, err := range velocity.OpenFileSource(path).Orders(t.Context(), time.Time{}) {
		if err != nil {
			t.Fatal(err)
		}
		got++
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("scanned %d orders in %v (%.0f orders/s), Go heap sys %d MiB", got, time.Since(start), float64(got)/time.Since(start).Seconds(), ms.Sys>>20)
	if got != n {
		t.Errorf("got %d orders; want %d", got, n)
	}
}
