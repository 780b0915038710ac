package qbo

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSalesReceiptsService_Create(t *testing.T) {
	c, mux, _, _ := setup(t)
	created := refFile(t, "exquickbooks-json", "sales_receipt", "create_sales_receipt.json")
	mux.HandleFunc("/v3/company/"+testRealm+"/salesreceipt", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testQuery(t, r, map[string]string{"requestid": "sr-1005"})
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type: got %q; want application/json", got)
		}
		testJSONBody(t, r, `{"DocNumber":"1005","TxnDate":"2017-09-20","PrivateNote":"","TrackingNum":"1Z999",
			"CustomerRef":{"value":"7"},"BillEmail":{"Address":"a@b.c"},"DepositToAccountRef":{"value":"4"},
			"Line":[{"Amount":39.98,"DetailType":"SalesItemLineDetail","SalesItemLineDetail":{"ItemRef":{"value":"3"},"Qty":2,"UnitPrice":19.99,"TaxCodeRef":{"value":"NON"}}},
			        {"Amount":0,"DetailType":"DiscountLineDetail","DiscountLineDetail":{"PercentBased":true,"DiscountPercent":0}}]}`)
		writeJSON(w, http.StatusOK, string(created))
	})
	sr := &SalesReceipt{
		DocNumber: "1005", TxnDate: "2017-09-20", PrivateNote: Ptr(""), TrackingNum: Ptr("1Z999"),
		CustomerRef: &Ref{Value: "7"}, BillEmail: &EmailAddress{Address: "a@b.c"}, DepositToAccountRef: &Ref{Value: "4"},
		Line: []Line{
			{Amount: MustDecimal("39.98"), DetailType: SalesItemLine, SalesItemLineDetail: &SalesItemLineDetail{
				ItemRef: &Ref{Value: "3"}, Qty: MustDecimal("2"), UnitPrice: MustDecimal("19.99"), TaxCodeRef: &Ref{Value: "NON"}}},
			{Amount: MustDecimal("0"), DetailType: DiscountLine, DiscountLineDetail: &DiscountLineDetail{PercentBased: Ptr(true), DiscountPercent: MustDecimal("0")}},
		},
	}
	got, resp, err := c.SalesReceipts.Create(t.Context(), sr, &RequestOptions{RequestID: "sr-1005"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	want := &SalesReceipt{
		Id: "6", SyncToken: "0", Domain: "QBO", TxnDate: "2017-09-20", DocNumber: "1005",
		TotalAmt: MustDecimal("0"), Balance: MustDecimal("0"), PrintStatus: "NeedToPrint", EmailStatus: "NotSet",
		ApplyTaxAfterDiscount: Ptr(false),
		MetaData: &MetaData{
			CreateTime:      time.Date(2017, 9, 20, 18, 32, 11, 0, time.FixedZone("", -7*3600)),
			LastUpdatedTime: time.Date(2017, 9, 20, 18, 32, 11, 0, time.FixedZone("", -7*3600)),
		},
		DepositToAccountRef: &Ref{Value: "4", Name: "Undeposited Funds"},
		CurrencyRef:         &Ref{Value: "USD", Name: "United States Dollar"},
		Line: []Line{
			{Id: "1", LineNum: 1, Amount: MustDecimal("0"), DetailType: SalesItemLine, SalesItemLineDetail: &SalesItemLineDetail{
				UnitPrice: MustDecimal("0"), TaxCodeRef: &Ref{Value: "NON"}, Qty: MustDecimal("1"), ItemRef: &Ref{Value: "3", Name: "Oribe:Shampoo:Test Product"}}},
			{Amount: MustDecimal("0"), DetailType: SubTotalLine, SubTotalLineDetail: &SubTotalLineDetail{}},
		},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b Decimal) bool { return a.Equal(b.Decimal) }),
		cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("SalesReceipt (-want +got):\n%s", diff)
	}
	if resp.IntuitTID != "tid-test-1" {
		t.Errorf("IntuitTID: got %q; want tid-test-1", resp.IntuitTID)
	}
}

