package qbotest

import (
	"net/url"
	"testing"
)

// FuzzWrite feeds arbitrary bodies to the entity write path and the batch
// decoder: whatever the body, the server answers with an entity or a fault
// and never panics.
func FuzzWrite(f *testing.F) {
	for _, s := range []string{
		`{"DocNumber":"1","CustomerRef":{"value":"1"},"Line":[{"DetailType":"SalesItemLineDetail","Amount":1,"SalesItemLineDetail":{"ItemRef":{"value":"5"},"Qty":1,"UnitPrice":1}}]}`,
		`{"Line":[1,"x",null,{"DetailType":"DiscountLineDetail","DiscountLineDetail":{"PercentBased":true,"DiscountPercent":"10"}}]}`,
		`{"Id":"1","SyncToken":"0","sparse":true,"Line":{}}`,
		`{"CustomerRef":{"value":"1"},"TotalAmt":"abc","Line":[{"Amount":1,"LinkedTxn":[{"TxnId":"1","TxnType":"Invoice"}]}]}`,
		`{"BatchItemRequest":[{"bId":"1","operation":"create","SalesReceipt":{}},{"bId":"2","Query":"select * from Item"},7]}`,
		`{"DisplayName":"a:b"}`, `[]`, `null`, `{"Id":5}`,
	} {
		f.Add(s, "salesreceipt", "")
	}
	f.Add(`{"Id":"1","SyncToken":"0"}`, "invoice", "void")
	f.Add(`{"Id":"1","SyncToken":"0"}`, "payment", "delete")
	f.Add(`{"CustomerRef":{"value":"1"},"TotalAmt":5}`, "payment", "")
	f.Add(`{"Name":"x","AccountType":"Bank"}`, "account", "")
	s := NewServer()
	defer s.Close()
	s.SeedDefaults()
	s.AddCustomer("Fuzz Customer", "")
	f.Fuzz(func(t *testing.T, body, entity, operation string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, f := s.runBatch([]byte(body)); f != nil && f.status == 0 {
			t.Fatalf("batch fault without status: %v", f)
		}
		ent, ok := pathEntities[entity]
		if !ok {
			return
		}
		m, f := decodeEntity([]byte(body))
		if f != nil {
			return
		}
		q := url.Values{"operation": {operation}}
		op := writeOperation(operation, "", m["Id"] != nil)
		out, f := s.write(ent, op, q, m)
		if (out == nil) == (f == nil) {
			t.Fatalf("write(%s, %s): got out %v and fault %v; want exactly one", ent, op, out, f)
		}
	})
}
