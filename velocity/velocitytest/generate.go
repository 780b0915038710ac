package velocitytest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/velocity"
)

// GenOptions sizes a generated dataset. Zero fields take the defaults.
type GenOptions struct {
	Customers int // default 50
	Products  int // default 100
	Orders    int // default 200
	// Invalid is how many deliberately invalid orders to add (raw JSON,
	// each with the reason a decoder must report).
	Invalid int
	// Start is when the first order is placed (default 2026-01-05T09:00:00Z).
	Start time.Time
	// Span is the time over which orders are placed (default 90 days).
	Span time.Duration
}

func (o GenOptions) withDefaults() GenOptions {
	if o.Customers <= 0 {
		o.Customers = 50
	}
	if o.Products <= 0 {
		o.Products = 100
	}
	if o.Orders < 0 {
		o.Orders = 0
	} else if o.Orders == 0 {
		o.Orders = 200
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	}
	if o.Span <= 0 {
		o.Span = 90 * 24 * time.Hour
	}
	return o
}

// Dataset is a generated store: valid customers, products and orders, plus
// deliberately invalid objects.
type Dataset struct {
	Customers []velocity.Customer
	Products  []velocity.Product
	Orders    []*velocity.Order
	Invalid   []InvalidObject
}

// InvalidObject is a raw JSON object that a decoder must reject; Reason is
// a substring of the *velocity.ObjectError reason it must give.
type InvalidObject struct {
	Kind   string
	ID     string
	JSON   []byte
	Reason string
}

// Generate builds a realistic dataset from seed. The same seed and options
// give the same dataset, byte for byte once written. Every valid order has
// Total equal to ComputedTotal exactly, refunds that never exceed what was
// charged, and an order number short enough for a RF-<number>-<n> QBO
// DocNumber (≤ 21 characters).
func Generate(seed int64, opts GenOptions) *Dataset {
	opts = opts.withDefaults()
	g := newGen(seed, opts)
	ds := &Dataset{Customers: g.customers, Products: g.products}
	ds.Orders = make([]*velocity.Order, 0, opts.Orders)
	for i := range opts.Orders {
		ds.Orders = append(ds.Orders, g.order(i))
	}
	for i := range opts.Invalid {
		ds.Invalid = append(ds.Invalid, g.invalid(i))
	}
	return ds
}

// WriteNDJSON writes the dataset as a Velocity export: customers,
// products, orders, then the invalid objects, one per line.
func (ds *Dataset) WriteNDJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	e := &lineEncoder{w: bw}
	for i := range ds.Customers {
		e.write(velocity.KindCustomer, &ds.Customers[i])
	}
	for i := range ds.Products {
		e.write(velocity.KindProduct, &ds.Products[i])
	}
	for _, o := range ds.Orders {
		e.write(velocity.KindOrder, o)
	}
	for _, inv := range ds.Invalid {
		e.writeRaw(inv.Kind, inv.JSON)
	}
	if e.err != nil {
		return fmt.Errorf("write ndjson: %w", e.err)
	}
	return bw.Flush()
}

// WriteNDJSON streams a generated export of nOrders orders (with the
// default numbers of customers and products, and no invalid objects) in
// constant memory: orders are generated and written one at a time. It
// writes the same orders as Generate(seed, GenOptions{Orders: nOrders}).
func WriteNDJSON(w io.Writer, seed int64, nOrders int) error {
	opts := GenOptions{Orders: nOrders}.withDefaults()
	opts.Orders = nOrders
	g := newGen(seed, opts)
	bw := bufio.NewWriterSize(w, 1<<20)
	e := &lineEncoder{w: bw}
	for i := range g.customers {
		e.write(velocity.KindCustomer, &g.customers[i])
	}
	for i := range g.products {
		e.write(velocity.KindProduct, &g.products[i])
	}
	for i := 0; i < nOrders && e.err == nil; i++ {
		e.write(velocity.KindOrder, g.order(i))
	}
	if e.err != nil {
		return fmt.Errorf("write ndjson: %w", e.err)
	}
	return bw.Flush()
}

