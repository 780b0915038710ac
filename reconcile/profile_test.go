package reconcile_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity"
)

func velocityCustomer() *velocity.Customer {
	return &velocity.Customer{
		ID: "cus_1", Number: "C00001", FirstName: "Ana", LastName: "García", Company: "Acme: West",
		Email: "ana@example.com", Phone: "+1-555-000-0001",
		BillingAddress:  velocity.Address{Name: "Ana García", Company: "Acme", Phone: "555", Line1: "1 Main St", City: "Austin", State: "TX", PostalCode: "78701", Country: "US"},
		ShippingAddress: velocity.Address{Name: "Dock", Line1: "9 Elm Ave", Line2: "Suite 5", City: "Austin", State: "TX", PostalCode: "78702", Country: "US"},
	}
}

func str(s string) *string { return &s }

func qboCustomer() *qbo.Customer {
	return &qbo.Customer{
		Id: "12", SyncToken: "3", DisplayName: "Acme West", GivenName: "Ana", FamilyName: "García", CompanyName: str("Acme: West"),
		PrimaryEmailAddr: &qbo.EmailAddress{Address: "ana@example.com"},
		PrimaryPhone:     &qbo.TelephoneNumber{FreeFormNumber: "+1-555-000-0001"},
		BillAddr:         &qbo.PhysicalAddress{Id: "40", Line1: "1 Main St", City: "Austin", CountrySubDivisionCode: "TX", PostalCode: "78701", Country: " US"},
		ShipAddr:         &qbo.PhysicalAddress{Id: "41", Line1: "9 Elm Ave", Line2: "Suite 5", City: "Austin", CountrySubDivisionCode: "TX", PostalCode: "78702", CountryCode: "US"},
	}
}

