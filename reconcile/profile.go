package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/velocity"
)

// Address is the part of a postal address that velqbo copies between
// Velocity and QBO. Velocity's per-address name, company and phone have no
// QBO counterpart and are left alone.
type Address struct {
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country,omitempty"`
}

// IsZero reports whether every field of a is blank.
func (a Address) IsZero() bool { return a.trim() == Address{} }

func (a Address) trim() Address {
	return Address{
		Line1: strings.TrimSpace(a.Line1), Line2: strings.TrimSpace(a.Line2), City: strings.TrimSpace(a.City),
		State: strings.TrimSpace(a.State), PostalCode: strings.TrimSpace(a.PostalCode), Country: strings.TrimSpace(a.Country),
	}
}

// String is the address on one line, for diffs: "1 Main St, Suite 5, Austin TX 78701, US".
func (a Address) String() string {
	a = a.trim()
	var parts []string
	for _, s := range []string{a.Line1, a.Line2, strings.TrimSpace(strings.Join(nonBlank(a.City, a.State, a.PostalCode), " ")), a.Country} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

func nonBlank(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// CustomerProfile is a customer as either side holds it, in one shape so
// that the two can be matched and diffed. ID, Number and DisplayName
// identify the record and are never copied; the other fields are the
// profile that `customers sync` copies.
type CustomerProfile struct {
	ID          string `json:"id"`                     // Velocity or QBO id, per side
	Number      string `json:"number,omitempty"`       // Velocity customer number
	DisplayName string `json:"display_name,omitempty"` // QBO DisplayName

	FirstName string  `json:"first_name,omitempty"`
	LastName  string  `json:"last_name,omitempty"`
	Company   string  `json:"company,omitempty"`
	Email     string  `json:"email,omitempty"`
	Phone     string  `json:"phone,omitempty"`
	Billing   Address `json:"billing_address"`
	Shipping  Address `json:"shipping_address"`
}

// PersonName is "first last", trimmed.
func (p CustomerProfile) PersonName() string {
	return strings.TrimSpace(strings.TrimSpace(p.FirstName) + " " + strings.TrimSpace(p.LastName))
}

// Label is how a bookkeeper recognises the customer: the QBO DisplayName
// if any, else the company, else the person's name, else the email.
func (p CustomerProfile) Label() string {
	for _, s := range []string{p.DisplayName, p.Company, p.PersonName(), p.Email} {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return p.ID
}

// FromVelocity is the profile of a Velocity customer.
func FromVelocity(c *velocity.Customer) CustomerProfile {
	return CustomerProfile{
		ID: c.ID, Number: c.Number,
		FirstName: c.FirstName, LastName: c.LastName, Company: c.Company,
		Email: c.Email, Phone: c.Phone,
		Billing:  addressFromVelocity(c.BillingAddress),
		Shipping: addressFromVelocity(c.ShippingAddress),
	}
}

func addressFromVelocity(a velocity.Address) Address {
	return Address{Line1: a.Line1, Line2: a.Line2, City: a.City, State: a.State, PostalCode: a.PostalCode, Country: a.Country}
}

// FromQBO is the profile of a QBO customer.
func FromQBO(c *qbo.Customer) CustomerProfile {
	p := CustomerProfile{
		ID: c.Id, DisplayName: c.DisplayName,
		FirstName: c.GivenName, LastName: c.FamilyName,
		Billing: addressFromQBO(c.BillAddr), Shipping: addressFromQBO(c.ShipAddr),
	}
	if c.CompanyName != nil {
		p.Company = *c.CompanyName
	}
	if c.PrimaryEmailAddr != nil {
		p.Email = c.PrimaryEmailAddr.Address
	}
	if c.PrimaryPhone != nil {
		p.Phone = c.PrimaryPhone.FreeFormNumber
	}
	return p
}

func addressFromQBO(a *qbo.PhysicalAddress) Address {
	if a == nil {
		return Address{}
	}
	country := a.Country
	if country == "" {
		country = a.CountryCode
	}
	return Address{Line1: a.Line1, Line2: a.Line2, City: a.City, State: a.CountrySubDivisionCode, PostalCode: a.PostalCode, Country: country}
}

// addressToQBO keeps the Id of the address it replaces, so that QBO
// updates that address instead of adding one.
func addressToQBO(a Address, id string) *qbo.PhysicalAddress {
	a = a.trim()
	return &qbo.PhysicalAddress{Id: id, Line1: a.Line1, Line2: a.Line2, City: a.City, CountrySubDivisionCode: a.State, PostalCode: a.PostalCode, Country: a.Country}
}

// Profile field names, as FieldChange.Field reports them.
const (
	FieldFirstName = "first name"
	FieldLastName  = "last name"
	FieldCompany   = "company"
	FieldEmail     = "email"
	FieldPhone     = "phone"
	FieldBilling   = "billing address"
	FieldShipping  = "shipping address"
)

// FieldChange is one profile field that differs: From is what the overwritten
// record holds, To what it will hold.
type FieldChange struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// String is "email: a@x → b@x", with "(empty)" for a blank value.
func (c FieldChange) String() string {
	return fmt.Sprintf("%s: %s → %s", c.Field, shownValue(c.From), shownValue(c.To))
}

func shownValue(s string) string {
	if s == "" {
		return "(empty)"
	}
	return s
}

// Diff lists the profile fields that copying want onto have would change,
// in a fixed order. A field that want leaves blank is not a change: sync
// fills and overwrites, but never erases what the other record knows
// (a QBO customer made by hand often has no first/last name at all);
// Kept lists those.
//
// Values compare exactly as they would be written: trimmed of spaces and
// nothing more. An email or a state that differs only in letter case is a
// change, since the write would change it; comparing case-insensitively
// once called such profiles "in sync" while they differed.
func Diff(have, want CustomerProfile) []FieldChange {
	changes, _ := diff(have, want)
	return changes
}

// Kept lists the profile fields in which have and want differ but that
// copying want onto have leaves alone because want's value is blank.
func Kept(have, want CustomerProfile) []FieldChange {
	_, kept := diff(have, want)
	return kept
}

func diff(have, want CustomerProfile) (changes, kept []FieldChange) {
	add := func(field, h, w string) {
		switch {
		case h == w:
		case w == "":
			kept = append(kept, FieldChange{Field: field, From: h, To: w})
		default:
			changes = append(changes, FieldChange{Field: field, From: h, To: w})
		}
	}
	text := func(field, h, w string) { add(field, strings.TrimSpace(h), strings.TrimSpace(w)) }
	text(FieldFirstName, have.FirstName, want.FirstName)
	text(FieldLastName, have.LastName, want.LastName)
	text(FieldCompany, have.Company, want.Company)
	text(FieldEmail, have.Email, want.Email)
	text(FieldPhone, have.Phone, want.Phone)
	addr := func(field string, h, w Address) {
		h, w = h.trim(), w.trim()
		switch {
		case h == w:
		case w.IsZero():
			kept = append(kept, FieldChange{Field: field, From: h.String()})
		default:
			changes = append(changes, FieldChange{Field: field, From: h.String(), To: w.String()})
		}
	}
	addr(FieldBilling, have.Billing, want.Billing)
	addr(FieldShipping, have.Shipping, want.Shipping)
	return changes, kept
}

// QBOUpdate is the sparse update that makes the QBO customer cur hold
// want's profile, and the changes it makes; nil and no changes when they
// already agree. The update carries cur's Id and SyncToken. DisplayName is
// not touched: it is QBO's unique key and the bookkeeper's choice.
func QBOUpdate(cur *qbo.Customer, want CustomerProfile) (*qbo.Customer, []FieldChange) {
	changes := Diff(FromQBO(cur), want)
	if len(changes) == 0 {
		return nil, nil
	}
	upd := &qbo.Customer{Id: cur.Id, SyncToken: cur.SyncToken}
	for _, c := range changes {
		switch c.Field {
		case FieldFirstName:
			upd.GivenName = c.To
		case FieldLastName:
			upd.FamilyName = c.To
		case FieldCompany:
			upd.CompanyName = &c.To
		case FieldEmail:
			upd.PrimaryEmailAddr = &qbo.EmailAddress{Address: c.To}
		case FieldPhone:
			upd.PrimaryPhone = &qbo.TelephoneNumber{FreeFormNumber: c.To}
		case FieldBilling:
			upd.BillAddr = addressToQBO(want.Billing, qboAddrID(cur.BillAddr))
		case FieldShipping:
			upd.ShipAddr = addressToQBO(want.Shipping, qboAddrID(cur.ShipAddr))
		}
	}
	return upd, changes
}

func qboAddrID(a *qbo.PhysicalAddress) string {
	if a == nil {
		return ""
	}
	return a.Id
}

// VelocityPatch is the PATCH that makes the Velocity customer cur hold
// want's profile, and the changes it makes; ok is false when they already
// agree. Velocity replaces a patched address whole, so the patch starts
// from cur's address and keeps its name, company and phone.
func VelocityPatch(cur *velocity.Customer, want CustomerProfile) (patch velocity.CustomerPatch, changes []FieldChange, ok bool) {
	changes = Diff(FromVelocity(cur), want)
	if len(changes) == 0 {
		return velocity.CustomerPatch{}, nil, false
	}
	str := func(s string) *string { return &s }
	addr := func(base velocity.Address, a Address) *velocity.Address {
		a = a.trim()
		base.Line1, base.Line2, base.City, base.State, base.PostalCode, base.Country = a.Line1, a.Line2, a.City, a.State, a.PostalCode, a.Country
		return &base
	}
	for _, c := range changes {
		switch c.Field {
		case FieldFirstName:
			patch.FirstName = str(c.To)
		case FieldLastName:
			patch.LastName = str(c.To)
		case FieldCompany:
			patch.Company = str(c.To)
		case FieldEmail:
			patch.Email = str(c.To)
		case FieldPhone:
			patch.Phone = str(c.To)
		case FieldBilling:
			patch.BillingAddress = addr(cur.BillingAddress, want.Billing)
		case FieldShipping:
			patch.ShippingAddress = addr(cur.ShippingAddress, want.Shipping)
		}
	}
	return patch, changes, true
}

// maxDisplayName is QBO's DisplayName limit, in characters.
const maxDisplayName = 500

// DisplayName is the QBO DisplayName for a new customer made from p: the
// company, else "first last", else the email, else "Velocity customer
// <number>". QBO refuses ':' in names, so it becomes '-'.
func DisplayName(p CustomerProfile) string {
	name := ""
	for _, s := range []string{p.Company, p.PersonName(), p.Email} {
		if s = strings.Join(strings.Fields(s), " "); s != "" {
			name = s
			break
		}
	}
	if name == "" {
		name = "Velocity customer " + numberOrID(p)
	}
	return clipName(strings.ReplaceAll(name, ":", "-"), maxDisplayName)
}

// NumberedDisplayName is DisplayName with " (<customer number>)" appended
// (the Velocity id when there is no number): the name used when the plain
// one is taken by another customer, vendor or employee (QBO fault 6240).
func NumberedDisplayName(p CustomerProfile) string {
	suffix := " (" + strings.ReplaceAll(numberOrID(p), ":", "-") + ")"
	return clipName(DisplayName(p), maxDisplayName-utf8.RuneCountInString(suffix)) + suffix
}

func numberOrID(p CustomerProfile) string {
	if n := strings.TrimSpace(p.Number); n != "" {
		return n
	}
	return p.ID
}

func clipName(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n]))
}

