package velocity

import (
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestFileSource_OrdersExcept: skip sees each order line written the
// exporter's way, with its id and SHA-256; the lines it skips are neither
// decoded nor yielded, the others carry their line's SHA-256; a plain
// Orders pass after it (pooled batches) yields everything again.
func TestFileSource_OrdersExcept(t *testing.T) {
	o2 := strings.Replace(ordLine, `"o1"`, `"o2"`, 1)
	reordered := `{"id":"o3","type":"order"` + strings.TrimPrefix(strings.Replace(ordLine, `"o1"`, `"o3"`, 1), `{"type":"order","id":"o3"`)
	escaped := strings.Replace(ordLine, `"o1"`, `"o\u0034"`, 1)
	src := fileSource(strings.Join([]string{custLine, ordLine, "  " + o2 + "\r", reordered, escaped, prodLine}, "\n"))
	var shown []string
	skip := func(lines []LineDigest, out []bool) {
		for i, l := range lines {
			shown = append(shown, l.ID)
			want := ordLine
			if l.ID == "o2" {
				want = o2
			}
			if l.SHA256 != sha256.Sum256([]byte(want)) {
				t.Errorf("SHA-256 of %s: got %x; want that of %s", l.ID, l.SHA256, want)
			}
			out[i] = l.ID == "o1"
		}
	}
	got := map[string]bool{} // id: carries a SHA-256
	for o, err := range src.OrdersExcept(t.Context(), time.Time{}, skip) {
		if err != nil {
			t.Fatal(err)
		}
		got[o.ID] = o.LineSHA256 != [32]byte{}
	}
	if diff := cmp.Diff([]string{"o1", "o2"}, shown); diff != "" {
		t.Errorf("lines shown (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]bool{"o2": true, "o3": false, "o4": false}, got); diff != "" {
		t.Errorf("orders yielded, with a SHA-256 (-want +got):\n%s", diff)
	}
	var all []string
	for o, err := range src.Orders(t.Context(), time.Time{}) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, o.ID)
		if o.LineSHA256 != [32]byte{} {
			t.Errorf("Orders: %s carries a SHA-256; want none", o.ID)
		}
	}
	if diff := cmp.Diff([]string{"o1", "o2", "o3", "o4"}, all); diff != "" {
		t.Errorf("Orders after OrdersExcept (-want +got):\n%s", diff)
	}
}
