package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

func TestCheckLink(t *testing.T) {
	t.Parallel()
	active := &reconcile.LinkTarget{ID: "58", Name: "Acme", Active: true}
	tests := []struct {
		name     string
		facts    reconcile.LinkFacts
		wantCode reconcile.LinkRefusal // "" : allowed
		wantText string                // a part of the message
	}{
		{"Allowed", reconcile.LinkFacts{QBO: active}, "", ""},
		{"RelinkSameRecord", reconcile.LinkFacts{QBO: active, HeldBy: []string{"cus_1"}}, "", ""},
		{"NoVelocity", reconcile.LinkFacts{VelocityErr: fmt.Errorf("get: %w", velocity.ErrNotFound), QBO: active},
			reconcile.LinkNoVelocity, "Velocity has no customer cus_1"},
		{"InvalidVelocity", reconcile.LinkFacts{VelocityErr: &velocity.ObjectError{Kind: "customer", ID: "cus_1", Reason: "email: missing"}, QBO: active},
			reconcile.LinkInvalidVelocity, "Velocity customer cus_1 is invalid: email: missing"},
		{"NoQBO", reconcile.LinkFacts{}, reconcile.LinkNoQBO, "QBO has no customer with id 58"},
		{"InactiveQBO", reconcile.LinkFacts{QBO: &reconcile.LinkTarget{ID: "58", Name: "Acme"}},
			reconcile.LinkInactiveQBO, `QBO customer 58 ("Acme") is inactive`},
		{"HeldElsewhere", reconcile.LinkFacts{QBO: active, HeldBy: []string{"cus_7"}},
			reconcile.LinkHeld, `QBO customer 58 ("Acme") is already linked to Velocity customer cus_7; pass --force`},
		{"HeldElsewhereForced", reconcile.LinkFacts{QBO: active, HeldBy: []string{"cus_7"}, Force: true}, "", ""},
		{"ForceDoesNotLinkInactive", reconcile.LinkFacts{QBO: &reconcile.LinkTarget{ID: "58", Name: "Acme"}, Force: true},
			reconcile.LinkInactiveQBO, "is inactive"},
		{"ForceDoesNotLinkMissingVelocity", reconcile.LinkFacts{VelocityErr: velocity.ErrNotFound, QBO: active, Force: true},
			reconcile.LinkNoVelocity, "no customer cus_1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.facts
			f.Kind, f.VelocityID, f.QBOID = schema.CustomerLinks, "cus_1", "58"
			err := reconcile.CheckLink(f)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("CheckLink: got %v; want nil", err)
				}
				return
			}
			var re *reconcile.LinkRefusedError
			if !errors.As(err, &re) {
				t.Fatalf("CheckLink: got %v; want a *LinkRefusedError", err)
			}
			if re.Code != tt.wantCode || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("CheckLink: got %s %q; want %s with %q", re.Code, err, tt.wantCode, tt.wantText)
			}
		})
	}
	t.Run("ProductSaysItem", func(t *testing.T) {
		err := reconcile.CheckLink(reconcile.LinkFacts{Kind: schema.ProductLinks, VelocityID: "prod_1", QBOID: "9"})
		if got, want := err.Error(), "QBO has no item with id 9 (see `velqbo settings items`)"; got != want {
			t.Errorf("got %q; want %q", got, want)
		}
	})
	t.Run("SourceDown", func(t *testing.T) {
		err := reconcile.CheckLink(reconcile.LinkFacts{Kind: schema.CustomerLinks, VelocityErr: errors.New("503")})
		if !errors.Is(err, reconcile.ErrSourceUnavailable) {
			t.Errorf("got %v; want ErrSourceUnavailable", err)
		}
	})
}

// linkSource is a velocity.Source of a few customers and products, one of
// each invalid.
type linkSource struct{}

func (linkSource) Customers(context.Context, time.Time) iter.Seq2[*velocity.Customer, error] {
	return func(yield func(*velocity.Customer, error) bool) {
		_ = yield(&velocity.Customer{ID: "cus_1"}, nil) &&
			yield(nil, &velocity.ObjectError{Kind: "customer", ID: "cus_bad", Reason: "no email"}) &&
			yield(&velocity.Customer{ID: "cus_2"}, nil)
	}
}

