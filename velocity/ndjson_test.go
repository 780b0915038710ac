package velocity

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	custLine = `{"type":"customer","id":"c1","updated_at":"2026-01-01T00:00:00Z"}`
	prodLine = `{"type":"product","id":"p1","price":"1.00","updated_at":"2026-01-02T00:00:00Z"}`
	ordLine  = `{"type":"order","id":"o1","number":"1","customer_id":"c1","lines":[{"product_id":"p1","quantity":"1","unit_price":"1.00"}],"total":"1.00","updated_at":"2026-01-03T00:00:00Z"}`
)

// summary is one Next result, flattened for comparison.
type summary struct {
	Line int
	Kind string
	ID   string
	Err  string // substring of the ObjectError reason, "" for records
}

func readAll(t *testing.T, fr *FileReader) []summary {
	t.Helper()
	var got []summary
	for {
		rec, err := fr.Next()
		if err == io.EOF {
			return got
		}
		if err != nil {
			var oe *ObjectError
			if !errors.As(err, &oe) {
				t.Fatalf("Next: fatal error %v", err)
			}
			got = append(got, summary{Line: oe.Line, Kind: oe.Kind, ID: oe.ID, Err: oe.Reason})
			continue
		}
		s := summary{Line: rec.Line, Kind: rec.Kind}
		switch {
		case rec.Order != nil:
			s.ID = rec.Order.ID
		case rec.Customer != nil:
			s.ID = rec.Customer.ID
		case rec.Product != nil:
			s.ID = rec.Product.ID
		}
		got = append(got, s)
	}
}

// errContains lets cmp compare Err as a substring.
var errContains = cmp.Comparer(func(a, b summary) bool {
	if a.Line != b.Line || a.Kind != b.Kind || a.ID != b.ID {
		return false
	}
	if a.Err == "" || b.Err == "" {
		return a.Err == b.Err
	}
	return strings.Contains(a.Err, b.Err) || strings.Contains(b.Err, a.Err)
})

func TestFileReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []summary
	}{
		{"MixedOrder", ordLine + "\n" + custLine + "\n" + prodLine + "\n", []summary{
			{1, "order", "o1", ""}, {2, "customer", "c1", ""}, {3, "product", "p1", ""},
		}},
		{"BlankLinesAndCRLF", "\r\n" + custLine + "\r\n  \r\n\n" + ordLine + "\r\n", []summary{
			{2, "customer", "c1", ""}, {5, "order", "o1", ""},
		}},
		{"NoFinalNewline", custLine + "\n" + ordLine, []summary{{1, "customer", "c1", ""}, {2, "order", "o1", ""}}},
		{"BOM", "\xef\xbb\xbf" + custLine + "\n", []summary{{1, "customer", "c1", ""}}},
		{"Malformed", strings.Join([]string{
			custLine,
			`{"type":"order","id":`,
			`{"id":"x"}`,
			`{"type":"invoice","id":"x"}`,
			`[1,2]`,
			`{"type":7}`,
			`{"type":"order","id":"o9","number":"9","customer_id":"c1","lines":[],"total":"1","updated_at":"2026-01-03T00:00:00Z"}`,
			`{"id":"o2","number":"2","type":"order","customer_id":"c1","lines":[{"product_id":"p1","quantity":"1","unit_price":"1.00"}],"total":"1.00","updated_at":"2026-01-03T00:00:00Z"}`,
			prodLine,
		}, "\n"), []summary{
			{1, "customer", "c1", ""},
			{2, "order", "", "invalid JSON"}, // the type prefix was readable
			{3, "", "", "missing type"},
			{4, "", "", `unknown type "invoice"`},
			{5, "", "", "not a JSON object"},
			{6, "", "", "type: got JSON number"},
			{7, "order", "o9", "lines: no lines"},
			{8, "order", "o2", ""},
			{9, "product", "p1", ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// OneByteReader makes every line span many reads.
			for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in))} {
				got := readAll(t, NewFileReader(r))
				if diff := cmp.Diff(tt.want, got, errContains); diff != "" {
					t.Errorf("records (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestFileReader_HugeLine(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(custLine + "\n")
	b.WriteString(`{"type":"order","id":"big","x":"`)
	b.Write(bytes.Repeat([]byte("a"), MaxLineBytes+10))
	b.WriteString("\"}\n")
	b.WriteString(ordLine + "\n")
	want := []summary{{1, "customer", "c1", ""}, {2, "", "", "line longer than"}, {3, "order", "o1", ""}}
	got := readAll(t, NewFileReader(bytes.NewReader(b.Bytes())))
	if diff := cmp.Diff(want, got, errContains); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	// The parallel path must agree.
	src := NewFileSource(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b.Bytes())), nil })
	var kinds []string
	for rec, err := range src.Records(t.Context()) {
		if err != nil {
			kinds = append(kinds, "error")
			continue
		}
		kinds = append(kinds, rec.Kind)
	}
	if diff := cmp.Diff([]string{"customer", "error", "order"}, kinds); diff != "" {
		t.Errorf("parallel records (-want +got):\n%s", diff)
	}
}

