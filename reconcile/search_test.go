package reconcile_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

func newSearchClient(t *testing.T) (*qbotest.Server, *qbo.Client) {
	t.Helper()
	srv := qbotest.NewTestServer(t, qbotest.WithoutLimits())
	hc := &http.Client{Transport: &oauth2.Transport{
		Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: srv.IssueAccessToken()}),
		Base:   srv.Client().Transport,
	}}
	c, err := qbo.NewClient(hc, qbo.WithBaseURL(srv.URL), qbo.WithRealmID(srv.Realm()),
		qbo.WithPacing(qbo.Pacing{RequestsPerMinute: 100000, BatchRequestsPerMinute: 10000, MaxInFlight: 10}))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func TestSearchQBOCustomers(t *testing.T) {
	t.Parallel()
	srv, c := newSearchClient(t)
	for _, x := range []struct{ name, email string }{
		{"Pat O'Brien", "pat@example.com"},
		{"Shop 3", "three@shops.example"},
		{"Shop 1", "one@shops.example"},
		{"Shop 2", "two@shops.example"},
		{"50% Off Ltd", "deals@example.org"},
		{"Ana Lima", "ana@obrien.example"},
	} {
		srv.AddCustomer(x.name, x.email)
	}
	tests := []struct {
		name string
		text string
		page reconcile.SearchPage
		want []string // labels
		more bool
	}{
		{"NameAnyCase", "o'bri", reconcile.SearchPage{Size: 10}, []string{"Pat O'Brien"}, false},
		{"NameOrEmailMerged", "obrien", reconcile.SearchPage{Size: 10}, []string{"Ana Lima"}, false},
		{"Email", "EXAMPLE.ORG", reconcile.SearchPage{Size: 10}, []string{"50% Off Ltd"}, false},
		{"FirstPage", "shop", reconcile.SearchPage{Size: 2}, []string{"Shop 1", "Shop 2"}, true},
		{"LastPage", "shop", reconcile.SearchPage{Offset: 2, Size: 2}, []string{"Shop 3"}, false},
		{"PastTheEnd", "shop", reconcile.SearchPage{Offset: 9, Size: 2}, nil, false},
		// QBO's LIKE cannot escape %: the pattern drops it, the answer is
		// filtered here on the text as typed.
		{"PercentIsLiteral", "50% off", reconcile.SearchPage{Size: 10}, []string{"50% Off Ltd"}, false},
		{"Blank", "  ", reconcile.SearchPage{Size: 10}, nil, false},
		{"QuoteCannotEndTheLiteral", "' OR DisplayName LIKE '%", reconcile.SearchPage{Size: 10}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := reconcile.SearchQBOCustomers(t.Context(), c.Customers, tt.text, tt.page)
			if err != nil {
				t.Fatal(err)
			}
			var labels []string
			for _, r := range got.Results {
				labels = append(labels, r.Label())
			}
			if diff := cmp.Diff(tt.want, labels); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if got.More != tt.more {
				t.Errorf("more: got %v; want %v", got.More, tt.more)
			}
		})
	}
}

func TestSearchQBOItems(t *testing.T) {
	t.Parallel()
	srv, c := newSearchClient(t)
	srv.AddItem("Blue Widget", "WID-1")
	srv.AddItem("Red Gadget", "GAD-9")
	for _, tt := range []struct {
		text string
		want []string
	}{
		{"widget", []string{"Blue Widget"}},
		{"gad-9", []string{"Red Gadget"}},
		{"nothing", nil},
	} {
		t.Run(tt.text, func(t *testing.T) {
			got, err := reconcile.SearchQBOItems(t.Context(), c.Items, tt.text, reconcile.SearchPage{Size: 5})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range got.Results {
				names = append(names, r.Name)
			}
			if diff := cmp.Diff(tt.want, names); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		})
	}
}

// listStore is a LinkLister over fixed links and blocked counts.
type listStore struct {
	links   map[string]schema.Link
	blocked map[string]int
}

func (s listStore) Links(_ context.Context, _ schema.LinkKind, ids []string) (map[string]schema.Link, error) {
	out := map[string]schema.Link{}
	for _, id := range ids {
		if l, ok := s.links[id]; ok {
			out[id] = l
		}
	}
	return out, nil
}