// CreatedMarker is the tag velqbo writes into the Notes of a QBO customer
// it creates from a Velocity customer. It lets a re-run find a customer
// whose creation succeeded but whose link was never saved (a crash, a lost
// response older than QBO's requestid memory) instead of creating another.
func CreatedMarker(velocityID string) string { return "[velocity:" + velocityID + "]" }

// IsCreatedFrom reports whether velqbo created c from the Velocity customer velocityID.
func IsCreatedFrom(c *qbo.Customer, velocityID string) bool {
	return c.Notes != nil && strings.Contains(*c.Notes, CreatedMarker(velocityID))
}

// NewQBOCustomer is the QBO customer to create from p, named displayName
// (DisplayName or NumberedDisplayName).
func NewQBOCustomer(p CustomerProfile, displayName string) *qbo.Customer {
	c := &qbo.Customer{
		DisplayName: displayName,
		GivenName:   strings.TrimSpace(p.FirstName),
		FamilyName:  strings.TrimSpace(p.LastName),
	}
	note := "Created by velqbo from Velocity customer " + numberOrID(p) + " " + CreatedMarker(p.ID)
	c.Notes = &note
	if s := strings.TrimSpace(p.Company); s != "" {
		c.CompanyName = &s
	}
	if s := strings.TrimSpace(p.Email); s != "" {
		c.PrimaryEmailAddr = &qbo.EmailAddress{Address: s}
	}
	if s := strings.TrimSpace(p.Phone); s != "" {
		c.PrimaryPhone = &qbo.TelephoneNumber{FreeFormNumber: s}
	}
	if !p.Billing.IsZero() {
		c.BillAddr = addressToQBO(p.Billing, "")
	}
	if !p.Shipping.IsZero() {
		c.ShipAddr = addressToQBO(p.Shipping, "")
	}
	return c
}

// CustomerRequestID is the deterministic QBO requestid of a customer write:
// "vqc-" + 40 hex digits of sha256 over realm, intent and parts (44
// characters; QBO allows 50).
//
// Why: a command retried after a lost answer sends the same id and QBO
// replays the first result instead of writing twice. QBO stores faults
// under the id too, so a corrected second attempt (a numbered DisplayName)
// must pass a different part.
func CustomerRequestID(realm, intent string, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(strings.Join(append([]string{realm, intent}, parts...), "\x00")))
	return "vqc-" + hex.EncodeToString(h.Sum(nil))[:40]
}

// ChangesKey is a stable text of changes, for CustomerRequestID: the same
// update of the same version is the same write.
func ChangesKey(changes []FieldChange) string {
	var b strings.Builder
	for _, c := range changes {
		b.WriteString(c.Field + "\x01" + c.To + "\x02")
	}
	return b.String()
}
