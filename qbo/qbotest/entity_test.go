package qbotest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestServer_CRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sr := e.create("salesreceipt", e.receipt("1001"))
	id := str(sr["Id"])
	if got := str(sr["SyncToken"]); got != "0" {
		t.Fatalf("SyncToken after create: got %q; want \"0\"", got)
	}
	if got := str(sr["TotalAmt"]); got != "39.98" {
		t.Errorf("TotalAmt: got %s; want 39.98", got)
	}
	if got := str(obj(sr["CustomerRef"])["name"]); got != "Jane Doe" {
		t.Errorf("CustomerRef.name: got %q; want Jane Doe", got)
	}

	read := e.do(http.MethodGet, "salesreceipt/"+id, nil, "")
	got := read.ok(t, "SalesReceipt")
	if diff := cmp.Diff(sr, got); diff != "" {
		t.Errorf("read differs from create (-create +read):\n%s", diff)
	}
	if read.body["time"] == nil {
		t.Errorf("response has no time field: %s", read.raw)
	}

	t.Run("FullUpdate", func(t *testing.T) {
		got["PrivateNote"] = "edited"
		up := e.post("salesreceipt", url.Values{"operation": {"update"}}, mustJSON(t, got)).ok(t, "SalesReceipt")
		if str(up["SyncToken"]) != "1" || str(up["PrivateNote"]) != "edited" {
			t.Fatalf("got SyncToken %v PrivateNote %v; want 1, edited", up["SyncToken"], up["PrivateNote"])
		}
	})
	t.Run("ErrStaleSyncToken", func(t *testing.T) {
		got["SyncToken"] = "0"
		code, _ := e.post("salesreceipt", nil, mustJSON(t, got)).fault(t, http.StatusBadRequest)
		if code != "5010" {
			t.Errorf("code: got %s; want 5010", code)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		code, _ := e.do(http.MethodGet, "salesreceipt/9999", nil, "").fault(t, http.StatusBadRequest)
		if code != "610" {
			t.Errorf("code: got %s; want 610", code)
		}
	})
	t.Run("CompanyInfoAndPreferences", func(t *testing.T) {
		ci := e.do(http.MethodGet, "companyinfo/"+e.s.Realm(), nil, "").ok(t, "CompanyInfo")
		if ci["CompanyName"] == nil {
			t.Errorf("CompanyInfo has no CompanyName: %v", ci)
		}
		p := e.do(http.MethodGet, "preferences", nil, "").ok(t, "Preferences")
		if got := str(obj(obj(p["CurrencyPrefs"])["HomeCurrency"])["value"]); got != "USD" {
			t.Errorf("HomeCurrency: got %q; want USD", got)
		}
	})
}

func TestServer_SparseVersusFullUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inv := e.invoice("2001")
	inv["CustomerMemo"] = map[string]any{"value": "thanks"}
	created := e.create("invoice", inv)
	id := str(created["Id"])

	sparse := map[string]any{"Id": id, "SyncToken": "0", "sparse": true, "TrackingNum": "1Z999"}
	up := e.create("invoice", sparse)
	if str(up["TrackingNum"]) != "1Z999" || obj(up["CustomerMemo"]) == nil || str(up["SyncToken"]) != "1" {
		t.Fatalf("sparse update: got TrackingNum %v CustomerMemo %v SyncToken %v; want 1Z999, kept, 1",
			up["TrackingNum"], up["CustomerMemo"], up["SyncToken"])
	}
	full := map[string]any{"Id": id, "SyncToken": "1", "CustomerRef": map[string]any{"value": e.cust},
		"Line": []any{itemLine(e.sd.Products["SKU-2"], "1", "5.25", "5.25")}}
	up = e.create("invoice", full)
	if _, ok := up["CustomerMemo"]; ok {
		t.Errorf("full update kept CustomerMemo; want it cleared")
	}
	if _, ok := up["TrackingNum"]; ok {
		t.Errorf("full update kept TrackingNum; want it cleared")
	}
	if str(up["TotalAmt"]) != "5.25" || str(up["Balance"]) != "5.25" {
		t.Errorf("TotalAmt/Balance: got %v/%v; want 5.25/5.25", up["TotalAmt"], up["Balance"])
	}
}