func TestFromVelocityFromQBO_Agree(t *testing.T) {
	t.Parallel()
	v, q := reconcile.FromVelocity(velocityCustomer()), reconcile.FromQBO(qboCustomer())
	if d := reconcile.Diff(q, v); len(d) != 0 {
		t.Errorf("Diff(qbo, velocity): got %v; want none (a padded Country and a CountryCode are the same)", d)
	}
	if d := reconcile.Diff(v, q); len(d) != 0 {
		t.Errorf("Diff(velocity, qbo): got %v; want none", d)
	}
	if _, ch := reconcile.QBOUpdate(qboCustomer(), v); ch != nil {
		t.Errorf("QBOUpdate of an agreeing profile: got %v; want no change", ch)
	}
	if _, ch, ok := reconcile.VelocityPatch(velocityCustomer(), q); ok {
		t.Errorf("VelocityPatch of an agreeing profile: got %v; want no change", ch)
	}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	base := reconcile.FromVelocity(velocityCustomer())
	tests := []struct {
		name string
		edit func(*reconcile.CustomerProfile)
		want []reconcile.FieldChange
	}{
		{"Same", func(*reconcile.CustomerProfile) {}, nil},
		{"Email", func(p *reconcile.CustomerProfile) { p.Email = "new@example.com" },
			[]reconcile.FieldChange{{Field: "email", From: "ana@example.com", To: "new@example.com"}}},
		// Compared as written: the write would change the case, so it is a change.
		{"EmailCaseOnly", func(p *reconcile.CustomerProfile) { p.Email = " ANA@EXAMPLE.COM" },
			[]reconcile.FieldChange{{Field: "email", From: "ana@example.com", To: "ANA@EXAMPLE.COM"}}},
		{"EmailSpacesOnly", func(p *reconcile.CustomerProfile) { p.Email = " ana@example.com  " }, nil},
		{"StateCaseOnly", func(p *reconcile.CustomerProfile) { p.Billing.State = "tx" },
			[]reconcile.FieldChange{{Field: "billing address", From: "1 Main St, Austin TX 78701, US", To: "1 Main St, Austin tx 78701, US"}}},
		{"BlankNeverErases", func(p *reconcile.CustomerProfile) { p.Phone, p.FirstName, p.Billing = "", "", reconcile.Address{} }, nil},
		{"IDsIgnored", func(p *reconcile.CustomerProfile) { p.ID, p.Number, p.DisplayName = "x", "y", "z" }, nil},
		{"NamePhoneAddress", func(p *reconcile.CustomerProfile) {
			p.LastName, p.Phone = "Garcia", "555-1"
			p.Shipping.Line2 = ""
		}, []reconcile.FieldChange{
			{Field: "last name", From: "García", To: "Garcia"},
			{Field: "phone", From: "+1-555-000-0001", To: "555-1"},
			{Field: "shipping address", From: "9 Elm Ave, Suite 5, Austin TX 78702, US", To: "9 Elm Ave, Austin TX 78702, US"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := base
			tt.edit(&want)
			if diff := cmp.Diff(tt.want, reconcile.Diff(base, want)); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
		})
	}
	c := reconcile.FieldChange{Field: "phone", From: "", To: "555"}
	if got, want := c.String(), "phone: (empty) → 555"; got != want {
		t.Errorf("String: got %q; want %q", got, want)
	}
}

func TestQBOUpdate(t *testing.T) {
	t.Parallel()
	want := reconcile.FromVelocity(velocityCustomer())
	want.Email = "new@example.com"
	want.Billing.Line1 = "2 Main St"
	want.Company = "Acme Inc"
	upd, changes := reconcile.QBOUpdate(qboCustomer(), want)
	if upd == nil {
		t.Fatalf("QBOUpdate: got nil; want an update")
	}
	wantUpd := &qbo.Customer{
		Id: "12", SyncToken: "3", CompanyName: str("Acme Inc"),
		PrimaryEmailAddr: &qbo.EmailAddress{Address: "new@example.com"},
		BillAddr:         &qbo.PhysicalAddress{Id: "40", Line1: "2 Main St", City: "Austin", CountrySubDivisionCode: "TX", PostalCode: "78701", Country: "US"},
	}
	if diff := cmp.Diff(wantUpd, upd); diff != "" {
		t.Errorf("update (-want +got):\n%s", diff)
	}
	var fields []string
	for _, c := range changes {
		fields = append(fields, c.Field)
	}
	if diff := cmp.Diff([]string{"company", "email", "billing address"}, fields); diff != "" {
		t.Errorf("changed fields (-want +got):\n%s", diff)
	}
	// The wire body of a sparse update names only the changed fields.
	b, _ := json.Marshal(upd)
	for _, absent := range []string{"DisplayName", "GivenName", "PrimaryPhone", "ShipAddr"} {
		if strings.Contains(string(b), absent) {
			t.Errorf("update body %s: has %s; want only changed fields", b, absent)
		}
	}
}

func TestVelocityPatch(t *testing.T) {
	t.Parallel()
	q := qboCustomer()
	q.PrimaryPhone.FreeFormNumber = "+1-555-999-9999"
	q.ShipAddr.Line1 = "10 Elm Ave"
	q.GivenName = "" // a blank QBO field does not erase Velocity's
	patch, changes, ok := reconcile.VelocityPatch(velocityCustomer(), reconcile.FromQBO(q))
	if !ok {
		t.Fatal("VelocityPatch: got no change; want phone and shipping address")
	}
	wantPatch := velocity.CustomerPatch{
		Phone: str("+1-555-999-9999"),
		// Velocity replaces an address whole: name and phone of the address survive.
		ShippingAddress: &velocity.Address{Name: "Dock", Line1: "10 Elm Ave", Line2: "Suite 5", City: "Austin", State: "TX", PostalCode: "78702", Country: "US"},
	}
	if diff := cmp.Diff(wantPatch, patch); diff != "" {
		t.Errorf("patch (-want +got):\n%s", diff)
	}
	if len(changes) != 2 || changes[0].String() != "phone: +1-555-000-0001 → +1-555-999-9999" {
		t.Errorf("changes: got %v; want phone then shipping address", changes)
	}
}

func TestDisplayName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 600)
	tests := []struct {
		name          string
		p             reconcile.CustomerProfile
		plain, number string
	}{
		{"Company", reconcile.CustomerProfile{ID: "cus_1", Number: "C00001", Company: " Acme:  West ", FirstName: "Ana"}, "Acme- West", "Acme- West (C00001)"},
		{"Person", reconcile.CustomerProfile{ID: "cus_2", Number: "C00002", FirstName: "Ana", LastName: "García"}, "Ana García", "Ana García (C00002)"},
		{"EmailNoNumber", reconcile.CustomerProfile{ID: "cus_3", Email: "x@example.com"}, "x@example.com", "x@example.com (cus_3)"},
		{"Nothing", reconcile.CustomerProfile{ID: "cus_4", Number: "C4"}, "Velocity customer C4", "Velocity customer C4 (C4)"},
		{"Long", reconcile.CustomerProfile{ID: "cus_5", Number: "C5", Company: long}, strings.Repeat("é", 500), strings.Repeat("é", 495) + " (C5)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reconcile.DisplayName(tt.p); got != tt.plain {
				t.Errorf("DisplayName: got %q; want %q", got, tt.plain)
			}
			got := reconcile.NumberedDisplayName(tt.p)
			if got != tt.number {
				t.Errorf("NumberedDisplayName: got %q; want %q", got, tt.number)
			}
			if n := utf8.RuneCountInString(got); n > 500 || strings.Contains(got, ":") {
				t.Errorf("NumberedDisplayName %q: %d characters or a colon; QBO refuses both", got, n)
			}
		})
	}
}

