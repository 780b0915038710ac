package reconcile

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/schema"
)

func TestMarkersIn(t *testing.T) {
	tests := []struct {
		note string
		want []noteMarker
	}{
		{"Velocity order 1001 [velqbo:fp:0123456789abcdef] [velqbo:o:ord_1:g0]", []noteMarker{{KindOrder, "ord_1", 0}}},
		{"refund [velqbo:r:re_9:g12]", []noteMarker{{KindRefund, "re_9", 12}}},
		{"[velqbo:p:pay:1:g2] and [velqbo:o:x:g0]", []noteMarker{{KindPayment, "pay:1", 2}, {KindOrder, "x", 0}}},
		{"Voided", nil},
		{"[velqbo:broken", nil},
		{"[velqbo:o:a b:g0]", nil},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, markersIn(tc.note)); diff != "" {
			t.Errorf("markersIn(%q) (-want +got):\n%s", tc.note, diff)
		}
	}
}

// TestClassify: which found document an object adopts, which one blocks
// it, and which are ignored.
func TestClassify(t *testing.T) {
	mine := func(id, note string, voided bool) DocRef {
		return DocRef{Type: TypeSalesReceipt, ID: id, DocNumber: "1001", PrivateNote: note, Voided: voided}
	}
	tests := []struct {
		name        string
		gen         int
		docs        []DocRef
		wantOurs    string
		wantGen     int
		wantForeign string
	}{
		{"nothing", 0, nil, "", -1, ""},
		{"ours", 0, []DocRef{mine("7", "x [velqbo:o:o1:g0]", false)}, "7", 0, ""},
		{"a later generation is ours too", 0, []DocRef{mine("7", "[velqbo:o:o1:g2]", false)}, "7", 2, ""},
		{"an earlier generation is ignored (resync)", 1, []DocRef{mine("7", "[velqbo:o:o1:g0]", false)}, "", -1, ""},
		{"another object's marker blocks", 0, []DocRef{mine("7", "[velqbo:o:o10:g0]", false)}, "", -1, "7"},
		{"no marker blocks", 0, []DocRef{mine("8", "ShopSync", false)}, "", -1, "8"},
		{"a voided unmarked one is ignored", 0, []DocRef{mine("8", "Voided", true)}, "", -1, ""},
		{"live wins over voided", 0, []DocRef{mine("7", "[velqbo:o:o1:g0]", true), mine("9", "[velqbo:o:o1:g0]", false)}, "9", 0, ""},
		{"ours and a foreign one", 0, []DocRef{mine("8", "ShopSync", false), mine("9", "[velqbo:o:o1:g0]", false)}, "9", 0, "8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := classify(KindOrder, "o1", tc.gen, tc.docs)
			id := func(d *DocRef) string {
				if d == nil {
					return ""
				}
				return d.ID
			}
			if got := [3]any{id(f.ours), f.gen, id(f.foreign)}; got != [3]any{tc.wantOurs, tc.wantGen, tc.wantForeign} {
				t.Errorf("got ours %q gen %d foreign %q; want %q %d %q", id(f.ours), f.gen, id(f.foreign), tc.wantOurs, tc.wantGen, tc.wantForeign)
			}
		})
	}
}

func TestSameFingerprint(t *testing.T) {
	const fp = "b:0123;t:4567"
	tests := []struct {
		recorded string
		want     bool
	}{
		{fp, true},
		{digestPrefix + noteDigest(fp), true},
		{digestPrefix + noteDigest("other"), false},
		{fpUnknown, false},
		{"", false},
	}
	for _, tc := range tests {
		if got := sameFingerprint(tc.recorded, fp); got != tc.want {
			t.Errorf("sameFingerprint(%q, %q): got %v; want %v", tc.recorded, fp, got, tc.want)
		}
	}
	note := "Velocity order 1 [" + fpTag(fp) + "] [velqbo:o:1:g0]"
	if got, want := noteFingerprint(note), noteDigest(fp); got != want {
		t.Errorf("noteFingerprint(%q): got %q; want %q", note, got, want)
	}
	if got := Fingerprint(map[string]any{"PrivateNote": note}); got != Fingerprint(map[string]any{"PrivateNote": "Velocity order 1"}) {
		t.Errorf("the fingerprint of a note with its tags differs from the note's without them")
	}
}

func TestOrderNumberOf(t *testing.T) {
	invoices := map[string]string{"12": "1001"}
	orders := map[string]bool{"1001": true, "A-2": true}
	tests := []struct {
		kind Kind
		doc  DocRef
		want string
	}{
		{KindOrder, DocRef{DocNumber: "1001"}, "1001"},
		{KindRefund, DocRef{DocNumber: "RF-1001"}, "1001"},
		{KindRefund, DocRef{DocNumber: "RF-1001-2"}, "1001"},
		{KindRefund, DocRef{DocNumber: "RF-A-2"}, "A-2"},
		{KindPayment, DocRef{LinkedInvoices: []string{"12"}}, "1001"},
		{KindPayment, DocRef{}, ""},
	}
	for _, tc := range tests {
		k := schema.DocumentKey{Kind: string(tc.kind), SourceID: "x"}
		if got := orderNumberOf(k, tc.doc, invoices, orders); got != tc.want {
			t.Errorf("orderNumberOf(%s %+v): got %q; want %q", tc.kind, tc.doc, got, tc.want)
		}
	}
}