func TestServer_RequestIDReplay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	q := url.Values{"requestid": {"order-1-create-g0"}}
	body := mustJSON(t, e.receipt("1001"))
	first := e.post("salesreceipt", q, body)
	second := e.post("salesreceipt", url.Values{"requestid": {"order-1-create-g0"}}, body)
	if first.status != 200 || second.status != 200 {
		t.Fatalf("statuses: got %d, %d; want 200, 200", first.status, second.status)
	}
	if string(first.raw) != string(second.raw) {
		t.Errorf("replay body differs:\nfirst  %s\nsecond %s", first.raw, second.raw)
	}
	if n := len(e.s.Entities("SalesReceipt")); n != 1 {
		t.Errorf("SalesReceipts stored: got %d; want 1", n)
	}
	if a, b := first.header.Get("intuit_tid"), second.header.Get("intuit_tid"); a == "" || a == b {
		t.Errorf("intuit_tid: got %q and %q; want two distinct non-empty ids", a, b)
	}
	st := e.s.Stats()
	if st.Creates != 1 || st.Replays != 1 {
		t.Errorf("stats: got creates %d replays %d; want 1, 1", st.Creates, st.Replays)
	}
	// A fault is remembered too: QBO returns the first answer whatever it was.
	bad := mustJSON(t, e.receipt(strings.Repeat("9", 22)))
	q2 := url.Values{"requestid": {"bad-1"}}
	e.post("salesreceipt", q2, bad).fault(t, 400)
	e.post("salesreceipt", url.Values{"requestid": {"bad-1"}}, body).fault(t, 400)
	if n := len(e.s.Entities("SalesReceipt")); n != 1 {
		t.Errorf("SalesReceipts after replayed fault: got %d; want 1", n)
	}
}

func TestServer_Validation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inactive := e.s.AddItem("Old thing", "SKU-OLD")
	if err := e.s.PersonEdit("Item", inactive, func(m map[string]any) { m["Active"] = false }); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		entity  string
		body    func() map[string]any
		code    string
		element string
	}{
		{"DocNumber22", "salesreceipt", func() map[string]any { return e.receipt(strings.Repeat("A", 22)) }, "2050", "DocNumber"},
		{"UnknownCustomer", "salesreceipt", func() map[string]any {
			m := e.receipt("1")
			m["CustomerRef"] = map[string]any{"value": "999"}
			return m
		}, "610", "CustomerRef"},
		{"UnknownItem", "salesreceipt", func() map[string]any {
			return e.receipt("1", itemLine("999", "1", "1", "1"))
		}, "610", "Line.SalesItemLineDetail.ItemRef"},
		{"InactiveItem", "salesreceipt", func() map[string]any {
			return e.receipt("1", itemLine(inactive, "1", "1", "1"))
		}, "610", "Line.SalesItemLineDetail.ItemRef"},
		{"UnknownDepositAccount", "salesreceipt", func() map[string]any {
			m := e.receipt("1")
			m["DepositToAccountRef"] = map[string]any{"value": "999"}
			return m
		}, "610", "DepositToAccountRef"},
		{"UnknownPaymentMethod", "salesreceipt", func() map[string]any {
			m := e.receipt("1")
			m["PaymentMethodRef"] = map[string]any{"value": "999"}
			return m
		}, "610", "PaymentMethodRef"},
		{"UnknownDiscountAccount", "salesreceipt", func() map[string]any {
			return e.receipt("1", itemLine(e.sd.Products["SKU-1"], "1", "1", "1"), discountLine("999", "0.5"))
		}, "610", "Line.DiscountLineDetail.DiscountAccountRef"},
		{"UnknownTaxCode", "salesreceipt", func() map[string]any {
			l := itemLine(e.sd.Products["SKU-1"], "1", "1", "1")
			obj(l["SalesItemLineDetail"])["TaxCodeRef"] = map[string]any{"value": "77"}
			return e.receipt("1", l)
		}, "610", "Line.SalesItemLineDetail.TaxCodeRef"},
		{"UnknownLinkedInvoice", "payment", func() map[string]any {
			return map[string]any{"CustomerRef": map[string]any{"value": e.cust}, "TotalAmt": json.Number("1"),
				"Line": []any{map[string]any{"Amount": json.Number("1"), "LinkedTxn": []any{map[string]any{"TxnId": "999", "TxnType": "Invoice"}}}}}
		}, "610", "Line.LinkedTxn.TxnId"},
		{"LineWithoutDetailType", "salesreceipt", func() map[string]any {
			l := itemLine(e.sd.Products["SKU-1"], "1", "1", "1")
			delete(l, "DetailType")
			return e.receipt("1", l)
		}, "2020", "Line.DetailType"},
		{"AmountNotQtyTimesPrice", "salesreceipt", func() map[string]any {
			return e.receipt("1", itemLine(e.sd.Products["SKU-1"], "3", "0.1", "0.31"))
		}, "6070", ""},
		{"RefundWithoutDepositAccount", "refundreceipt", func() map[string]any {
			m := e.receipt("RF-1")
			delete(m, "DepositToAccountRef")
			return m
		}, "2020", "DepositToAccountRef"},
		{"InvoiceWithoutCustomer", "invoice", func() map[string]any {
			m := e.invoice("1")
			delete(m, "CustomerRef")
			return m
		}, "2020", "CustomerRef"},
		{"PaymentWithoutCustomer", "payment", func() map[string]any {
			return map[string]any{"TotalAmt": json.Number("1")}
		}, "2020", "CustomerRef"},
		{"ForeignCurrency", "salesreceipt", func() map[string]any {
			m := e.receipt("1")
			m["CurrencyRef"] = map[string]any{"value": "EUR"}
			return m
		}, "6000", "CurrencyRef"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, element := e.post(tt.entity, nil, mustJSON(t, tt.body())).fault(t, http.StatusBadRequest)
			if code != tt.code || element != tt.element {
				t.Errorf("got code %s element %q; want %s %q", code, element, tt.code, tt.element)
			}
		})
	}
	t.Run("DocNumber21OK", func(t *testing.T) {
		e.create("salesreceipt", e.receipt(strings.Repeat("B", 21)))
	})
	t.Run("ShipMethodRefIsFreeText", func(t *testing.T) {
		m := e.receipt("SHIP-1")
		m["ShipMethodRef"] = map[string]any{"value": "UPS", "name": "UPS"}
		e.create("salesreceipt", m)
	})
}