func TestNewQBOCustomer(t *testing.T) {
	t.Parallel()
	p := reconcile.FromVelocity(velocityCustomer())
	c := reconcile.NewQBOCustomer(p, reconcile.DisplayName(p))
	if !reconcile.IsCreatedFrom(c, "cus_1") || reconcile.IsCreatedFrom(c, "cus_10") {
		t.Errorf("Notes %q: want the marker of cus_1 only", *c.Notes)
	}
	c.Notes = nil
	want := &qbo.Customer{
		DisplayName: "Acme- West", GivenName: "Ana", FamilyName: "García", CompanyName: str("Acme: West"),
		PrimaryEmailAddr: &qbo.EmailAddress{Address: "ana@example.com"},
		PrimaryPhone:     &qbo.TelephoneNumber{FreeFormNumber: "+1-555-000-0001"},
		BillAddr:         &qbo.PhysicalAddress{Line1: "1 Main St", City: "Austin", CountrySubDivisionCode: "TX", PostalCode: "78701", Country: "US"},
		ShipAddr:         &qbo.PhysicalAddress{Line1: "9 Elm Ave", Line2: "Suite 5", City: "Austin", CountrySubDivisionCode: "TX", PostalCode: "78702", Country: "US"},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("NewQBOCustomer (-want +got):\n%s", diff)
	}
	// The round trip is a fixed point: a created customer is in sync.
	if d := reconcile.Diff(reconcile.FromQBO(c), p); len(d) != 0 {
		t.Errorf("Diff after create: got %v; want none", d)
	}
}

func TestCustomerRequestID(t *testing.T) {
	t.Parallel()
	a := reconcile.CustomerRequestID("123", "create", "cus_1", "1")
	if len(a) > 50 || !strings.HasPrefix(a, "vqc-") {
		t.Errorf("got %q; want vqc- and at most 50 characters", a)
	}
	if a != reconcile.CustomerRequestID("123", "create", "cus_1", "1") {
		t.Errorf("not deterministic")
	}
	for _, other := range []string{
		reconcile.CustomerRequestID("124", "create", "cus_1", "1"),
		reconcile.CustomerRequestID("123", "create", "cus_1", "2"),
		reconcile.CustomerRequestID("123", "create", "cus_11"),
	} {
		if other == a {
			t.Errorf("%q collides with a different write", other)
		}
	}
}

// TestKept: the fields sync leaves alone because the winning side is
// blank are reported, so that such profiles are not called "in sync".
func TestKept(t *testing.T) {
	t.Parallel()
	base := reconcile.FromVelocity(velocityCustomer())
	tests := []struct {
		name string
		edit func(*reconcile.CustomerProfile)
		want []string
	}{
		{"Same", func(*reconcile.CustomerProfile) {}, nil},
		{"BlankFieldsDiffer", func(p *reconcile.CustomerProfile) { p.Phone, p.FirstName, p.Billing = "", " ", reconcile.Address{} },
			[]string{"first name: Ana → (empty)", "phone: +1-555-000-0001 → (empty)", "billing address: 1 Main St, Austin TX 78701, US → (empty)"}},
		{"ChangesAreNotKept", func(p *reconcile.CustomerProfile) { p.Email = "new@example.com" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := base
			tt.edit(&want)
			var got []string
			for _, c := range reconcile.Kept(base, want) {
				got = append(got, c.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Kept (-want +got):\n%s", diff)
			}
			if tt.name == "BlankFieldsDiffer" && len(reconcile.Diff(base, want)) != 0 {
				t.Errorf("Diff: got %v; want no change (blank never erases)", reconcile.Diff(base, want))
			}
		})
	}
}