type lineEncoder struct {
	w   *bufio.Writer
	buf []byte
	err error
}

func (e *lineEncoder) write(kind string, v any) {
	if e.err != nil {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		e.err = err
		return
	}
	e.writeRaw(kind, data)
}

// writeRaw writes {"type":kind,...} with "type" first, as Velocity's
// exporter does.
func (e *lineEncoder) writeRaw(kind string, obj []byte) {
	if e.err != nil {
		return
	}
	e.buf = append(e.buf[:0], `{"type":"`...)
	e.buf = append(e.buf, kind...)
	e.buf = append(e.buf, '"')
	if len(obj) > 2 {
		e.buf = append(e.buf, ',')
	}
	e.buf = append(e.buf, obj[1:]...)
	e.buf = append(e.buf, '\n')
	_, e.err = e.w.Write(e.buf)
}

// ---- generator ----

type gen struct {
	opts      GenOptions
	seed      int64
	customers []velocity.Customer
	products  []velocity.Product
}

var (
	firstNames = []string{"Ana", "José", "Zoë", "Björn", "Chloé", "Mei", "Hiroshi", "Priya", "Olamide", "Liam", "Fatima", "Søren", "Noémie", "Wei", "Carlos", "Emily", "Ægir", "Łukasz"}
	lastNames  = []string{"García", "Müller", "Nakamura", "O'Brien", "Dubois", "Smith", "Kowalski", "Hernández", "Nguyen", "Johansson", "Okafor", "Rossi", "Chen", "Patel"}
	companies  = []string{"Acme Supply Co.", "Café Olé LLC", "日本商事株式会社", "Nordlys AS", "🚀 Rocket Parts", "Bäckerei Schön", "Smith & Sons", "Zürich Tools AG", "Maple Leaf Trading", "Þór Hardware", "Crème Brûlée Bakery", "", ""}
	cities     = []struct{ city, state, zip, country string }{
		{"Austin", "TX", "78701", "US"}, {"Portland", "OR", "97205", "US"}, {"Montréal", "QC", "H2Y 1C6", "CA"},
		{"San José", "CA", "95113", "US"}, {"東京", "東京都", "100-0001", "JP"}, {"Brooklyn", "NY", "11201", "US"},
		{"Zürich", "ZH", "8001", "CH"}, {"Chicago", "IL", "60601", "US"}, {"Denver", "CO", "80202", "US"},
	}
	streets     = []string{"Main St", "Rue Sainte-Catherine", "Elm Ave", "Calle Mayor", "Bahnhofstraße", "銀座通り", "Oak Blvd", "Market St"}
	domains     = []string{"example.com", "example.org", "example.net", "mail.example"}
	productAdj  = []string{"Deluxe", "Classic", "Eco", "Pro", "Mini", "Ultra", "Crème", "Nordic", "Premium"}
	productNoun = []string{"Widget", "Gasket", "Café Beans 1kg", "Bolt Pack", "Filter", "抹茶 Tea", "Valve", "Cable 2m", "Glove Pair ✋", "Sealant"}
	carriers    = []string{"UPS", "FedEx", "USPS", "DHL"}
	methods     = []string{"Ground", "2nd Day Air", "Priority", "Express"}
	customDescs = []string{"Rush fee", "Pallet fee", "Loyalty credit", "Restocking fee", "Price adjustment", "Fuel surcharge"}
	reasons     = []string{"damaged in transit", "customer changed mind", "wrong item", "late delivery", "shipping overcharge"}
)

