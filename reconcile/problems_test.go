package reconcile_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/reconcile"
)

func TestGroupByReason(t *testing.T) {
	cust := func(id string) reconcile.Reason {
		return reconcile.Reason{Code: reconcile.CodeCustomerNotLinked, Subject: reconcile.Subject{Kind: reconcile.SubjectCustomer, ID: id},
			Fix: reconcile.Fix{Action: reconcile.FixLinkCustomer, ID: id}}
	}
	prod := func(id string) reconcile.Reason {
		return reconcile.Reason{Code: reconcile.CodeProductNotLinked, Subject: reconcile.Subject{Kind: reconcile.SubjectProduct, ID: id},
			Fix: reconcile.Fix{Action: reconcile.FixLinkProduct, ID: id}}
	}
	type item struct {
		order   string
		reasons reconcile.Reasons
	}
	of := func(it item) (reconcile.Reasons, reconcile.Subject) {
		return it.reasons, reconcile.Subject{Kind: reconcile.SubjectOrder, ID: it.order}
	}
	type group struct {
		Code     reconcile.ReasonCode
		Orders   []string
		Subjects []reconcile.SubjectCount
	}
	flat := func(gs []reconcile.ReasonGroup[item]) []group {
		out := []group{}
		for _, g := range gs {
			fg := group{Code: g.Code, Subjects: g.Subjects}
			for _, it := range g.Items {
				fg.Orders = append(fg.Orders, it.order)
			}
			out = append(out, fg)
		}
		return out
	}
	count := func(r reconcile.Reason, n int) reconcile.SubjectCount {
		return reconcile.SubjectCount{Subject: r.Subject, Fix: r.Fix, N: n}
	}
	orderSubject := func(n string) reconcile.SubjectCount {
		return reconcile.SubjectCount{Subject: reconcile.Subject{Kind: reconcile.SubjectOrder, ID: n}, N: 1}
	}
	for _, tc := range []struct {
		name  string
		items []item
		want  []group
	}{
		{name: "None", want: []group{}},
		{
			// Product 7 blocks three orders: its group comes first and it
			// is its first subject; an order with two products counts
			// once in the group, each product once.
			name: "MostFrequentFirst",
			items: []item{
				{"1001", reconcile.Reasons{cust("c1")}},
				{"1002", reconcile.Reasons{prod("p7"), prod("p8")}},
				{"1003", reconcile.Reasons{prod("p7"), cust("c1")}},
				{"1004", reconcile.Reasons{prod("p7")}},
			},
			want: []group{
				{Code: reconcile.CodeProductNotLinked, Orders: []string{"1002", "1003", "1004"},
					Subjects: []reconcile.SubjectCount{count(prod("p7"), 3), count(prod("p8"), 1)}},
				{Code: reconcile.CodeCustomerNotLinked, Orders: []string{"1001", "1003"},
					Subjects: []reconcile.SubjectCount{count(cust("c1"), 2)}},
			},
		},
		{
			// Without reasons an item is about its order, in "other";
			// ties go by code.
			name: "Other",
			items: []item{
				{"1002", nil},
				{"1001", reconcile.Reasons{cust("c1")}},
			},
			want: []group{
				{Code: reconcile.CodeCustomerNotLinked, Orders: []string{"1001"}, Subjects: []reconcile.SubjectCount{count(cust("c1"), 1)}},
				{Code: reconcile.GroupOther, Orders: []string{"1002"}, Subjects: []reconcile.SubjectCount{orderSubject("1002")}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := flat(reconcile.GroupByReason(tc.items, of))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupByAction(t *testing.T) {
	items := []reconcile.Item{
		{OrderNumber: "1", Action: reconcile.ActionBlocked},
		{OrderNumber: "2", Action: reconcile.ActionCreate, QBOType: "SalesReceipt"},
		{OrderNumber: "3", Action: reconcile.ActionCreate, QBOType: "Invoice"},
		{OrderNumber: "4", Action: reconcile.ActionCreate, QBOType: "SalesReceipt"},
	}
	type group struct {
		Action reconcile.Action
		N      int
		ByType map[string]int
	}
	var got []group
	for _, g := range reconcile.GroupByAction(items) {
		got = append(got, group{g.Action, len(g.Items), g.ByType})
	}
	want := []group{
		{reconcile.ActionCreate, 3, map[string]int{"SalesReceipt": 2, "Invoice": 1}},
		{reconcile.ActionBlocked, 1, map[string]int{}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
}

// TestProblems: after a person changed documents in QBO and a verify, the
// problems are the deleted receipt (from the ledger, fixed by a resync)
// and the other drift (kept from the verify, no fix), next to an order
// blocked by an unlinked product.
func TestProblems(t *testing.T) {
	h := newEngHarness(t)
	verifyScenario(h)
	plantDrift(h)
	h.verify(reconcile.VerifyOptions{Full: true})
	o := engOrder("ord_9", "1009", 1)
	o.Lines[0].ProductID = "prod_404"
	h.v.AddOrder(o)
	h.run(reconcile.Options{})

	got, err := reconcile.Problems(h.ctx, h.store)
	if err != nil {
		t.Fatalf("Problems: %v", err)
	}
	type row struct {
		State  reconcile.ProblemState
		Source string
		Code   reconcile.ReasonCode
		Fix    reconcile.Fix
	}
	var rows []row
	for _, p := range got {
		if len(p.Reasons) == 0 {
			t.Errorf("problem %+v: no reasons", p)
			continue
		}
		rows = append(rows, row{p.State, p.SourceID, p.Reasons[0].Code, p.Reasons[0].Fix})
	}
	want := []row{
		{reconcile.ProblemBlocked, "ord_9", reconcile.CodeProductNotLinked, reconcile.Fix{Action: reconcile.FixLinkProduct, ID: "prod_404"}},
		{reconcile.ProblemDeleted, "ord_1", reconcile.CodeDeletedInQBO, reconcile.Fix{Action: reconcile.FixResync, ID: "1001"}},
		{reconcile.ProblemDrift, "ord_2", reconcile.DriftVoided, reconcile.Fix{}},
		{reconcile.ProblemDrift, "ord_3", reconcile.DriftTotalChanged, reconcile.Fix{}},
		{reconcile.ProblemDrift, "ord_4", reconcile.DriftCustomerChanged, reconcile.Fix{}},
		{reconcile.ProblemDrift, "ord_5", reconcile.DriftSyncTokenMoved, reconcile.Fix{}},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	for _, p := range got {
		if p.State == reconcile.ProblemDrift && (p.Since.IsZero() || p.Reasons[0].Subject != (reconcile.Subject{Kind: reconcile.SubjectOrder, ID: p.OrderNumber})) {
			t.Errorf("drift %+v: want the verify's time and the order as subject", p)
		}
	}
}
