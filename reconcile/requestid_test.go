package reconcile

import (
	"strings"
	"testing"
)

func TestRequestID(t *testing.T) {
	// The request id hashes the ledger's source kind and the write's action as text.
	order, refund, create, update := string(KindOrder), string(KindRefund), string(ActionCreate), string(ActionUpdate)
	base := requestID("9130", order, "ord_1", 0, create, "b:x;t:y", 0)
	if len(base) > 50 || !strings.HasPrefix(base, "vq") {
		t.Fatalf("requestID %q: %d characters; want ≤ 50 with prefix vq", base, len(base))
	}
	if again := requestID("9130", order, "ord_1", 0, create, "b:x;t:y", 0); again != base {
		t.Errorf("not deterministic: %q then %q", base, again)
	}
	for name, other := range map[string]string{
		"realm":       requestID("9131", order, "ord_1", 0, create, "b:x;t:y", 0),
		"kind":        requestID("9130", refund, "ord_1", 0, create, "b:x;t:y", 0),
		"source id":   requestID("9130", order, "ord_2", 0, create, "b:x;t:y", 0),
		"generation":  requestID("9130", order, "ord_1", 1, create, "b:x;t:y", 0),
		"action":      requestID("9130", order, "ord_1", 0, update, "b:x;t:y", 0),
		"fingerprint": requestID("9130", order, "ord_1", 0, create, "b:x;t:z", 0),
		"attempt":     requestID("9130", order, "ord_1", 0, create, "b:x;t:y", 1),
	} {
		if other == base {
			t.Errorf("changing the %s kept request id %q", name, base)
		}
	}
	b := batchRequestID([]string{base, "vq2"})
	if len(b) > 36 || b != batchRequestID([]string{base, "vq2"}) || b == batchRequestID([]string{"vq2", base}) {
		t.Errorf("batch id %q: want ≤ 36 characters, deterministic, order-sensitive", b)
	}
}

func TestMarker(t *testing.T) {
	tests := []struct {
		kind, id string
		gen      int
		want     string
	}{
		{string(KindOrder), "ord_1", 0, "velqbo:o:ord_1:g0"},
		{string(KindRefund), "ref_9", 2, "velqbo:r:ref_9:g2"},
		{string(KindPayment), "pay_3", 1, "velqbo:p:pay_3:g1"},
	}
	for _, tt := range tests {
		if got := marker(tt.kind, tt.id, tt.gen); got != tt.want {
			t.Errorf("marker(%s, %s, %d) = %q; want %q", tt.kind, tt.id, tt.gen, got, tt.want)
		}
	}
	note := "Velocity order 1001 [velqbo:o:ord_1:g0]"
	if !hasMarker(note, "velqbo:o:ord_1:g0") || hasMarker(note, "velqbo:o:ord_1:g1") || hasMarker(note, "velqbo:o:ord_10:g0") {
		t.Errorf("hasMarker does not match exactly in %q", note)
	}
}
