package reconcile_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity"
)

func vcust(id, first, last, company, email string) reconcile.CustomerProfile {
	return reconcile.CustomerProfile{ID: id, FirstName: first, LastName: last, Company: company, Email: email}
}

func qcust(id, display, email string) reconcile.QBOCustomer {
	return reconcile.QBOCustomer{CustomerProfile: reconcile.CustomerProfile{ID: id, DisplayName: display, Email: email}, Active: true}
}

func inactive(c reconcile.QBOCustomer) reconcile.QBOCustomer { c.Active = false; return c }

func TestNormaliseName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Acme Supply Co.", "acme supply"},
		{"  ACME   supply, co  ", "acme supply"},
		{"Acme Supply Company, Inc.", "acme supply"},
		{"Smith & Sons", "smith and sons"},
		{"Smith and Sons LLC", "smith and sons"},
		{"O'Brien", "obrien"},
		{"O’Brien", "obrien"},
		{"🚀 Rocket Parts", "rocket parts"},
		{"Zürich Tools AG", "zürich tools"},
		{"日本商事株式会社", "日本商事株式会社"},
		{"Co", "co"}, // nothing but a legal form: kept
		{"Inc. Ltd.", "inc"},
		{"---", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := reconcile.NormaliseName(tt.in); got != tt.want {
			t.Errorf("NormaliseName(%q): got %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestMatchCustomers(t *testing.T) {
	t.Parallel()
	withName := func(c reconcile.QBOCustomer, first, last, company string) reconcile.QBOCustomer {
		c.FirstName, c.LastName, c.Company = first, last, company
		return c
	}
	tests := []struct {
		name     string
		vel      []reconcile.CustomerProfile
		qbo      []reconcile.QBOCustomer
		existing map[string]string
		want     []reconcile.Proposal
	}{
		{
			name: "EmailCaseInsensitiveBeforeName",
			vel:  []reconcile.CustomerProfile{vcust("v1", "Ana", "García", "Acme", " Ana@Example.COM ")},
			qbo:  []reconcile.QBOCustomer{qcust("1", "Acme", ""), qcust("2", "Ana's account", "ana@example.com")},
			want: []reconcile.Proposal{{VelocityID: "v1", VelocityName: "Acme (Ana García)", QBOID: "2", QBOName: "Ana's account", Reason: "same email ana@example.com"}},
		},
		{
			name: "CompanyAfterNormalising",
			vel:  []reconcile.CustomerProfile{vcust("v1", "Ana", "García", "Acme Supply Co.", "ana@example.com")},
			qbo:  []reconcile.QBOCustomer{qcust("1", "ACME supply, inc", "other@example.com"), qcust("2", "Ana García", "")},
			want: []reconcile.Proposal{{VelocityID: "v1", VelocityName: "Acme Supply Co. (Ana García)", QBOID: "1", QBOName: "ACME supply, inc", Reason: "same company name after normalising"}},
		},
		{
			name: "CompanyNameFieldOfQBO",
			vel:  []reconcile.CustomerProfile{vcust("v1", "", "", "Smith & Sons", "")},
			qbo:  []reconcile.QBOCustomer{withName(qcust("7", "Smith, J.", ""), "", "", "Smith and Sons LLC")},
			want: []reconcile.Proposal{{VelocityID: "v1", VelocityName: "Smith & Sons", QBOID: "7", QBOName: "Smith, J.", Reason: "same company name after normalising"}},
		},
		{
			name: "PersonName",
			vel:  []reconcile.CustomerProfile{vcust("v1", "Liam", "O'Brien", "", "liam@example.com")},
			qbo:  []reconcile.QBOCustomer{withName(qcust("3", "L. OBrien", ""), "Liam", "OBrien", "")},
			want: []reconcile.Proposal{{VelocityID: "v1", VelocityName: "Liam O'Brien", QBOID: "3", QBOName: "L. OBrien", Reason: "same name after normalising"}},
		},
		{
			name: "AmbiguousEmail",
			vel:  []reconcile.CustomerProfile{vcust("v1", "Mei", "Chen", "", "shared@example.com")},
			qbo:  []reconcile.QBOCustomer{qcust("4", "Chen Trading", "shared@example.com"), qcust("5", "Chen Imports", "SHARED@example.com")},
			want: []reconcile.Proposal{{VelocityID: "v1", VelocityName: "Mei Chen", Reason: "same email shared@example.com",
				Candidates: []string{"4", "5"}, Conflict: "2 QBO customers share this email (4, 5): no link proposed"}},
		},
		{
			name: "SharedEmailNameDecides",
			vel:  []reconcile.CustomerProfile{vcust("v1", "Mei", "Chen", "", "shared@example.com")},
			qbo:  []reconcile.QBOCustomer{qcust("4", "Chen Trading", "shared@example.com"), qcust("5", "Mei Chen", "shared@example.com")},
			want: []reconcile.Proposal{{VelocityID: "v1", VelocityName: "Mei Chen", QBOID: "5", QBOName: "Mei Chen", Reason: "same email shared@example.com and same name after normalising"}},
		},
		{
			name: "AmbiguousName",
			vel:  []reconcile.CustomerProfile{vcust("v1", "Wei", "Chen", "", "")},
			qbo:  []reconcile.QBOCustomer{qcust("8", "Wei Chen", ""), withName(qcust("9", "Chen, Wei (Denver)", ""), "Wei", "Chen", "")},
			want: []reconcile.Proposal{{VelocityID: "v1", VelocityName: "Wei Chen", Reason: "same name after normalising",
				Candidates: []string{"8", "9"}, Conflict: "2 QBO customers have this name (8, 9): no link proposed"}},
		},
		{
			name: "TwoVelocityOntoOneQBO",
			vel: []reconcile.CustomerProfile{
				vcust("v1", "Ana", "García", "Acme", "ana@example.com"),
				vcust("v2", "Björn", "Müller", "Acme Inc", "bjorn@example.com"),
			},
			qbo: []reconcile.QBOCustomer{qcust("12", "Acme", "")},
			want: []reconcile.Proposal{
				{VelocityID: "v1", VelocityName: "Acme (Ana García)", QBOID: "12", QBOName: "Acme", Reason: "same company name after normalising",
					Conflict: "QBO customer 12 is also proposed for Velocity v2"},
				{VelocityID: "v2", VelocityName: "Acme Inc (Björn Müller)", QBOID: "12", QBOName: "Acme", Reason: "same company name after normalising",
					Conflict: "QBO customer 12 is also proposed for Velocity v1"},
			},
		},
		{
			name:     "AlreadyLinkedQBOCustomer",
			vel:      []reconcile.CustomerProfile{vcust("v2", "", "", "", "ana@example.com")},
			qbo:      []reconcile.QBOCustomer{qcust("12", "Acme", "ana@example.com")},
			existing: map[string]string{"v1": "12"},
			want: []reconcile.Proposal{{VelocityID: "v2", VelocityName: "ana@example.com", QBOID: "12", QBOName: "Acme", Reason: "same email ana@example.com",
				Conflict: "QBO customer 12 is already linked to Velocity v1"}},
		},
		{
			name:     "AlreadyLinkedVelocitySkipped",
			vel:      []reconcile.CustomerProfile{vcust("v1", "", "", "Acme", "ana@example.com")},
			qbo:      []reconcile.QBOCustomer{qcust("12", "Acme", "ana@example.com"), qcust("13", "Other", "")},
			existing: map[string]string{"v1": "13"},
			want:     nil,
		},
		{
			name: "InactiveNeverProposed",
			vel:  []reconcile.CustomerProfile{vcust("v1", "Ana", "García", "Acme", "ana@example.com")},
			qbo:  []reconcile.QBOCustomer{inactive(qcust("12", "Acme", "ana@example.com")), qcust("14", "Ana García", "")},
			want: []reconcile.Proposal{{VelocityID: "v1", VelocityName: "Acme (Ana García)", QBOID: "14", QBOName: "Ana García", Reason: "same name after normalising"}},
		},
		{
			name: "InactiveDoesNotMakeAmbiguity",
			vel:  []reconcile.CustomerProfile{vcust("v1", "", "", "", "a@x.example")},
			qbo:  []reconcile.QBOCustomer{inactive(qcust("1", "Old", "a@x.example")), qcust("2", "New", "a@x.example")},
			want: []reconcile.Proposal{{VelocityID: "v1", VelocityName: "a@x.example", QBOID: "2", QBOName: "New", Reason: "same email a@x.example"}},
		},
		{
			name: "NoMatch",
			vel:  []reconcile.CustomerProfile{vcust("v1", "Zoë", "Rossi", "", "zoe@example.com"), vcust("v2", "", "", "", "")},
			qbo:  []reconcile.QBOCustomer{qcust("1", "Someone Else", "else@example.com"), qcust("2", "", "")},
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reconcile.MatchCustomers(tt.vel, tt.qbo, tt.existing)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("MatchCustomers (-want +got):\n%s", diff)
			}
			for _, p := range got {
				if p.Applicable() != (p.QBOID != "" && p.Conflict == "") {
					t.Errorf("%s: Applicable() = %v with QBOID %q and Conflict %q", p.VelocityID, p.Applicable(), p.QBOID, p.Conflict)
				}
			}
		})
	}
}