func newGen(seed int64, opts GenOptions) *gen {
	g := &gen{opts: opts, seed: seed}
	r := g.rng(0, 1)
	custBase := opts.Start.Add(-30 * 24 * time.Hour)
	g.customers = make([]velocity.Customer, opts.Customers)
	for i := range g.customers {
		fn, ln := pick(r, firstNames), pick(r, lastNames)
		co := pick(r, companies)
		addr := g.address(r, fn+" "+ln, co)
		c := velocity.Customer{
			ID:              "cus_" + strconv.Itoa(i+1),
			Number:          fmt.Sprintf("C%05d", i+1),
			FirstName:       fn,
			LastName:        ln,
			Company:         co,
			Email:           fmt.Sprintf("buyer%d@%s", i+1, pick(r, domains)),
			Phone:           fmt.Sprintf("+1-555-%03d-%04d", r.IntN(1000), r.IntN(10000)),
			BillingAddress:  addr,
			ShippingAddress: addr,
			UpdatedAt:       custBase.Add(time.Duration(i) * time.Minute),
		}
		if r.IntN(5) == 0 {
			c.ShippingAddress = g.address(r, fn+" "+ln, co)
		}
		if r.IntN(3) == 0 {
			c.OrganizationID = "org_" + strconv.Itoa(1+r.IntN(max(1, opts.Customers/5)))
		}
		g.customers[i] = c
	}
	g.products = make([]velocity.Product, opts.Products)
	for i := range g.products {
		g.products[i] = velocity.Product{
			ID:        "prod_" + strconv.Itoa(i+1),
			SKU:       fmt.Sprintf("SKU-%05d", i+1),
			Name:      pick(r, productAdj) + " " + pick(r, productNoun),
			Price:     cents(int64(99 + r.IntN(25000))),
			Active:    r.IntN(20) != 0,
			UpdatedAt: custBase.Add(time.Duration(i) * time.Second),
		}
	}
	return g
}

// rng returns the random stream of one object, so that order i is the same
// whether it is generated in a Dataset or streamed.
func (g *gen) rng(stream, i uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(g.seed), stream<<56^i))
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func cents(c int64) decimal.Decimal { return decimal.New(c, -2) }

func (g *gen) address(r *rand.Rand, name, company string) velocity.Address {
	c := pick(r, cities)
	a := velocity.Address{
		Name:       name,
		Company:    company,
		Line1:      fmt.Sprintf("%d %s", 1+r.IntN(9999), pick(r, streets)),
		City:       c.city,
		State:      c.state,
		PostalCode: c.zip,
		Country:    c.country,
	}
	if r.IntN(4) == 0 {
		a.Line2 = "Suite " + strconv.Itoa(100+r.IntN(900))
	}
	return a
}

func tp(t time.Time) *time.Time { return &t }