func TestServer_TotalAmt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.receipt("1001",
		itemLine(e.sd.Products["SKU-1"], "1", "0.1", "0.1"),
		itemLine(e.sd.Products["SKU-2"], "1", "0.2", "0.2"),
		discountLine(e.sd.Accounts["Discounts given"], "0.05"),
	)
	m["TotalAmt"] = json.Number("999") // ignored: the server computes it
	sr := e.create("salesreceipt", m)
	if got := str(sr["TotalAmt"]); got != "0.25" {
		t.Errorf("TotalAmt: got %s; want 0.25", got)
	}
	var kinds []string
	for _, l := range list(sr["Line"]) {
		kinds = append(kinds, str(obj(l)["DetailType"])+"="+str(obj(l)["Amount"]))
	}
	want := []string{"SalesItemLineDetail=0.1", "SalesItemLineDetail=0.2", "SubTotalLineDetail=0.3", "DiscountLineDetail=0.05"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	got, _ := e.s.Get("SalesReceipt", str(sr["Id"]))
	if got.TotalAmt.String() != "0.25" {
		t.Errorf("Get TotalAmt: got %s; want 0.25", got.TotalAmt)
	}
}

func TestServer_PaymentLinksInvoice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inv := e.create("invoice", e.invoice("3001", itemLine(e.sd.Products["SKU-3"], "1", "120.00", "120.00")))
	invID := str(inv["Id"])
	pay := map[string]any{"CustomerRef": map[string]any{"value": e.cust}, "TotalAmt": json.Number("100.00"),
		"PaymentRefNum": "CHK-7",
		"Line": []any{map[string]any{"Amount": json.Number("100.00"),
			"LinkedTxn": []any{map[string]any{"TxnId": invID, "TxnType": "Invoice"}}}}}
	p := e.create("payment", pay)
	got, _ := e.s.Get("Invoice", invID)
	if got.Balance.String() != "20" || got.SyncToken != "1" {
		t.Errorf("invoice after payment: got Balance %s SyncToken %s; want 20, 1", got.Balance, got.SyncToken)
	}
	links := list(got.Raw["LinkedTxn"])
	if len(links) != 1 || str(obj(links[0])["TxnId"]) != str(p["Id"]) {
		t.Errorf("invoice LinkedTxn: got %v; want the payment %v", links, p["Id"])
	}
	over := copyMap(pay)
	over["TotalAmt"] = json.Number("30")
	obj(list(over["Line"])[0])["Amount"] = json.Number("30")
	if code, _ := e.post("payment", nil, mustJSON(t, over)).fault(t, 400); code != "6000" {
		t.Errorf("overpaying invoice: got code %s; want 6000", code)
	}
	// Voiding the payment restores the balance.
	e.post("payment", url.Values{"operation": {"update"}, "include": {"void"}},
		mustJSON(t, map[string]any{"Id": p["Id"], "SyncToken": "0", "sparse": true})).ok(t, "Payment")
	got, _ = e.s.Get("Invoice", invID)
	if got.Balance.String() != "120" {
		t.Errorf("invoice balance after payment void: got %s; want 120", got.Balance)
	}
}