func TestMatchCustomers_Deterministic(t *testing.T) {
	t.Parallel()
	vel := []reconcile.CustomerProfile{
		vcust("v3", "", "", "Acme", ""), vcust("v1", "", "", "acme co", ""), vcust("v2", "", "", "", "b@x.example"),
	}
	q := []reconcile.QBOCustomer{qcust("20", "Acme", ""), qcust("21", "B", "b@x.example")}
	first := reconcile.MatchCustomers(vel, q, nil)
	for i := 0; i < 20; i++ {
		if diff := cmp.Diff(first, reconcile.MatchCustomers(vel, q, nil)); diff != "" {
			t.Fatalf("run %d differs (-first +got):\n%s", i, diff)
		}
	}
	var ids []string
	for _, p := range first {
		ids = append(ids, p.VelocityID)
	}
	if diff := cmp.Diff([]string{"v3", "v1", "v2"}, ids); diff != "" {
		t.Errorf("order: got %v; want the order of the input (-want +got):\n%s", ids, diff)
	}
}

func TestMatchProducts(t *testing.T) {
	t.Parallel()
	prod := func(id, sku, name string) velocity.Product { return velocity.Product{ID: id, SKU: sku, Name: name} }
	item := func(id, name, sku string) reconcile.QBOItem {
		return reconcile.QBOItem{ID: id, Name: name, SKU: sku, Active: true}
	}
	tests := []struct {
		name     string
		vel      []velocity.Product
		items    []reconcile.QBOItem
		existing map[string]string
		want     []reconcile.Proposal
	}{
		{
			name:  "SKUBeforeName",
			vel:   []velocity.Product{prod("p1", "sku-1", "Widget")},
			items: []reconcile.QBOItem{item("1", "Widget", ""), item("2", "Blue widget", "SKU-1")},
			want:  []reconcile.Proposal{{VelocityID: "p1", VelocityName: "sku-1 Widget", QBOID: "2", QBOName: "Blue widget", Reason: "same SKU sku-1"}},
		},
		{
			name:  "NameWhenSKUUnknown",
			vel:   []velocity.Product{prod("p1", "SKU-9", " Eco  Filter ")},
			items: []reconcile.QBOItem{item("1", "eco filter", "OTHER")},
			want:  []reconcile.Proposal{{VelocityID: "p1", VelocityName: "SKU-9 Eco  Filter", QBOID: "1", QBOName: "eco filter", Reason: "same name"}},
		},
		{
			name:  "NameIsExactNotNormalised",
			vel:   []velocity.Product{prod("p1", "", "Widget Inc.")},
			items: []reconcile.QBOItem{item("1", "Widget", "")},
			want:  nil,
		},
		{
			name:  "AmbiguousSKU",
			vel:   []velocity.Product{prod("p1", "SKU-1", "Widget")},
			items: []reconcile.QBOItem{item("1", "Widget A", "SKU-1"), item("2", "Widget B", "sku-1"), item("3", "Widget", "")},
			want: []reconcile.Proposal{{VelocityID: "p1", VelocityName: "SKU-1 Widget", Reason: "same SKU SKU-1",
				Candidates: []string{"1", "2"}, Conflict: "2 QBO items have this SKU (1, 2): no link proposed"}},
		},
		{
			name:  "InactiveAndCategorySkipped",
			vel:   []velocity.Product{prod("p1", "SKU-1", "Widget")},
			items: []reconcile.QBOItem{{ID: "1", Name: "Old", SKU: "SKU-1"}, reconcile.QBOItemOf(&qbo.Item{Id: "2", Name: "Widget", Type: qbo.ItemTypeCategory})},
			want:  nil,
		},
		{
			name:  "TwoProductsOneItem",
			vel:   []velocity.Product{prod("p1", "", "Valve"), prod("p2", "", "VALVE")},
			items: []reconcile.QBOItem{item("5", "Valve", "")},
			want: []reconcile.Proposal{
				{VelocityID: "p1", VelocityName: "Valve", QBOID: "5", QBOName: "Valve", Reason: "same name", Conflict: "QBO item 5 is also proposed for Velocity p2"},
				{VelocityID: "p2", VelocityName: "VALVE", QBOID: "5", QBOName: "Valve", Reason: "same name", Conflict: "QBO item 5 is also proposed for Velocity p1"},
			},
		},
		{
			name:     "LinkedSkippedAndLinkedItemFlagged",
			vel:      []velocity.Product{prod("p1", "A", "x"), prod("p2", "B", "y")},
			items:    []reconcile.QBOItem{item("5", "x", "A"), item("6", "y", "B")},
			existing: map[string]string{"p1": "5", "p9": "6"},
			want: []reconcile.Proposal{{VelocityID: "p2", VelocityName: "B y", QBOID: "6", QBOName: "y", Reason: "same SKU B",
				Conflict: "QBO item 6 is already linked to Velocity p9"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reconcile.MatchProducts(tt.vel, tt.items, tt.existing)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("MatchProducts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestQBOItemOf(t *testing.T) {
	t.Parallel()
	sku, no := "S-1", false
	tests := []struct {
		name string
		in   qbo.Item
		want reconcile.QBOItem
	}{
		{"ActiveAbsent", qbo.Item{Id: "1", Name: "A", Sku: &sku, Type: qbo.ItemTypeService}, reconcile.QBOItem{ID: "1", Name: "A", SKU: "S-1", Active: true}},
		{"Inactive", qbo.Item{Id: "2", Name: "B", Active: &no}, reconcile.QBOItem{ID: "2", Name: "B"}},
		{"Category", qbo.Item{Id: "3", Name: "C", Type: qbo.ItemTypeCategory}, reconcile.QBOItem{ID: "3", Name: "C"}},
	}
	for _, tt := range tests {
		if got := reconcile.QBOItemOf(&tt.in); got != tt.want {
			t.Errorf("%s: got %+v; want %+v", tt.name, got, tt.want)
		}
	}
}

// FuzzNormaliseName checks that the match key is stable: normalising a key
// again changes nothing, and a key holds only lower-case letters, digits,
// marks and single spaces.
func FuzzNormaliseName(f *testing.F) {
	for _, s := range []string{"Acme Supply Co.", "Smith & Sons, LLC", "O’Brien", "🚀 Rocket Parts", "日本商事株式会社", "İstanbul Ltd", "Co Inc", "\xff\xfe", "  a  b  "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := reconcile.NormaliseName(s)
		if again := reconcile.NormaliseName(k); again != k {
			t.Errorf("NormaliseName(%q) = %q, but NormaliseName(%q) = %q", s, k, k, again)
		}
		if strings.Contains(k, "  ") || strings.TrimSpace(k) != k {
			t.Errorf("NormaliseName(%q) = %q: spaces not collapsed", s, k)
		}
		for _, r := range k {
			if r != ' ' && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
				t.Errorf("NormaliseName(%q) = %q: holds %q", s, k, r)
			}
		}
	})
}