// order generates order i. All money is worked out in integer cents, so
// the total identity holds exactly by construction.
func (g *gen) order(i int) *velocity.Order {
	r := g.rng(1, uint64(i))
	cust := &g.customers[r.IntN(len(g.customers))]
	step := g.opts.Span / time.Duration(max(1, g.opts.Orders))
	created := g.opts.Start.Add(time.Duration(i)*step + time.Duration(r.IntN(60))*time.Second).Truncate(time.Second)
	o := &velocity.Order{
		ID:              "ord_" + strconv.Itoa(i+1),
		Number:          strconv.Itoa(100001 + i),
		CustomerID:      cust.ID,
		Currency:        "USD",
		Email:           cust.Email,
		BillingAddress:  cust.BillingAddress,
		ShippingAddress: cust.ShippingAddress,
		CreatedAt:       created,
	}

	nLines := 1 + r.IntN(3)
	if r.IntN(5) == 0 {
		nLines += r.IntN(6)
	}
	lc := make([]lineAmt, nLines)
	var subtotal int64
	for j := range nLines {
		p := &g.products[r.IntN(len(g.products))]
		unit := p.Price.Shift(2).IntPart()
		qty := int64(1+r.IntN(12)) * 100
		if r.IntN(20) == 0 {
			// Fractional quantities keep the line amount in whole cents:
			// the unit price is a multiple of 4 cents.
			qty = pick(r, []int64{25, 50, 75, 150, 250})
			unit = max(4, unit-unit%4)
		}
		lc[j] = lineAmt{qty, unit}
		subtotal += qty * unit / 100
		o.Lines = append(o.Lines, velocity.OrderLine{
			ID:        o.ID + "-l" + strconv.Itoa(j+1),
			ProductID: p.ID,
			SKU:       p.SKU,
			Name:      p.Name,
			Quantity:  decimal.New(qty, -2),
			UnitPrice: cents(unit),
		})
	}
	var shipping, handling, tax, discount, custom int64
	if r.IntN(10) < 7 {
		shipping = int64(500 + r.IntN(4500))
	}
	if r.IntN(7) == 0 {
		handling = int64(100 + r.IntN(900))
	}
	if r.IntN(5) == 0 {
		discount = subtotal * int64(1+r.IntN(15)) / 100
	}
	if r.IntN(10) < 6 {
		tax = (subtotal - discount) * int64(r.IntN(1000)) / 10000
	}
	if r.IntN(10) == 0 {
		for k := range 1 + r.IntN(2) {
			a := int64(r.IntN(5000) - 2000)
			if a == 0 {
				a = 100
			}
			custom += a
			o.CustomAmounts = append(o.CustomAmounts, velocity.CustomAmount{
				ID: o.ID + "-c" + strconv.Itoa(k+1), Description: pick(r, customDescs), Amount: cents(a),
			})
		}
	}
	total := subtotal + shipping + handling + tax - discount + custom
	if total <= 0 {
		discount, custom, o.CustomAmounts = 0, 0, nil
		total = subtotal + shipping + handling + tax
	}
	o.ShippingTotal, o.HandlingTotal, o.TaxTotal, o.DiscountTotal = cents(shipping), cents(handling), cents(tax), cents(discount)
	o.Total = cents(total)

	// Payment method and terms.
	switch x := r.IntN(100); {
	case x < 60:
		o.PaymentMethod = velocity.MethodCreditCard
	case x < 75:
		o.PaymentMethod = velocity.MethodACH
	case x < 80:
		o.PaymentMethod = pick(r, []string{velocity.MethodCheck, velocity.MethodWire, velocity.MethodStoreCredit})
	default:
		o.PaymentMethod = velocity.MethodTerms
		o.PaymentTerms = &velocity.PaymentTerms{NetDays: pick(r, []int{15, 30, 60})}
	}

	updated := created
	bump := func(t time.Time) {
		if t.After(updated) {
			updated = t
		}
	}
	switch x := r.IntN(100); {
	case x < 6: // never approved, still pending
		o.Status = pick(r, []string{velocity.StatusPending, velocity.StatusAwaitingPayment})
	case x < 8: // never approved, then cancelled or declined
		o.Status = pick(r, []string{velocity.StatusCancelled, velocity.StatusDeclined})
		if o.Status == velocity.StatusCancelled {
			o.CancelledAt = tp(created.Add(time.Duration(1+r.IntN(72)) * time.Hour))
			bump(*o.CancelledAt)
		}
	default:
		approved := created.Add(time.Duration(r.IntN(48*60)) * time.Minute)
		o.ApprovedAt = tp(approved)
		bump(approved)
		o.Status = velocity.StatusAwaitingFulfillment
		if o.PaymentTerms == nil && r.IntN(20) == 0 {
			o.ReportAsInvoice = true
		}
		if x < 11 { // approved, then cancelled
			o.CancelledAt = tp(approved.Add(time.Duration(1+r.IntN(72)) * time.Hour))
			o.Status = velocity.StatusCancelled
			bump(*o.CancelledAt)
			break
		}
		g.fulfil(r, o, approved, bump)
		g.pay(r, o, total, approved, bump)
		g.refund(r, o, lc, shipping, tax, total, bump)
	}
	o.UpdatedAt = updated
	return o
}

// lineAmt is an order line in integer units: quantity in hundredths,
// unit price in cents.
type lineAmt struct{ qtyX100, unit int64 }

