package reconcile_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/reconcile"
)

func TestReasonsRender(t *testing.T) {
	fixText := func(f reconcile.Fix) string { return "<" + string(f.Action) + " " + f.ID + ">" }
	link := reconcile.Reason{Code: reconcile.CodeProductNotLinked, Text: "product 77 is not linked",
		Fix: reconcile.Fix{Action: reconcile.FixLinkProduct, ID: "77"}}
	create := reconcile.Reason{Code: reconcile.CodeCannotCreate, Text: "the QBO connection cannot create customers",
		Fix: reconcile.Fix{Action: reconcile.FixCreateCustomer, ID: "cus_2"}}
	money := reconcile.Reason{Code: reconcile.CodeTotalMismatch, Text: "order total 1.00 does not equal its parts 2.00"}
	tests := []struct {
		name    string
		rs      reconcile.Reasons
		fixText func(reconcile.Fix) string
		want    string
	}{
		{"a fix after a colon", reconcile.Reasons{link}, fixText, "product 77 is not linked: <link_product 77>"},
		{"resync and create read as a second clause", reconcile.Reasons{reconcile.DeletedInQBO("1001"), create}, fixText,
			"deleted in QBO; <resync 1001>; the QBO connection cannot create customers; <create_customer cus_2>"},
		{"no fix", reconcile.Reasons{money}, fixText, "order total 1.00 does not equal its parts 2.00"},
		{"no renderer", reconcile.Reasons{link, money}, nil, "product 77 is not linked; order total 1.00 does not equal its parts 2.00"},
		{"renderer without a phrase", reconcile.Reasons{link}, func(reconcile.Fix) string { return "" }, "product 77 is not linked"},
		{"none", nil, fixText, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rs.Render(tt.fixText); got != tt.want {
				t.Errorf("Render: got %q; want %q", got, tt.want)
			}
		})
	}
	if got, want := (reconcile.Reasons{link, money}).String(), "product 77 is not linked; order total 1.00 does not equal its parts 2.00"; got != want {
		t.Errorf("String: got %q; want %q", got, want)
	}
}

// TestReasonJSON: the shape `run --json` adds under "reasons"; a reason
// without a fix has no "fix" key.
func TestReasonJSON(t *testing.T) {
	rs := reconcile.Reasons{
		reconcile.DeletedInQBO("1001"),
		{Code: reconcile.CodeTotalMismatch, Subject: reconcile.Subject{Kind: reconcile.SubjectOrder, ID: "1001"}, Text: "order total differs"},
	}
	b, err := json.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"code":"deleted_in_qbo","subject":{"kind":"order","id":"1001"},"text":"deleted in QBO","fix":{"action":"resync","id":"1001"}},` +
		`{"code":"total_mismatch","subject":{"kind":"order","id":"1001"},"text":"order total differs"}]`
	if string(b) != want {
		t.Errorf("JSON: got %s; want %s", b, want)
	}
	// The ledger keeps this form; DecodeReasons reads it back.
	got, err := reconcile.DecodeReasons(b)
	if diff := cmp.Diff(rs, got); diff != "" || err != nil {
		t.Errorf("DecodeReasons: err %v, (-want +got):\n%s", err, diff)
	}
	if got, err := reconcile.DecodeReasons(nil); got != nil || err != nil {
		t.Errorf("DecodeReasons(nil): got %v, %v; want nil, nil (a row written without reasons)", got, err)
	}
	if _, err := reconcile.DecodeReasons([]byte("not json")); err == nil {
		t.Error("DecodeReasons of garbage: got nil error; want an error")
	}
}