func TestFileReader_ReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	fr := NewFileReader(io.MultiReader(strings.NewReader(custLine+"\n"), iotest.ErrReader(boom)))
	if _, err := fr.Next(); err != nil {
		t.Fatalf("first Next: %v", err)
	}
	_, err := fr.Next()
	if !errors.Is(err, boom) || IsObjectError(err) {
		t.Fatalf("second Next error = %v; want fatal %v", err, boom)
	}
}

func fileSource(s string) *FileSource {
	return NewFileSource(func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil })
}

func TestFileSource(t *testing.T) {
	in := strings.Join([]string{
		custLine,
		`{"type":"customer","id":"c2","updated_at":"2026-02-01T00:00:00Z"}`,
		`{"type":"customer","id":"bad"}`,
		`not json`,
		ordLine,
		strings.Replace(strings.Replace(ordLine, `"o1"`, `"o2"`, 1), "2026-01-03", "2026-02-03", 1),
		`{"type":"order","id":"o3"}`,
		prodLine,
	}, "\n")
	src := fileSource(in)
	ctx := t.Context()

	t.Run("Orders", func(t *testing.T) {
		var ids, errs []string
		for o, err := range src.Orders(ctx, time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)) {
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			ids = append(ids, o.ID)
		}
		// Inclusive since: o1 updated exactly at since is included.
		if diff := cmp.Diff([]string{"o1", "o2"}, ids); diff != "" {
			t.Errorf("ids (-want +got):\n%s", diff)
		}
		if len(errs) != 2 || !strings.HasPrefix(errs[0], "line 4: invalid JSON") || !strings.HasPrefix(errs[1], "line 7: order o3:") {
			t.Errorf("errors = %q; want line 4 invalid JSON, line 7 order o3", errs)
		}
	})
	t.Run("OrdersSinceFilters", func(t *testing.T) {
		var ids []string
		for o, err := range src.Orders(ctx, time.Date(2026, 1, 3, 0, 0, 1, 0, time.UTC)) {
			if err == nil {
				ids = append(ids, o.ID)
			}
		}
		if diff := cmp.Diff([]string{"o2"}, ids); diff != "" {
			t.Errorf("ids (-want +got):\n%s", diff)
		}
	})
	t.Run("Customers", func(t *testing.T) {
		var ids, errs []string
		for c, err := range src.Customers(ctx, time.Time{}) {
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			ids = append(ids, c.ID)
		}
		if diff := cmp.Diff([]string{"c1", "c2"}, ids); diff != "" {
			t.Errorf("ids (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"line 3: customer bad: updated_at: missing"}, errs); diff != "" {
			t.Errorf("errors (-want +got):\n%s", diff)
		}
	})
	t.Run("Products", func(t *testing.T) {
		n := 0
		for p, err := range src.Products(ctx, time.Time{}) {
			if err != nil || p.ID != "p1" {
				t.Errorf("got %v, %v; want p1", p, err)
			}
			n++
		}
		if n != 1 {
			t.Errorf("got %d products; want 1", n)
		}
	})
	t.Run("OpenError", func(t *testing.T) {
		src := OpenFileSource(t.TempDir() + "/missing.ndjson")
		for _, err := range src.Orders(ctx, time.Time{}) {
			if err == nil || IsObjectError(err) {
				t.Fatalf("got %v; want a fatal open error", err)
			}
		}
	})
	t.Run("Cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		var last error
		for _, err := range src.Orders(ctx, time.Time{}) {
			last = err
		}
		if !errors.Is(last, context.Canceled) {
			t.Fatalf("last error = %v; want context.Canceled", last)
		}
	})
	t.Run("EarlyStop", func(t *testing.T) {
		for range src.Orders(ctx, time.Time{}) {
			break
		}
	})
}

// TestParallelMatchesSequential checks that the batched, multi-core pass
// yields exactly what FileReader.Next yields, across many batches.
func TestParallelMatchesSequential(t *testing.T) {
	var b strings.Builder
	for i := range 3000 {
		switch i % 7 {
		case 0:
			b.WriteString(custLine)
		case 3:
			b.WriteString("{broken")
		case 5:
			b.WriteString("")
		default:
			b.WriteString(ordLine)
		}
		b.WriteString("\n")
	}
	in := b.String()
	want := readAll(t, NewFileReader(strings.NewReader(in)))
	for _, workers := range []int{1, 2, 5} {
		var got []summary
		for rec, err := range parallelRecords(t.Context(), strings.NewReader(in), maskAll, workers) {
			if err != nil {
				var oe *ObjectError
				errors.As(err, &oe)
				got = append(got, summary{oe.Line, oe.Kind, oe.ID, oe.Reason})
				continue
			}
			s := summary{Line: rec.Line, Kind: rec.Kind}
			if rec.Order != nil {
				s.ID = rec.Order.ID
			} else if rec.Customer != nil {
				s.ID = rec.Customer.ID
			}
			got = append(got, s)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("workers=%d (-sequential +parallel):\n%s", workers, diff)
		}
	}
}