func (g *gen) fulfil(r *rand.Rand, o *velocity.Order, approved time.Time, bump func(time.Time)) {
	n := r.IntN(4) // 0..3 shipments
	if n == 0 {
		return
	}
	at := approved
	for k := range n {
		at = at.Add(time.Duration(6+r.IntN(72)) * time.Hour)
		carrier := pick(r, carriers)
		sh := velocity.Shipment{
			ID:             o.ID + "-s" + strconv.Itoa(k+1),
			CreatedAt:      at,
			ShippedAt:      tp(at.Add(time.Duration(r.IntN(120)) * time.Minute)),
			Carrier:        carrier,
			Method:         pick(r, methods),
			TrackingNumber: tracking(r, carrier),
		}
		// Lines are spread over the shipments: shipment k carries the
		// lines j with j % n == k.
		for j, l := range o.Lines {
			if j%n == k {
				sh.Items = append(sh.Items, velocity.ShipmentItem{LineID: l.ID, Quantity: l.Quantity})
			}
		}
		if len(sh.Items) == 0 {
			continue
		}
		bump(*sh.ShippedAt)
		o.Shipments = append(o.Shipments, sh)
	}
	if len(o.Shipments) == 0 {
		return
	}
	shipped := 0
	for _, sh := range o.Shipments {
		shipped += len(sh.Items)
	}
	if shipped == len(o.Lines) {
		o.Status = pick(r, []string{velocity.StatusShipped, velocity.StatusCompleted})
	} else {
		o.Status = velocity.StatusPartiallyShipped
	}
}

func tracking(r *rand.Rand, carrier string) string {
	switch carrier {
	case "UPS":
		return fmt.Sprintf("1Z%06X%010d", r.IntN(1<<24), r.Int64N(1e10))
	case "FedEx":
		return fmt.Sprintf("%012d", r.Int64N(1e12))
	case "USPS":
		return fmt.Sprintf("9400%018d", r.Int64N(1e18))
	}
	return fmt.Sprintf("%010d", r.Int64N(1e10))
}

func (g *gen) pay(r *rand.Rand, o *velocity.Order, total int64, approved time.Time, bump func(time.Time)) {
	at := approved
	add := func(k int, amt int64, method string) {
		at = at.Add(time.Duration(1+r.IntN(20*24)) * time.Hour)
		ref := fmt.Sprintf("CHK-%05d", r.IntN(100000))
		if method != velocity.MethodCheck {
			ref = fmt.Sprintf("txn_%016x", r.Uint64())
		}
		o.Payments = append(o.Payments, velocity.Payment{
			ID: o.ID + "-p" + strconv.Itoa(k+1), CreatedAt: at, Amount: cents(amt), Method: method, Reference: ref,
		})
		bump(at)
	}
	if o.PaymentTerms == nil {
		if r.IntN(10) == 0 {
			add(0, total, o.PaymentMethod)
		}
		return
	}
	method := pick(r, []string{velocity.MethodCheck, velocity.MethodACH, velocity.MethodWire})
	switch x := r.IntN(10); {
	case x < 3: // unpaid
	case x < 7: // paid in full, in one or two payments
		if total >= 2 && r.IntN(2) == 0 {
			first := total / 3
			add(0, first, method)
			add(1, total-first, method)
		} else {
			add(0, total, method)
		}
	default: // partially paid
		if total >= 2 {
			add(0, 1+r.Int64N(total-1), method)
		}
	}
}