func TestWrites_Validation(t *testing.T) {
	c, _, _, _ := setup(t) // no handlers: any request would fail the test
	long := fmt.Sprintf("%051d", 0)
	tests := []struct {
		name string
		call func() error
	}{
		{"NoRequestID", func() error { _, _, err := c.Invoices.Create(t.Context(), &Invoice{}, nil); return err }},
		{"LongRequestID", func() error {
			_, _, err := c.Invoices.Create(t.Context(), &Invoice{}, &RequestOptions{RequestID: long})
			return err
		}},
		{"UpdateWithoutSyncToken", func() error {
			_, _, err := c.Invoices.SparseUpdate(t.Context(), &Invoice{Id: "1"}, &RequestOptions{RequestID: "x"})
			return err
		}},
		{"VoidWithoutID", func() error {
			_, _, err := c.Invoices.Void(t.Context(), "", "1", &RequestOptions{RequestID: "x"})
			return err
		}},
		{"QueryPaging", func() error { _, _, err := c.Items.Query(t.Context(), "MAXRESULTS 5", Page{}); return err }},
		{"QueryBadPage", func() error { _, _, err := c.Items.Query(t.Context(), "", Page{MaxResults: 1001}); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ve *ValidationError
			if err := tt.call(); !errorsAs(err, &ve) {
				t.Errorf("got %v; want *ValidationError", err)
			}
		})
	}
}

// TestTransactions_WriteForms checks URL and body of each write form per
// entity (docs/qbo-notes.md §1.2).
func TestTransactions_WriteForms(t *testing.T) {
	opts := &RequestOptions{RequestID: "rid-1"}
	tests := []struct {
		name, path, op, include, body, resp string
		call                                func(c *Client) error
	}{
		{"InvoiceVoid", "invoice", "void", "", `{"Id":"9","SyncToken":"2"}`, `{"Invoice":{"Id":"9","SyncToken":"3"}}`,
			func(c *Client) error { _, _, err := c.Invoices.Void(t.Context(), "9", "2", opts); return err }},
		{"SalesReceiptVoid", "salesreceipt", "update", "void", `{"Id":"9","SyncToken":"2","sparse":true}`, `{"SalesReceipt":{"Id":"9","SyncToken":"3","PrivateNote":"Voided"}}`,
			func(c *Client) error { _, _, err := c.SalesReceipts.Void(t.Context(), "9", "2", opts); return err }},
		{"PaymentVoid", "payment", "update", "void", `{"Id":"9","SyncToken":"2","sparse":true}`, `{"Payment":{"Id":"9","SyncToken":"3"}}`,
			func(c *Client) error { _, _, err := c.Payments.Void(t.Context(), "9", "2", opts); return err }},
		{"RefundReceiptVoid", "refundreceipt", "update", "void", `{"Id":"9","SyncToken":"2","sparse":true}`, `{"RefundReceipt":{"Id":"9","SyncToken":"3"}}`,
			func(c *Client) error { _, _, err := c.RefundReceipts.Void(t.Context(), "9", "2", opts); return err }},
		{"RefundReceiptDelete", "refundreceipt", "delete", "", `{"Id":"66","SyncToken":"0"}`, `{"RefundReceipt":{"status":"Deleted","domain":"QBO","Id":"66"}}`,
			func(c *Client) error {
				rr, _, err := c.RefundReceipts.Delete(t.Context(), "66", "0", opts)
				if err == nil && rr.Status != StatusDeleted {
					return fmt.Errorf("status: got %q; want Deleted", rr.Status)
				}
				return err
			}},
		{"InvoiceSparseUpdate", "invoice", "", "", `{"Id":"9","SyncToken":"2","sparse":true,"PrivateNote":"","TrackingNum":"T1"}`, `{"Invoice":{"Id":"9","SyncToken":"3"}}`,
			func(c *Client) error {
				_, _, err := c.Invoices.SparseUpdate(t.Context(), &Invoice{Id: "9", SyncToken: "2", PrivateNote: Ptr(""), TrackingNum: Ptr("T1")}, opts)
				return err
			}},
		{"InvoiceFullUpdate", "invoice", "", "", `{"Id":"9","SyncToken":"2","DocNumber":"1001","CustomerRef":{"value":"1"}}`, `{"Invoice":{"Id":"9","SyncToken":"3"}}`,
			func(c *Client) error {
				_, _, err := c.Invoices.Update(t.Context(), &Invoice{Id: "9", SyncToken: "2", Sparse: true, DocNumber: "1001", CustomerRef: &Ref{Value: "1"}}, opts)
				return err
			}},
		{"CustomerDeactivate", "customer", "", "", `{"Id":"9","SyncToken":"2","sparse":true,"Active":false}`, `{"Customer":{"Id":"9","SyncToken":"3","Active":false}}`,
			func(c *Client) error {
				cu, _, err := c.Customers.Deactivate(t.Context(), "9", "2", opts)
				if err == nil && (cu.Active == nil || *cu.Active) {
					return fmt.Errorf("Active: got %v; want false", cu.Active)
				}
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, _, _ := setup(t)
			var calls int
			mux.HandleFunc("/v3/company/"+testRealm+"/"+tt.path, func(w http.ResponseWriter, r *http.Request) {
				calls++
				testMethod(t, r, http.MethodPost)
				testQuery(t, r, map[string]string{"requestid": "rid-1", "operation": tt.op, "include": tt.include})
				testJSONBody(t, r, tt.body)
				writeJSON(w, http.StatusOK, tt.resp)
			})
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			if calls != 1 {
				t.Errorf("calls: got %d; want 1", calls)
			}
		})
	}
}

