package reconcile

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/velqbo/velqbo/qbo"
)

// CustomerQuerier pages a query of QBO customers; *qbo.CustomersService
// implements it. Errors are the qbo client's.
type CustomerQuerier interface {
	Query(ctx context.Context, clause string, page qbo.Page) ([]qbo.Customer, *qbo.Response, error)
}

// ItemQuerier pages a query of QBO items; *qbo.ItemsService implements it.
type ItemQuerier interface {
	Query(ctx context.Context, clause string, page qbo.Page) ([]qbo.Item, *qbo.Response, error)
}

// SearchPage is one page of a search: Offset (0-based) and Size.
type SearchPage struct{ Offset, Size int }

// maxSearchReach is how far into a search paging goes: every field's query
// is read from its start, one QBO page of at most qbo.MaxPageSize.
const maxSearchReach = qbo.MaxPageSize - 1

// Found is one page of a search's results; More is set when a next page
// has results.
type Found[T any] struct {
	Results []T
	More    bool
}

// SearchQBOCustomers finds the QBO customers whose DisplayName, company
// name or email contains text (any case), ordered by DisplayName, one
// page of them. QBO's query language has no OR, so each field is one
// query (`<field> LIKE '%text%'`) and the answers are merged; each is
// filtered again here because QBO's LIKE cannot escape a % in text (it
// stays a wildcard there). DisplayName is filterable in QBO's
// documentation; CompanyName and PrimaryEmailAddr are not established, so
// a validation fault on one of those queries drops that field from the
// search instead of failing it.
// Paging reaches qbo.MaxPageSize results. Blank text finds nothing. Errors
// are the qbo client's, wrapped.
func SearchQBOCustomers(ctx context.Context, q CustomerQuerier, text string, page SearchPage) (Found[QBOCustomer], error) {
	return search(ctx, text, page, []string{"DisplayName", "CompanyName", "PrimaryEmailAddr"},
		func(clause string, p qbo.Page) ([]QBOCustomer, error) {
			cs, _, err := q.Query(ctx, clause+" ORDERBY DisplayName", p)
			if err != nil {
				return nil, fmt.Errorf("search QBO customers: %w", err)
			}
			out := make([]QBOCustomer, len(cs))
			for i := range cs {
				out[i] = QBOCustomerOf(&cs[i])
			}
			return out, nil
		},
		func(c QBOCustomer) (string, string, []string) {
			return c.ID, c.Label(), []string{c.DisplayName, c.Company, c.Email}
		})
}

// SearchQBOItems finds the QBO items whose name or SKU contains text (any
// case), ordered by name, one page of them; as SearchQBOCustomers (Name is
// the field a search always asks; a validation fault on Sku drops it).
// Categories come back inactive (QBOItemOf): they cannot be linked.
func SearchQBOItems(ctx context.Context, q ItemQuerier, text string, page SearchPage) (Found[QBOItem], error) {
	return search(ctx, text, page, []string{"Name", "Sku"},
		func(clause string, p qbo.Page) ([]QBOItem, error) {
			its, _, err := q.Query(ctx, clause+" ORDERBY Name", p)
			if err != nil {
				return nil, fmt.Errorf("search QBO items: %w", err)
			}
			out := make([]QBOItem, len(its))
			for i := range its {
				out[i] = QBOItemOf(&its[i])
			}
			return out, nil
		},
		func(it QBOItem) (string, string, []string) { return it.ID, it.Name, []string{it.Name, it.SKU} })
}

// search runs one LIKE query per field, each from its start up to the end
// of the wanted page (plus one, to know whether there is more), and merges
// them by id. fields[0] must answer; a later field whose query QBO refuses
// as invalid (qbo.IsValidation: a field it does not filter on) is skipped,
// so a company that does not support it still finds by the first.
func search[T any](ctx context.Context, text string, page SearchPage, fields []string,
	query func(clause string, p qbo.Page) ([]T, error), key func(T) (id, name string, values []string)) (Found[T], error) {
	pat := qbo.ContainsPattern(text)
	if pat == "" || page.Size <= 0 {
		return Found[T]{}, nil
	}
	page.Offset = max(page.Offset, 0)
	reach := min(page.Offset+page.Size+1, maxSearchReach+1)
	want := strings.ToLower(strings.TrimSpace(text))
	seen := map[string]bool{}
	var all []T
	for i, f := range fields {
		rs, err := query("WHERE "+f+" LIKE "+pat, qbo.Page{StartPosition: 1, MaxResults: reach})
		if err != nil && i > 0 && qbo.IsValidation(err) {
			continue
		}
		if err != nil {
			return Found[T]{}, err
		}
		for _, r := range rs {
			id, _, values := key(r)
			if seen[id] || !slices.ContainsFunc(values, func(v string) bool { return strings.Contains(strings.ToLower(v), want) }) {
				continue
			}
			seen[id] = true
			all = append(all, r)
		}
	}
	slices.SortFunc(all, func(a, b T) int {
		ida, na, _ := key(a)
		idb, nb, _ := key(b)
		return cmp.Or(strings.Compare(strings.ToLower(na), strings.ToLower(nb)), compareIDs(ida, idb))
	})
	if page.Offset >= len(all) {
		return Found[T]{}, nil
	}
	end := min(page.Offset+page.Size, len(all))
	return Found[T]{Results: all[page.Offset:end], More: len(all) > end}, nil
}