func TestServer_Void(t *testing.T) {
	t.Parallel()
	tests := []struct {
		entity string
		q      url.Values
		ok     bool
	}{
		{"invoice", url.Values{"operation": {"void"}}, true},
		{"salesreceipt", url.Values{"operation": {"update"}, "include": {"void"}}, true},
		{"salesreceipt", url.Values{"operation": {"void"}}, false},
		{"payment", url.Values{"operation": {"update"}, "include": {"void"}}, true},
		{"refundreceipt", url.Values{"operation": {"void"}}, true},
		{"refundreceipt", url.Values{"operation": {"update"}, "include": {"void"}}, true},
		{"customer", url.Values{"operation": {"void"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.entity+"?"+tt.q.Encode(), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			var body map[string]any
			switch tt.entity {
			case "payment":
				body = map[string]any{"CustomerRef": map[string]any{"value": e.cust}, "TotalAmt": json.Number("5")}
			case "customer":
				body = map[string]any{"DisplayName": "Someone"}
			default:
				body = e.receipt("V-1")
			}
			key, _ := canonicalEntity(tt.entity)
			id := str(e.create(tt.entity, body)["Id"])
			r := e.post(tt.entity, tt.q, mustJSON(t, map[string]any{"Id": id, "SyncToken": "0", "sparse": true}))
			if !tt.ok {
				r.fault(t, http.StatusBadRequest)
				return
			}
			v := r.ok(t, key)
			if str(v["TotalAmt"]) != "0" || str(v["PrivateNote"]) != "Voided" || str(v["SyncToken"]) != "1" {
				t.Errorf("voided: got TotalAmt %v PrivateNote %v SyncToken %v; want 0, Voided, 1", v["TotalAmt"], v["PrivateNote"], v["SyncToken"])
			}
			e.do(http.MethodGet, tt.entity+"/"+id, nil, "").ok(t, key)
			qr := e.query("select * from "+key+" where Id = '"+id+"'").ok(t, "QueryResponse")
			if len(list(qr[key])) != 1 {
				t.Errorf("voided doc not in query: %v", qr)
			}
		})
	}
}

func TestServer_DeleteAndCDC(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	since := e.clock.Now().Add(-time1h)
	a := e.create("salesreceipt", e.receipt("D-1"))
	b := e.create("salesreceipt", e.receipt("D-2"))
	del := e.post("salesreceipt", url.Values{"operation": {"delete"}},
		mustJSON(t, map[string]any{"Id": a["Id"], "SyncToken": "0"})).ok(t, "SalesReceipt")
	if str(del["status"]) != "Deleted" {
		t.Errorf("delete response: got %v; want status Deleted", del)
	}
	if code, _ := e.do(http.MethodGet, "salesreceipt/"+str(a["Id"]), nil, "").fault(t, 400); code != "610" {
		t.Errorf("read deleted: got code %s; want 610", code)
	}
	if err := e.s.PersonDelete("SalesReceipt", str(b["Id"])); err != nil {
		t.Fatal(err)
	}
	cdc := e.do(http.MethodGet, "cdc", url.Values{"entities": {"SalesReceipt,Invoice"},
		"changedSince": {since.Format("2006-01-02T15:04:05-07:00")}}, "")
	if cdc.status != 200 {
		t.Fatalf("cdc status: got %d; want 200: %s", cdc.status, cdc.raw)
	}
	qrs := list(obj(list(cdc.body["CDCResponse"])[0])["QueryResponse"])
	if len(qrs) != 2 {
		t.Fatalf("cdc QueryResponse entries: got %d; want 2", len(qrs))
	}
	var statuses []string
	for _, r := range list(obj(qrs[0])["SalesReceipt"]) {
		statuses = append(statuses, str(obj(r)["Id"])+":"+str(obj(r)["status"]))
	}
	want := []string{str(a["Id"]) + ":Deleted", str(b["Id"]) + ":Deleted"}
	if diff := cmp.Diff(want, statuses); diff != "" {
		t.Errorf("cdc SalesReceipt (-want +got):\n%s", diff)
	}
	if len(obj(qrs[1])) != 0 {
		t.Errorf("cdc Invoice: got %v; want {}", qrs[1])
	}
	t.Run("ErrTooOld", func(t *testing.T) {
		e.do(http.MethodGet, "cdc", url.Values{"entities": {"Invoice"},
			"changedSince": {e.clock.Now().Add(-31 * 24 * time1h).Format("2006-01-02T15:04:05Z07:00")}}, "").fault(t, 400)
	})
	t.Run("ErrDeleteNameList", func(t *testing.T) {
		e.post("customer", url.Values{"operation": {"delete"}}, mustJSON(t, map[string]any{"Id": e.cust, "SyncToken": "0"})).fault(t, 400)
	})
}

func TestServer_DuplicateNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, name := range []string{"Jane Doe", "jane doe", "Acme Supplies"} {
		t.Run(name, func(t *testing.T) {
			code, _ := e.post("customer", nil, mustJSON(t, map[string]any{"DisplayName": name})).fault(t, 400)
			if code != "6240" {
				t.Errorf("code: got %s; want 6240", code)
			}
		})
	}
	t.Run("Colon", func(t *testing.T) {
		e.post("customer", nil, mustJSON(t, map[string]any{"DisplayName": "A:B"})).fault(t, 400)
	})
	t.Run("OK", func(t *testing.T) {
		c := e.create("customer", map[string]any{"GivenName": "John", "FamilyName": "Smith"})
		if str(c["DisplayName"]) != "John Smith" || c["Active"] != true {
			t.Errorf("got DisplayName %v Active %v; want John Smith, true", c["DisplayName"], c["Active"])
		}
	})
}