func TestItemsService_DecodeReal(t *testing.T) {
	for _, f := range []string{"create_item.json", "read_item.json", "update_item.json"} {
		t.Run(f, func(t *testing.T) {
			var env struct{ Item Item }
			if err := json.Unmarshal(refFile(t, "exquickbooks-json", "item", f), &env); err != nil {
				t.Fatal(err)
			}
			it := env.Item
			if it.Id == "" || it.Name == "" || it.Type != ItemTypeInventory || it.IncomeAccountRef == nil || it.QtyOnHand == nil || it.MetaData == nil {
				t.Errorf("incomplete decode: %+v", it)
			}
		})
	}
	var env struct{ Item Item }
	json.Unmarshal(refFile(t, "exquickbooks-json", "item", "read_item.json"), &env)
	if got := Dec(env.Item.PurchaseCost).String(); got != "10" {
		t.Errorf("PurchaseCost: got %s; want 10", got)
	}
}

func TestClient_Preferences(t *testing.T) {
	c, mux, _, _ := setup(t)
	prefs := refFile(t, "exquickbooks-json", "preferences", "read_preferences.json")
	mux.HandleFunc("/v3/company/"+testRealm+"/preferences", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testQuery(t, r, nil)
		writeJSON(w, http.StatusOK, string(prefs))
	})
	p, _, err := c.Preferences(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if p.HomeCurrency() != "USD" || p.MultiCurrencyEnabled() || p.CustomTxnNumbers() {
		t.Errorf("got home %q multi %v custom %v; want USD false false", p.HomeCurrency(), p.MultiCurrencyEnabled(), p.CustomTxnNumbers())
	}
}

// TestItemsService_QueryReal serves the real query.json page.
func TestItemsService_QueryReal(t *testing.T) {
	c, mux, _, _ := setup(t)
	page := refFile(t, "exquickbooks-json", "api", "query.json")
	mux.HandleFunc("/v3/company/"+testRealm+"/query", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testQuery(t, r, map[string]string{"query": "SELECT * FROM Item WHERE Active = true STARTPOSITION 1 MAXRESULTS 1000"})
		writeJSON(w, http.StatusOK, string(page))
	})
	items, resp, err := c.Items.Query(t.Context(), "WHERE Active = true", Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 19 || resp.NextStartPosition != 0 {
		t.Errorf("got %d items next %d; want 19 and 0", len(items), resp.NextStartPosition)
	}
	if items[0].Name != "Concrete" || Dec(items[len(items)-1].UnitPrice).IsNegative() {
		t.Errorf("first item: got %q; want Concrete", items[0].Name)
	}
}

var pageRE = regexp.MustCompile(`^SELECT \* FROM Customer WHERE Active = true STARTPOSITION (\d+) MAXRESULTS (\d+)$`)