func (s listStore) BlockedOrdersBySubject(context.Context, string) (map[string]int, error) {
	return s.blocked, nil
}

func TestListLinks(t *testing.T) {
	t.Parallel()
	st := listStore{
		links:   map[string]schema.Link{"cus_2": {VelocityID: "cus_2", QBOID: "58", QBOName: "Acme Corp", Method: schema.LinkManual}},
		blocked: map[string]int{"cus_1": 3, "cus_2": 1},
	}
	tests := []struct {
		name string
		f    reconcile.LinkFilter
		want []string // Velocity ids
	}{
		{"All", reconcile.LinkFilter{}, []string{"cus_1", "cus_2"}},
		{"Unlinked", reconcile.LinkFilter{Unlinked: true}, []string{"cus_1"}},
		{"Blocking", reconcile.LinkFilter{Blocking: true}, []string{"cus_1", "cus_2"}},
		{"TextMatchesQBOName", reconcile.LinkFilter{Text: "ACME"}, []string{"cus_2"}},
		{"TextMatchesNothing", reconcile.LinkFilter{Text: "zzz"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := reconcile.ListLinks(t.Context(), linkSource{}, st, schema.CustomerLinks, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range got.Rows {
				ids = append(ids, r.VelocityID)
				if tt.f.Blocking && r.Blocking != st.blocked[r.VelocityID] {
					t.Errorf("%s blocks: got %d; want %d", r.VelocityID, r.Blocking, st.blocked[r.VelocityID])
				}
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			if len(got.Invalid) != 1 {
				t.Errorf("invalid: got %q; want the one invalid customer", got.Invalid)
			}
		})
	}
}

// TestSearch_FieldQBORefuses: whether QBO filters customers on
// PrimaryEmailAddr/CompanyName and items on Sku is not established; a
// validation fault on such a query drops that field, while a fault on the
// first field (or any other error) fails the search.
func TestSearch_FieldQBORefuses(t *testing.T) {
	t.Parallel()
	fault := []byte(`{"Fault":{"Error":[{"Message":"Invalid query","Detail":"QueryValidationError: property is not queryable","code":"4001"}],"type":"ValidationFault"},"time":"2026-11-26T10:00:00.000-08:00"}`)
	authFault := []byte(`{"Fault":{"Error":[{"Message":"Authorization Failure","Detail":"AuthorizationFault: not authorized","code":"003100"}],"type":"AuthorizationFault"},"time":"2026-11-26T10:00:00.000-08:00"}`)
	tests := []struct {
		name    string
		field   string
		status  int
		want    []string
		wantErr bool
	}{
		{"EmailRefusedNameStillFinds", "PrimaryEmailAddr", http.StatusBadRequest, []string{"Obrien Supply"}, false},
		{"CompanyRefused", "CompanyName", http.StatusBadRequest, []string{"Obrien Supply", "Zed"}, false},
		{"FirstFieldRefusedFails", "DisplayName", http.StatusBadRequest, nil, true},
		{"AuthFaultOnLaterFieldFails", "PrimaryEmailAddr", http.StatusForbidden, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newSearchClient(t)
			srv.AddCustomer("Obrien Supply", "sales@supply.example")
			srv.AddCustomer("Zed", "zed@obrien.example")
			body := fault
			if tt.status != http.StatusBadRequest {
				body = authFault
			}
			srv.Inject(qbotest.Injection{
				Match: func(c *qbotest.Call) bool {
					return c.Operation == "query" && strings.Contains(c.Query.Get("query"), tt.field+" LIKE")
				},
				Status: tt.status, Body: body,
			})
			got, err := reconcile.SearchQBOCustomers(t.Context(), c.Customers, "obrien", reconcile.SearchPage{Size: 10})
			if (err != nil) != tt.wantErr {
				t.Fatalf("got err %v; want error %v", err, tt.wantErr)
			}
			var labels []string
			for _, r := range got.Results {
				labels = append(labels, r.DisplayName)
			}
			if diff := cmp.Diff(tt.want, labels); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		})
	}
}