func (linkSource) Products(context.Context, time.Time) iter.Seq2[*velocity.Product, error] {
	return func(yield func(*velocity.Product, error) bool) {
		_ = yield(&velocity.Product{ID: "prod_1"}, nil) &&
			yield(nil, &velocity.ObjectError{Kind: "product", ID: "prod_bad", Reason: "no sku"})
	}
}

func (linkSource) Orders(context.Context, time.Time) iter.Seq2[*velocity.Order, error] {
	return func(func(*velocity.Order, error) bool) {}
}

func TestFindVelocityRecord(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind schema.LinkKind
		id   string
		want string // "ok", "not found", "invalid"
	}{
		{schema.CustomerLinks, "cus_2", "ok"},
		{schema.CustomerLinks, "cus_9", "not found"},
		{schema.CustomerLinks, "cus_bad", "invalid"},
		{schema.ProductLinks, "prod_1", "ok"},
		{schema.ProductLinks, "prod_9", "not found"},
		{schema.ProductLinks, "prod_bad", "invalid"},
		{schema.ProductLinks, "cus_1", "not found"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+tt.id, func(t *testing.T) {
			err := reconcile.FindVelocityRecord(t.Context(), linkSource{}, tt.kind, tt.id)
			got := "ok"
			switch {
			case velocity.IsObjectError(err):
				got = "invalid"
			case errors.Is(err, velocity.ErrNotFound):
				got = "not found"
			case err != nil:
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("got %s; want %s", got, tt.want)
			}
		})
	}
}

// customerQuery is a CustomerWriter that answers every query with found.
type customerQuery struct {
	found   []qbo.Customer
	clauses []string
}

func (q *customerQuery) Create(context.Context, *qbo.Customer, *qbo.RequestOptions) (*qbo.Customer, *qbo.Response, error) {
	return nil, nil, errors.New("no create in this test")
}

func (q *customerQuery) QueryAll(_ context.Context, clause string) ([]qbo.Customer, error) {
	q.clauses = append(q.clauses, clause)
	return q.found, nil
}

func TestExistingCustomers(t *testing.T) {
	t.Parallel()
	no := false
	marker := "Created by velqbo " + reconcile.CreatedMarker("cus_1")
	qc := func(id, email string) qbo.Customer {
		return qbo.Customer{Id: id, DisplayName: "Q" + id, PrimaryEmailAddr: &qbo.EmailAddress{Address: email}}
	}
	inactive, mine, other := qc("5", "ana@example.com"), qc("6", "ana@example.com"), qc("7", "ana@example.com")
	inactive.Active, mine.Notes = &no, &marker
	other.Notes = new(reconcile.CreatedMarker("cus_2"))
	tests := []struct {
		name  string
		email string
		found []qbo.Customer
		want  []reconcile.ExistingCustomer
	}{
		{"None", "ana@example.com", nil, nil},
		{"SameEmailAnyCase", " Ana@Example.com ", []qbo.Customer{qc("12", "ANA@example.com"), qc("3", "ana@example.com")}, []reconcile.ExistingCustomer{
			{QBOID: "3", QBOName: "Q3", Reason: "same email ana@example.com"},
			{QBOID: "12", QBOName: "Q12", Reason: "same email ana@example.com"},
		}},
		{"InactiveAndOwnCreateLeftOut", "ana@example.com", []qbo.Customer{inactive, mine}, nil},
		{"CreatedFromAnotherCustomer", "ana@example.com", []qbo.Customer{other}, []reconcile.ExistingCustomer{
			{QBOID: "7", QBOName: "Q7", Reason: "same email ana@example.com"},
		}},
		{"OtherEmailFromQuery", "ana@example.com", []qbo.Customer{qc("8", "bob@example.com")}, nil},
		{"NoEmailNoQuery", " ", []qbo.Customer{qc("3", "")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &customerQuery{found: tt.found}
			got, err := reconcile.ExistingCustomers(t.Context(), q, &velocity.Customer{ID: "cus_1", Email: tt.email})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ExistingCustomers (-want +got):\n%s", diff)
			}
			if tt.name == "NoEmailNoQuery" && len(q.clauses) != 0 {
				t.Errorf("queries: got %q; want none without an email", q.clauses)
			}
		})
	}
}