// TestReadService_Paging pages with STARTPOSITION/MAXRESULTS until a short
// (or empty) page.
func TestReadService_Paging(t *testing.T) {
	for _, total := range []int{5, 4, 0} {
		t.Run(strconv.Itoa(total), func(t *testing.T) {
			c, mux, _, _ := setup(t)
			var starts []int
			mux.HandleFunc("/v3/company/"+testRealm+"/query", func(w http.ResponseWriter, r *http.Request) {
				m := pageRE.FindStringSubmatch(r.URL.Query().Get("query"))
				if m == nil {
					t.Fatalf("query %q does not match %s", r.URL.Query().Get("query"), pageRE)
				}
				start, _ := strconv.Atoi(m[1])
				max, _ := strconv.Atoi(m[2])
				starts = append(starts, start)
				var list []Customer
				for i := start; i < start+max && i <= total; i++ {
					list = append(list, Customer{Id: strconv.Itoa(i)})
				}
				if len(list) == 0 {
					writeJSON(w, http.StatusOK, `{"QueryResponse":{},"time":"x"}`)
					return
				}
				b, _ := json.Marshal(map[string]any{"QueryResponse": map[string]any{"startPosition": start, "maxResults": len(list), "Customer": list}})
				writeJSON(w, http.StatusOK, string(b))
			})
			var ids []string
			for cu, err := range c.Customers.all(t.Context(), "WHERE Active = true", 2) {
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, cu.Id)
			}
			var want []string
			for i := 1; i <= total; i++ {
				want = append(want, strconv.Itoa(i))
			}
			if diff := cmp.Diff(want, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			wantStarts := map[int][]int{5: {1, 3, 5}, 4: {1, 3, 5}, 0: {1}}[total]
			if diff := cmp.Diff(wantStarts, starts); diff != "" {
				t.Errorf("STARTPOSITIONs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClient_BatchPartialFailure(t *testing.T) {
	c, mux, _, _ := setup(t)
	mux.HandleFunc("/v3/company/"+testRealm+"/batch", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testQuery(t, r, map[string]string{"requestid": "batch-1"})
		testJSONBody(t, r, `{"BatchItemRequest":[
			{"bId":"1a","operation":"create","Customer":{"DisplayName":"A very long name"}},
			{"bId":"2b","operation":"update","Invoice":{"Id":"5","SyncToken":"1","sparse":true,"PrivateNote":"x"}},
			{"bId":"3c","Query":"select * from Item"}]}`)
		writeJSON(w, http.StatusOK, `{"BatchItemResponse":[
			{"bId":"1a","Fault":{"type":"ValidationFault","Error":[{"Message":"Length exceeds limit","Detail":"Length of the field exceeds 21 chars","code":"2050","element":"firstname"}]}},
			{"bId":"2b","Invoice":{"Id":"5","SyncToken":"2","TotalAmt":12.23}},
			{"bId":"3c","QueryResponse":{"Item":[{"Id":"1"}],"startPosition":1,"maxResults":1}}],"time":"x"}`)
	})
	res, _, err := c.Batch(t.Context(), []BatchItem{
		{BID: "1a", Operation: BatchCreate, Entity: &Customer{DisplayName: "A very long name"}},
		{BID: "2b", Operation: BatchUpdate, Entity: &Invoice{Id: "5", SyncToken: "1", Sparse: true, PrivateNote: Ptr("x")}},
		{BID: "3c", Query: "select * from Item"},
	}, &RequestOptions{RequestID: "batch-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("results: got %d; want 3", len(res))
	}
	if res[0].BID != "1a" || res[0].Err == nil || Code(res[0].Err) != "2050" || res[0].Err.Errors[0].Element != "firstname" {
		t.Errorf("item 1a: got %+v; want fault 2050", res[0])
	}
	inv, ok := res[1].Entity.(*Invoice)
	if !ok || inv.SyncToken != "2" || Dec(inv.TotalAmt).String() != "12.23" || res[1].Err != nil {
		t.Errorf("item 2b: got %+v; want *Invoice SyncToken 2", res[1])
	}
	if res[2].QueryResponse == nil {
		t.Errorf("item 3c: got %+v; want QueryResponse", res[2])
	}
}

// TestBatchVoidItem: a void in a batch takes the form the single Void of
// its type sends (operation=void for an Invoice, a sparse update with
// include=void for the others), on the wire as operation and optionsData.
func TestBatchVoidItem(t *testing.T) {
	tests := []struct {
		typ, want string
	}{
		{"Invoice", `{"bId":"v1","operation":"void","Invoice":{"Id":"7","SyncToken":"3"}}`},
		{"SalesReceipt", `{"bId":"v1","operation":"update","optionsData":"void","SalesReceipt":{"Id":"7","SyncToken":"3","sparse":true}}`},
		{"Payment", `{"bId":"v1","operation":"update","optionsData":"void","Payment":{"Id":"7","SyncToken":"3","sparse":true}}`},
		{"RefundReceipt", `{"bId":"v1","operation":"update","optionsData":"void","RefundReceipt":{"Id":"7","SyncToken":"3","sparse":true}}`},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			it, err := BatchVoidItem("v1", tt.typ, "7", "3")
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(it)
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("void item (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []struct{ typ, id, token string }{{"Customer", "7", "3"}, {"Invoice", "", "3"}, {"Invoice", "7", ""}} {
		if _, err := BatchVoidItem("v1", bad.typ, bad.id, bad.token); !errors.As(err, new(*ValidationError)) {
			t.Errorf("BatchVoidItem(%q, %q, %q): got %v; want a *ValidationError", bad.typ, bad.id, bad.token, err)
		}
	}
}

func TestClient_BatchValidation(t *testing.T) {
	c, _, _, _ := setup(t) // no handler: sending would fail the test
	var big []BatchItem
	for i := range MaxBatchItems + 1 {
		big = append(big, BatchItem{BID: strconv.Itoa(i), Operation: BatchCreate, Entity: &Invoice{}})
	}
	tests := []struct {
		name  string
		items []BatchItem
		rid   string
	}{
		{"TooMany", big, "r"},
		{"Empty", nil, "r"},
		{"LongRequestID", big[:1], fmt.Sprintf("%037d", 0)},
		{"DupBID", []BatchItem{big[0], big[0]}, "r"},
		{"LongBID", []BatchItem{{BID: "12345678901", Query: "select * from Item"}}, "r"},
		{"NoOperation", []BatchItem{{BID: "1", Entity: &Invoice{}}}, "r"},
		{"BadEntity", []BatchItem{{BID: "1", Operation: BatchCreate, Entity: struct{}{}}}, "r"},
		{"UpdateWithoutSyncToken", []BatchItem{{BID: "1", Operation: BatchUpdate, Entity: &Invoice{Id: "5", Sparse: true}}}, "r"},
		{"VoidWithoutId", []BatchItem{{BID: "1", Operation: BatchVoid, Entity: &Invoice{SyncToken: "0"}}}, "r"},
		{"UnknownOperation", []BatchItem{{BID: "1", Operation: "merge", Entity: &Invoice{Id: "5", SyncToken: "0"}}}, "r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ve *ValidationError
			if _, _, err := c.Batch(t.Context(), tt.items, &RequestOptions{RequestID: tt.rid}); !errorsAs(err, &ve) {
				t.Errorf("got %v; want *ValidationError", err)
			}
		})
	}
}

func TestClient_CDC(t *testing.T) {
	c, mux, _, _ := setup(t)
	since := time.Date(2025, 8, 20, 10, 0, 0, 0, time.UTC)
	mux.HandleFunc("/v3/company/"+testRealm+"/cdc", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testQuery(t, r, map[string]string{"entities": "Invoice,SalesReceipt,Bill", "changedSince": "2025-08-20T10:00:00Z"})
		writeJSON(w, http.StatusOK, `{"CDCResponse":[{"QueryResponse":[
			{"Invoice":[{"Id":"1","SyncToken":"3","TotalAmt":10.5},{"Id":"2","status":"Deleted","domain":"QBO"}],"startPosition":1,"maxResults":2},
			{"SalesReceipt":[{"Id":"7","DocNumber":"R7"}]},
			{"Bill":[{"Id":"126"}]}]}],"time":"x"}`)
	})
	res, _, err := c.CDC(t.Context(), []string{"Invoice", "SalesReceipt", "Bill"}, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Invoices) != 2 || res.Invoices[1].Status != StatusDeleted || Dec(res.Invoices[0].TotalAmt).String() != "10.5" {
		t.Errorf("invoices: got %+v", res.Invoices)
	}
	if len(res.SalesReceipts) != 1 || res.SalesReceipts[0].DocNumber != "R7" || len(res.Other["Bill"]) != 1 {
		t.Errorf("got receipts %+v other %v", res.SalesReceipts, res.Other)
	}
}
