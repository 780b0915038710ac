package bigcommerce

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/velocity"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustTime(t testing.TB, layout, s string) time.Time {
	t.Helper()
	v, err := time.Parse(layout, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// recordedOrder is orders_list_2013.json as it must decode, field by field.
func recordedOrder(t testing.TB) Order {
	created := NewTime(mustTime(t, rfc2822, "Sun, 24 Mar 2013 23:07:53 +0000"))
	zero := MustMoney("0.0000")
	return Order{
		ID: 100, CustomerID: 1,
		DateCreated: created, DateModified: created,
		StatusID: StatusAwaitingFulfillment, Status: "Awaiting Fulfillment",
		SubtotalExTax: MustMoney("158.95"), SubtotalIncTax: MustMoney("158.95"), SubtotalTax: zero,
		BaseShippingCost: zero, ShippingCostExTax: zero, ShippingCostIncTax: zero, ShippingCostTax: zero,
		BaseHandlingCost: zero, HandlingCostExTax: zero, HandlingCostIncTax: zero, HandlingCostTax: zero,
		BaseWrappingCost: zero, WrappingCostExTax: zero, WrappingCostIncTax: zero, WrappingCostTax: zero,
		TotalExTax: MustMoney("158.95"), TotalIncTax: MustMoney("158.95"), TotalTax: zero,
		ItemsTotal:     3,
		RefundedAmount: zero, StoreCreditAmount: zero, GiftCertificateAmount: zero,
		DiscountAmount: zero, CouponDiscount: zero,
		CurrencyCode: "USD", CurrencyExchangeRate: "1.0000000000", DefaultCurrencyCode: "USD",
		ShippingAddressCount: 1,
		BillingAddress: Address{
			State: "Florida", Zip: "94041", Country: "United States", CountryISO2: "US",
			Email: "test.customer@foobar.xyz.com",
		},
		Products: &Resource{
			URL:      "https://store-vnh06c71.mybigcommerce.com/api/v2/orders/100/products.json",
			Resource: "/orders/100/products",
		},
		ShippingAddresses: &Resource{
			URL:      "https://store-vnh06c71.mybigcommerce.com/api/v2/orders/100/shippingaddresses.json",
			Resource: "/orders/100/shippingaddresses",
		},
		Coupons: &Resource{
			URL:      "https://store-vnh06c71.mybigcommerce.com/api/v2/orders/100/coupons.json",
			Resource: "/orders/100/coupons",
		},
	}
}

func TestDecodeOrders_Recorded(t *testing.T) {
	got, bad, err := DecodeOrders(readTestdata(t, "bigcommerce-api-ruby/orders_list_2013.json"))
	if err != nil || len(bad) > 0 {
		t.Fatalf("DecodeOrders: bad %v, err %v; want none", bad, err)
	}
	want := []Order{recordedOrder(t)}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("recorded order (-want +got):\n%s", d)
	}
}

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "62.6793", want: "62.6793"},
		{in: "924.47", want: "924.47"},
		{in: "0", want: "0"},
		{in: "-10.2", want: "-10.2"},
		{in: "1.0000000000", want: "1"},
		{in: "0.1", want: "0.1"},
		{in: "1.23456", err: `"1.23456" has more than 4 significant decimal places`},
		{in: "1.00000000000", err: `"1.00000000000" has more than 10 decimal places`},
		{in: "1e5", err: `"1e5" is not a decimal number`},
		{in: "+1", err: `"+1" is not a decimal number`},
		{in: ".5", err: `".5" is not a decimal number`},
		{in: "5.", err: `"5." is not a decimal number`},
		{in: " 5", err: `" 5" is not a decimal number`},
		{in: "1234567890123456", err: `"1234567890123456" has more than 15 integer digits`},
		{in: "", err: "empty string; want a decimal"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseAmount(tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("ParseAmount(%q) = %v, %v; want error %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Fatalf("ParseAmount(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestMoney_JSON(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{`"62.6793"`, `"62.6793"`},
		{`62.6793`, `"62.6793"`},
		{`"924.47"`, `"924.4700"`},
		{`0`, `"0.0000"`},
		{`null`, `"0.0000"`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var m Money
			if err := json.Unmarshal([]byte(tc.in), &m); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(m)
			if err != nil || string(got) != tc.want {
				t.Errorf("Money %s round trip = %s, %v; want %s", tc.in, got, err, tc.want)
			}
			var a Amount
			if err := json.Unmarshal([]byte(tc.in), &a); err != nil {
				t.Fatal(err)
			}
			if !a.Decimal.Equal(m.Decimal) {
				t.Errorf("Amount %s = %s; want %s", tc.in, a, m)
			}
		})
	}
}

func TestTime_JSON(t *testing.T) {
	want := mustTime(t, time.RFC3339, "2019-03-05T21:40:11Z")
	for _, in := range []string{
		`"Tue, 05 Mar 2019 21:40:11 +0000"`,
		`"Tue, 5 Mar 2019 21:40:11 +0000"`,
		`"05 Mar 2019 16:40:11 -0500"`,
		`"2019-03-05T21:40:11Z"`,
	} {
		t.Run(in, func(t *testing.T) {
			var got Time
			if err := json.Unmarshal([]byte(in), &got); err != nil {
				t.Fatal(err)
			}
			if !got.Time.Equal(want) {
				t.Errorf("Time %s = %v; want %v", in, got, want)
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		var got Time
		if err := json.Unmarshal([]byte(`""`), &got); err != nil || !got.IsZero() {
			t.Fatalf(`Time "" = %v, %v; want zero`, got, err)
		}
		b, _ := json.Marshal(got)
		if string(b) != `""` {
			t.Errorf(`zero Time marshals as %s; want ""`, b)
		}
	})
}

func TestDecode_ObjectErrors(t *testing.T) {
	type decodeFunc func([]byte) (int, []*velocity.ObjectError, error)
	orders := func(b []byte) (int, []*velocity.ObjectError, error) {
		o, bad, err := DecodeOrders(b)
		return len(o), bad, err
	}
	products := func(b []byte) (int, []*velocity.ObjectError, error) {
		o, bad, err := DecodeOrderProducts(b)
		return len(o), bad, err
	}
	refunds := func(b []byte) (int, []*velocity.ObjectError, error) {
		p, bad, err := DecodeRefunds(b)
		return len(p.Data), bad, err
	}
	variants := func(b []byte) (int, []*velocity.ObjectError, error) {
		p, bad, err := DecodeVariants(b)
		return len(p.Data), bad, err
	}
	customers := func(b []byte) (int, []*velocity.ObjectError, error) {
		p, bad, err := DecodeCustomers(b)
		return len(p.Data), bad, err
	}
	for _, tc := range []struct {
		name   string
		decode decodeFunc
		body   string
		good   int
		want   []*velocity.ObjectError
	}{
		{
			name: "order money with too many places", decode: orders,
			body: `[{"id": 7, "total_inc_tax": "1.23456"}, {"id": 8}]`, good: 1,
			want: []*velocity.ObjectError{{Kind: "order", ID: "7", Reason: `total_inc_tax: "1.23456" has more than 4 significant decimal places`}},
		},
		{
			name: "order date", decode: orders,
			body: `[{"id": 7, "date_created": "yesterday"}]`,
			want: []*velocity.ObjectError{{Kind: "order", ID: "7", Reason: `date_created: "yesterday" is not an RFC 2822 date`}},
		},
		{
			name: "order status id a string", decode: orders,
			body: `[{"id": 7, "status_id": "11"}]`,
			want: []*velocity.ObjectError{{Kind: "order", ID: "7", Reason: `status_id: "11" is not an integer`}},
		},
		{
			name: "billing address field", decode: orders,
			body: `[{"id": 7, "billing_address": {"zip": 94041}}]`,
			want: []*velocity.ObjectError{{Kind: "order", ID: "7", Reason: `billing_address.zip: 94041 is not a string`}},
		},
		{
			name: "consignment line item", decode: orders,
			body: `[{"id": 7, "consignments": {"shipping": [{"id": 1, "line_items": [{"id": 5, "order_id": 7, "price_ex_tax": "1.2.3"}]}]}}]`,
			want: []*velocity.ObjectError{{Kind: "order", ID: "7", Reason: `consignments.shipping[0].line_items[0].price_ex_tax: "1.2.3" is not a decimal number`}},
		},
		{
			name: "fee cost", decode: orders,
			body: `[{"id": 7, "fees": [{"id": 1, "cost_inc_tax": true}]}]`,
			want: []*velocity.ObjectError{{Kind: "order", ID: "7", Reason: `fees[0].cost_inc_tax: true is not a decimal string or number`}},
		},
		{
			name: "not an object", decode: orders,
			body: `[3]`,
			want: []*velocity.ObjectError{{Kind: "order", Reason: `element 0: 3 is not an object`}},
		},
		{
			name: "order product names its order", decode: products,
			body: `[{"id": 65, "order_id": 120, "quantity": 1.5}]`,
			want: []*velocity.ObjectError{{Kind: "order", ID: "120", Reason: `product 65: quantity: 1.5 is not an integer`}},
		},
		{
			name: "refund item amount", decode: refunds,
			body: `{"data": [{"id": 3, "order_id": 120, "items": [{"item_type": "SHIPPING", "requested_amount": "x"}]}], "meta": {}}`,
			want: []*velocity.ObjectError{{Kind: "order", ID: "120", Reason: `refund 3: items[0].requested_amount: "x" is not a decimal number`}},
		},
		{
			name: "refund created", decode: refunds,
			body: `{"data": [{"id": 3, "order_id": 120, "created": "Tue, 05 Mar 2019 21:40:11 +0000"}]}`,
			want: []*velocity.ObjectError{{Kind: "order", ID: "120", Reason: `refund 3: created: "Tue, 05 Mar 2019 21:40:11 +0000" is not an RFC 3339 date-time`}},
		},
		{
			name: "variant names its product", decode: variants,
			body: `{"data": [{"id": 9, "product_id": 4, "price": [1]}], "meta": {"pagination": {"total": 1}}}`,
			want: []*velocity.ObjectError{{Kind: "product", ID: "4", Reason: `variant 9: price: [1] is not a decimal string or number`}},
		},
		{
			name: "customer address", decode: customers,
			body: `{"data": [{"id": 2, "addresses": [{"id": 1, "postal_code": 1}]}]}`,
			want: []*velocity.ObjectError{{Kind: "customer", ID: "2", Reason: `addresses[0].postal_code: 1 is not a string`}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			good, bad, err := tc.decode([]byte(tc.body))
			if err != nil {
				t.Fatalf("err = %v; want nil", err)
			}
			if good != tc.good {
				t.Errorf("decoded %d objects; want %d", good, tc.good)
			}
			if d := cmp.Diff(tc.want, bad); d != "" {
				t.Errorf("object errors (-want +got):\n%s", d)
			}
		})
	}
}

func TestDecode_BodyErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  func() error
	}{
		{"orders html", func() error { _, _, err := DecodeOrders([]byte("<html>503</html>")); return err }},
		{"orders object", func() error { _, _, err := DecodeOrders([]byte(`{"status": 401}`)); return err }},
		{"orders cut off", func() error { _, _, err := DecodeOrders([]byte(`[{"id": 1}, {"id"`)); return err }},
		{"order array", func() error { _, err := DecodeOrder([]byte(`[]`)); return err }},
		{"refunds array", func() error { _, _, err := DecodeRefunds([]byte(`[]`)); return err }},
		{"refunds data object", func() error { _, _, err := DecodeRefunds([]byte(`{"data": {}}`)); return err }},
		{"customers bad meta", func() error {
			_, _, err := DecodeCustomers([]byte(`{"data": [], "meta": {"pagination": {"total_pages": "2"}}}`))
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if !IsBodyError(err) {
				t.Errorf("err = %v; want a body error", err)
			}
		})
	}
	t.Run("meta names the field", func(t *testing.T) {
		_, _, err := DecodeCustomers([]byte(`{"data": [], "meta": {"pagination": {"total_pages": "2"}}}`))
		if want := `meta.pagination.total_pages: "2" is not an integer`; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v; want it to contain %q", err, want)
		}
	})
	t.Run("204 is empty", func(t *testing.T) {
		o, bad, err := DecodeShipments(nil)
		if len(o) != 0 || len(bad) != 0 || err != nil {
			t.Errorf("DecodeShipments(empty) = %v, %v, %v; want nothing", o, bad, err)
		}
		p, bad2, err := DecodeTransactions([]byte(" "))
		if len(p.Data) != 0 || len(bad2) != 0 || err != nil {
			t.Errorf("DecodeTransactions(empty) = %v, %v, %v; want nothing", p, bad2, err)
		}
	})
}

func TestConsignments_Forms(t *testing.T) {
	product := `{"id": 12, "order_id": 129, "product_id": 3, "variant_id": 8, "sku": "A-1", "quantity": 2, "price_ex_tax": "5.1000"}`
	for _, tc := range []struct {
		name string
		body string
		want *Consignments
	}{
		{
			name: "object with line items",
			body: `{"pickups": [], "shipping": [{"id": 99, "first_name": "Jane", "line_items": [` + product + `], "cost_inc_tax": 6.2}], "downloads": [], "email": {"gift_certificates": []}}`,
			want: &Consignments{
				Pickups: []PickupConsignment{},
				Shipping: []ShippingConsignment{{
					ShippingAddress: ShippingAddress{ID: 99, Address: Address{FirstName: "Jane"}, CostIncTax: MustMoney("6.2")},
					LineItems:       LineItems{Items: []OrderProduct{{ID: 12, OrderID: 129, ProductID: 3, VariantID: 8, SKU: "A-1", Quantity: 2, PriceExTax: MustMoney("5.1")}}},
				}},
				Downloads: []DigitalConsignment{},
				Email:     EmailConsignments{GiftCertificates: []DigitalConsignment{}},
			},
		},
		{
			name: "array structure",
			body: `[{"shipping": [{"id": 1}]}, {"shipping": [{"id": 2, "line_items": [{"url": "u", "resource": "/orders/1/products/3"}]}]}]`,
			want: &Consignments{Shipping: []ShippingConsignment{
				{ShippingAddress: ShippingAddress{ID: 1}},
				{ShippingAddress: ShippingAddress{ID: 2}, LineItems: LineItems{Links: []Resource{{URL: "u", Resource: "/orders/1/products/3"}}}},
			}},
		},
		{
			name: "link",
			body: `{"url": "https://x/v2/orders/1/consignments", "resource": "/orders/1/consignments"}`,
			want: &Consignments{Link: &Resource{URL: "https://x/v2/orders/1/consignments", Resource: "/orders/1/consignments"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := DecodeOrder([]byte(`{"id": 1, "consignments": ` + tc.body + `}`))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, o.Consignments); d != "" {
				t.Errorf("consignments (-want +got):\n%s", d)
			}
		})
	}
}

// TestWire_RoundTrip checks that what the structs encode decodes to the
// same values, so a fake server built on them speaks what they read.
func TestWire_RoundTrip(t *testing.T) {
	o := recordedOrder(t)
	o.IsTaxInclusivePricing = true
	o.PaymentMethod = "PO"
	o.PaymentProviderID = "12345"
	o.DateShipped = NewTime(mustTime(t, rfc2822, "Mon, 25 Mar 2013 10:00:00 -0500"))
	o.Fees = &Fees{Items: []Fee{{ID: 1, Type: "custom_fee", DisplayNameMerchant: "Insurance", CostIncTax: MustMoney("10"), CostExTax: MustMoney("8.5")}}}
	o.Consignments = &Consignments{Shipping: []ShippingConsignment{{
		ShippingAddress: ShippingAddress{ID: 4, CostIncTax: MustMoney("6.2")},
		LineItems:       LineItems{Items: []OrderProduct{{ID: 5, ProductID: 6, VariantID: 7, Quantity: 3, PriceIncTax: MustMoney("19.9999")}}},
	}}}
	b, err := json.Marshal([]Order{o})
	if err != nil {
		t.Fatal(err)
	}
	got, bad, err := DecodeOrders(b)
	if err != nil || len(bad) > 0 {
		t.Fatalf("DecodeOrders(marshalled) bad %v, err %v", bad, err)
	}
	if d := cmp.Diff([]Order{o}, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}

	created := mustTime(t, time.RFC3339, "2024-05-14T09:34:00Z")
	rp := Page[Refund]{
		Data: []Refund{{ID: 1, OrderID: 100, Created: created, TotalAmount: MustAmount("12.34"), TotalTax: MustAmount("-0.5"),
			Items:    []RefundItem{{ItemType: ItemProduct, ItemID: 5, Quantity: 1, RequestedAmount: ptr(MustAmount("11.84"))}},
			Payments: []RefundPayment{{ID: 2, ProviderID: "storecredit", Amount: MustAmount("12.34"), Offline: true}}}},
		Meta: Meta{Pagination: &Pagination{Total: 1, Count: 1, PerPage: 50, CurrentPage: 1, TotalPages: 1}},
	}
	b, err = json.Marshal(rp)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"total_amount":12.34`) {
		t.Errorf("v3 amount encoded as %s; want a JSON number", b)
	}
	gotRP, bad, err := DecodeRefunds(b)
	if err != nil || len(bad) > 0 {
		t.Fatalf("DecodeRefunds(marshalled) bad %v, err %v", bad, err)
	}
	if d := cmp.Diff(rp, gotRP); d != "" {
		t.Errorf("refunds round trip (-want +got):\n%s", d)
	}
}