// refund adds 0..3 refunds whose sum never exceeds the total, the product
// quantities ordered, the shipping or the tax charged.
func (g *gen) refund(r *rand.Rand, o *velocity.Order, lines []lineAmt, shipping, tax, total int64, bump func(time.Time)) {
	if r.IntN(10) != 0 {
		return
	}
	remaining := total
	remQty := make([]int64, len(lines))
	for j, l := range lines {
		remQty[j] = l.qtyX100
	}
	remShip, remTax := shipping, tax
	at := *o.ApprovedAt
	n := 1 + r.IntN(3)
	for k := range n {
		if k == 0 || r.IntN(5) != 0 {
			at = at.Add(time.Duration(1+r.IntN(240)) * time.Hour)
		} // else: same created_at as the previous refund; numbering falls back to id
		ref := velocity.Refund{
			ID:            o.ID + "-r" + strconv.Itoa(k+1),
			CreatedAt:     at,
			PaymentMethod: o.PaymentMethod,
			Reason:        pick(r, reasons),
		}
		var sum int64
		addLine := func(rl velocity.RefundLine, amt int64) {
			if amt <= 0 || amt > remaining-sum {
				return
			}
			rl.Amount = cents(amt)
			ref.Lines = append(ref.Lines, rl)
			sum += amt
		}
		j := r.IntN(len(lines))
		if l := lines[j]; remQty[j] >= 100 && l.qtyX100%100 == 0 {
			q := int64(1+r.IntN(int(remQty[j]/100))) * 100
			amt := q * l.unit / 100
			if amt <= remaining {
				remQty[j] -= q
				addLine(velocity.RefundLine{Kind: velocity.RefundProduct, LineID: o.Lines[j].ID, Quantity: decimal.New(q, -2), Description: o.Lines[j].Name}, amt)
			}
		}
		if remShip > 0 && r.IntN(3) == 0 {
			amt := remShip
			if r.IntN(2) == 0 {
				amt = max(1, remShip/2)
			}
			if amt <= remaining-sum {
				remShip -= amt
				addLine(velocity.RefundLine{Kind: velocity.RefundShipping, Description: "Shipping refund"}, amt)
			}
		}
		if remTax > 0 && len(ref.Lines) > 0 && r.IntN(2) == 0 {
			amt := max(1, remTax*int64(1+r.IntN(10))/10)
			if amt <= remaining-sum {
				remTax -= amt
				addLine(velocity.RefundLine{Kind: velocity.RefundTax, Description: "Tax refund"}, amt)
			}
		}
		if len(ref.Lines) == 0 {
			continue
		}
		ref.Total = cents(sum)
		remaining -= sum
		o.Refunds = append(o.Refunds, ref)
		bump(at)
	}
	if len(o.Refunds) > 0 {
		if remaining == 0 {
			o.Status = velocity.StatusRefunded
		} else {
			o.Status = velocity.StatusPartiallyRefunded
		}
	}
}

// invalid returns the i-th deliberately invalid order: a valid generated
// order with one field broken.
func (g *gen) invalid(i int) InvalidObject {
	o := g.order(g.opts.Orders + i)
	o.ID = "bad_" + strconv.Itoa(i+1)
	o.Number = strconv.Itoa(900001 + i)
	data, err := json.Marshal(o)
	if err != nil {
		panic(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		panic(err)
	}
	var reason string
	switch i % 8 {
	case 0:
		m["total"] = json.RawMessage(`12.5`)
		reason = "total: 12.5 is a JSON number"
	case 1:
		m["lines"] = json.RawMessage(`[{"id":"l1","product_id":"prod_1","quantity":"1","unit_price":"1.999"}]`)
		reason = `lines[0].unit_price: "1.999" has more than 2 decimal places`
	case 2:
		delete(m, "customer_id")
		reason = "customer_id: missing"
	case 3:
		m["lines"] = json.RawMessage(`[]`)
		reason = "lines: no lines"
	case 4:
		m["refunds"] = json.RawMessage(`[{"id":"r1","created_at":"2026-02-01T00:00:00Z","lines":[{"kind":"shipping","amount":"1.00"}],"total":"2.00"}]`)
		reason = "refunds[0].total: 2.00 is not the sum of its lines (1.00)"
	case 5:
		m["discount_total"] = json.RawMessage(`"-3.00"`)
		reason = `discount_total: "-3.00" is negative`
	case 6:
		m["lines"] = json.RawMessage(`[{"id":"l1","product_id":"prod_1","quantity":"0","unit_price":"1.00"}]`)
		reason = `lines[0].quantity: "0" is not positive`
	case 7:
		m["payments"] = json.RawMessage(`[{"id":"p1","created_at":"2026-02-01T00:00:00Z","amount":"-1.00"}]`)
		reason = `payments[0].amount: "-1.00" is not positive`
	}
	data, err = json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return InvalidObject{Kind: velocity.KindOrder, ID: o.ID, JSON: data, Reason: reason}
}