func TestServer_DuplicateDocNumber(t *testing.T) {
	t.Parallel()
	t.Run("AcceptedByDefault", func(t *testing.T) {
		e := newEnv(t)
		e.create("salesreceipt", e.receipt("1001"))
		e.create("salesreceipt", e.receipt("1001"))
		if n := len(e.s.Entities("SalesReceipt")); n != 2 {
			t.Errorf("got %d receipts; want 2", n)
		}
	})
	t.Run("FaultWhenWarningOn", func(t *testing.T) {
		e := newEnv(t, WithDuplicateDocNumberFault(true))
		e.create("salesreceipt", e.receipt("1001"))
		if code, _ := e.post("salesreceipt", nil, mustJSON(t, e.receipt("1001"))).fault(t, 400); code != "6140" {
			t.Errorf("code: got %s; want 6140", code)
		}
		e.post("salesreceipt", url.Values{"include": {"allowduplicatedocnum"}}, mustJSON(t, e.receipt("1001"))).ok(t, "SalesReceipt")
	})
}

func TestServer_PersonEdit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sr := e.create("salesreceipt", e.receipt("P-1"))
	id := str(sr["Id"])
	if err := e.s.PersonEdit("SalesReceipt", id, func(m map[string]any) { m["PrivateNote"] = "changed by Jane" }); err != nil {
		t.Fatal(err)
	}
	sr["PrivateNote"] = "mine"
	if code, _ := e.post("salesreceipt", nil, mustJSON(t, sr)).fault(t, 400); code != "5010" {
		t.Errorf("update after person edit: got code %s; want 5010", code)
	}
	if err := e.s.PersonVoid("SalesReceipt", id); err != nil {
		t.Fatal(err)
	}
	got, _ := e.s.Get("SalesReceipt", id)
	if !got.Voided || got.SyncToken != "2" || !got.TotalAmt.IsZero() {
		t.Errorf("after person void: got %+v; want voided, SyncToken 2, TotalAmt 0", got)
	}
	if err := e.s.PersonEdit("SalesReceipt", "999", func(map[string]any) {}); err == nil {
		t.Errorf("PersonEdit unknown id: got nil error; want ErrNotFound")
	}
}

func TestServer_AuthAndRealm(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.tok = ""
	if code, _ := e.do(http.MethodGet, "customer/"+e.cust, nil, "").fault(t, 401); code != "3200" {
		t.Errorf("no token: got code %s; want 3200", code)
	}
	e.tok = "bogus"
	e.do(http.MethodGet, "customer/"+e.cust, nil, "").fault(t, 401)
	e.tok = e.s.IssueAccessToken()
	e.doURL(http.MethodGet, e.s.URL+"/v3/company/123/customer/"+e.cust, nil, "", "").fault(t, 403)
	e.clock.Advance(59 * time1m)
	e.do(http.MethodGet, "customer/"+e.cust, nil, "").ok(t, "Customer")
	e.clock.Advance(time1m)
	if code, _ := e.do(http.MethodGet, "customer/"+e.cust, nil, "").fault(t, 401); code != "3200" {
		t.Errorf("expired: got code %s; want 3200", code)
	}
	e.tok = e.s.IssueAccessToken()
	e.s.ExpireAccessTokens()
	e.do(http.MethodGet, "customer/"+e.cust, nil, "").fault(t, 401)
}
