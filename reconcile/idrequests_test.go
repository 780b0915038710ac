package reconcile

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/qbo"
)

// TestIDRequests: ids go into queries of VerifyIDsPerQuery, per type in
// the order of types, and the queries into requests of qbo.MaxBatchItems.
func TestIDRequests(t *testing.T) {
	ids := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s%d", prefix, i)
		}
		return out
	}
	many := ids("r", VerifyIDsPerQuery*qbo.MaxBatchItems+1)
	tests := []struct {
		name  string
		types []string
		ids   map[string][]string
		want  [][]int // per request, the number of ids of each query
	}{
		{"none", []string{TypeInvoice}, nil, nil},
		{"one query", []string{TypeInvoice}, map[string][]string{TypeInvoice: ids("i", 3)}, [][]int{{3}}},
		{"a full query and the rest", []string{TypeInvoice}, map[string][]string{TypeInvoice: ids("i", VerifyIDsPerQuery+1)},
			[][]int{{VerifyIDsPerQuery, 1}}},
		{"types in order, never mixed in a query", []string{TypeSalesReceipt, TypeInvoice},
			map[string][]string{TypeInvoice: ids("i", 2), TypeSalesReceipt: ids("s", 1)}, [][]int{{1, 2}}},
		{"a request is at most MaxBatchItems queries", []string{TypeSalesReceipt}, map[string][]string{TypeSalesReceipt: many},
			[][]int{fill(qbo.MaxBatchItems, VerifyIDsPerQuery), {1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [][]int
			var seen []string
			for qs := range idRequests(tt.types, tt.ids) {
				var sizes []int
				for _, q := range qs {
					sizes = append(sizes, len(q.IDs))
					for _, id := range q.IDs {
						seen = append(seen, q.Type+":"+id)
					}
				}
				got = append(got, sizes)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("query sizes per request (-want +got):\n%s", diff)
			}
			var want []string
			for _, typ := range tt.types {
				for _, id := range tt.ids[typ] {
					want = append(want, typ+":"+id)
				}
			}
			if diff := cmp.Diff(want, seen); diff != "" {
				t.Errorf("ids asked for (-want +got):\n%s", diff)
			}
		})
	}
}

func fill(n, v int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}
