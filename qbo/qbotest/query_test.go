package qbotest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want *Query
	}{
		{"SELECT * FROM Invoice", &Query{Entity: "Invoice"}},
		{"select count(*) from customer", &Query{Count: true, Entity: "customer"}},
		{"Select * From Customer Where DisplayName = 'O''Brien' and Active = true",
			&Query{Entity: "Customer", Where: []Cond{
				{Field: "DisplayName", Op: "=", Values: []Value{{Text: "O'Brien", Quoted: true}}},
				{Field: "Active", Op: "=", Values: []Value{{Text: "true"}}},
			}}},
		{`SELECT * FROM Customer WHERE DisplayName = 'O\'Brien'`,
			&Query{Entity: "Customer", Where: []Cond{{Field: "DisplayName", Op: "=", Values: []Value{{Text: "O'Brien", Quoted: true}}}}}},
		{"SELECT * FROM Invoice WHERE DocNumber IN ('1', '2') ORDERBY MetaData.LastUpdatedTime DESC STARTPOSITION 11 MAXRESULTS 10",
			&Query{Entity: "Invoice", Where: []Cond{{Field: "DocNumber", Op: "IN", Values: []Value{{Text: "1", Quoted: true}, {Text: "2", Quoted: true}}}},
				OrderBy: []Order{{Field: "MetaData.LastUpdatedTime", Desc: true}}, Start: 11, HasStart: true, Max: 10, HasMax: true}},
		{"SELECT * FROM Item WHERE Name LIKE '%Wid%' MAXRESULTS 5 STARTPOSITION 2",
			&Query{Entity: "Item", Where: []Cond{{Field: "Name", Op: "LIKE", Values: []Value{{Text: "%Wid%", Quoted: true}}}},
				Start: 2, HasStart: true, Max: 5, HasMax: true}},
		{"SELECT * FROM Invoice WHERE TotalAmt >= 10.50 ORDER BY Id",
			&Query{Entity: "Invoice", Where: []Cond{{Field: "TotalAmt", Op: ">=", Values: []Value{{Text: "10.50"}}}},
				OrderBy: []Order{{Field: "Id"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			got, err := ParseQuery(tt.src)
			if err != nil {
				t.Fatalf("ParseQuery: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{
		"", "SELECT", "SELECT * FROM", "SELECT * Invoice", "SELECT * FROM Invoice WHERE",
		"SELECT * FROM Invoice WHERE DocNumber = 'x", "SELECT * FROM Invoice WHERE DocNumber",
		"SELECT * FROM Invoice WHERE DocNumber = 'a' OR Id = '1'", "SELECT * FROM Invoice MAXRESULTS x",
		"SELECT * FROM Invoice MAXRESULTS 1 MAXRESULTS 2", "SELECT * FROM null", "SELECT * FROM Invoice;",
		"SELECT * FROM Invoice WHERE Id IN ()", "SELECT * FROM Invoice STARTPOSITION 1.5",
	} {
		t.Run("Err/"+bad, func(t *testing.T) {
			if q, err := ParseQuery(bad); err == nil {
				t.Errorf("ParseQuery(%q): got %+v, nil; want error", bad, q)
			}
		})
	}
}

func TestServer_Query(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := 1; i <= 120; i++ {
		m := e.receipt(fmt.Sprintf("Q-%03d", i))
		m["TxnDate"] = fmt.Sprintf("2026-01-%02d", 1+i%28)
		if i%50 == 0 {
			e.tok = e.s.IssueAccessToken() // the fake clock passes an access token's hour
		}
		e.create("salesreceipt", m)
		e.clock.Advance(time1m)
	}
	e.s.AddCustomer("Pat O'Brien", "pat@example.com")
	retired := e.s.AddCustomer("Retired Co", "")
	if err := e.s.PersonEdit("Customer", retired, func(m map[string]any) { m["Active"] = false }); err != nil {
		t.Fatal(err)
	}

	ids := func(r result, key string) []string {
		qr := r.ok(t, "QueryResponse")
		var out []string
		for _, x := range list(qr[key]) {
			out = append(out, str(obj(x)["DocNumber"])+str(obj(x)["DisplayName"]))
		}
		return out
	}
	tests := []struct {
		name  string
		query string
		key   string
		n     int
		first string
	}{
		{"DefaultMax100", "select * from SalesReceipt", "SalesReceipt", 100, "Q-001"},
		{"Page2", "select * from SalesReceipt STARTPOSITION 101 MAXRESULTS 100", "SalesReceipt", 20, "Q-101"},
		{"Max1000", "select * from SalesReceipt MAXRESULTS 1000", "SalesReceipt", 120, "Q-001"},
		{"Eq", "select * from SalesReceipt where DocNumber = 'Q-042'", "SalesReceipt", 1, "Q-042"},
		{"In", "select * from SalesReceipt where DocNumber in ('Q-002', 'Q-003', 'nope')", "SalesReceipt", 2, "Q-002"},
		{"Like", "select * from SalesReceipt where DocNumber like 'Q-11%'", "SalesReceipt", 10, "Q-110"},
		{"OrderDesc", "select * from SalesReceipt orderby DocNumber desc maxresults 3", "SalesReceipt", 3, "Q-120"},
		{"UpdatedSince", "select * from SalesReceipt where MetaData.LastUpdatedTime >= '" +
			e.clock.Now().Add(-5*time1m).Format("2006-01-02T15:04:05-07:00") + "'", "SalesReceipt", 5, "Q-116"},
		{"TxnDate", "select * from SalesReceipt where TxnDate < '2026-01-03'", "SalesReceipt", 9, "Q-001"},
		{"CustomerRef", "select * from SalesReceipt where CustomerRef = '" + e.cust + "' maxresults 1", "SalesReceipt", 1, "Q-001"},
		{"Escaped", "select * from Customer where DisplayName = 'Pat O''Brien'", "Customer", 1, "Pat O'Brien"},
		{"ActiveOnlyByDefault", "select * from Customer", "Customer", 2, "Jane Doe"},
		{"InactiveWhenAsked", "select * from Customer where Active in (true, false)", "Customer", 3, "Jane Doe"},
		{"Email", "select * from Customer where PrimaryEmailAddr = 'pat@example.com'", "Customer", 1, "Pat O'Brien"},
		{"Sku", "select * from Item where Sku = 'SKU-2'", "Item", 1, ""},
		// The console's search: LIKE '%text%' on a name or an email, any
		// case, with a quote escaped as qbo.ContainsPattern escapes it.
		{"LikeContains", "select * from Customer where DisplayName like '%o\\'bri%'", "Customer", 1, "Pat O'Brien"},
		{"LikeEmail", "select * from Customer where PrimaryEmailAddr like '%PAT@%'", "Customer", 1, "Pat O'Brien"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(e.query(tt.query), tt.key)
			if len(got) != tt.n {
				t.Fatalf("rows: got %d; want %d (%v)", len(got), tt.n, got)
			}
			if tt.first != "" && got[0] != tt.first {
				t.Errorf("first row: got %q; want %q", got[0], tt.first)
			}
		})
	}
	t.Run("Envelope", func(t *testing.T) {
		qr := e.query("select * from SalesReceipt startposition 5 maxresults 2").ok(t, "QueryResponse")
		if str(qr["startPosition"]) != "5" || str(qr["maxResults"]) != "2" {
			t.Errorf("got startPosition %v maxResults %v; want 5, 2", qr["startPosition"], qr["maxResults"])
		}
	})
	t.Run("Empty", func(t *testing.T) {
		r := e.query("select * from Invoice")
		if qr := r.ok(t, "QueryResponse"); len(qr) != 0 {
			t.Errorf("got %v; want {}", qr)
		}
		if qr := e.query("select * from SalesReceipt startposition 500").ok(t, "QueryResponse"); len(qr) != 0 {
			t.Errorf("past the end: got %v; want {}", qr)
		}
	})
	t.Run("Count", func(t *testing.T) {
		qr := e.query("SELECT COUNT(*) FROM SalesReceipt WHERE DocNumber LIKE 'Q-0%'").ok(t, "QueryResponse")
		if str(qr["totalCount"]) != "99" {
			t.Errorf("totalCount: got %v; want 99", qr["totalCount"])
		}
	})
	t.Run("PostTextPlain", func(t *testing.T) {
		r := e.doURL(http.MethodPost, e.s.CompanyURL()+"/query", nil, "select * from Item where Name = 'Widget'", "application/text")
		if got := list(r.ok(t, "QueryResponse")["Item"]); len(got) != 1 {
			t.Errorf("got %d items; want 1", len(got))
		}
	})
	faults := []struct{ query, code string }{
		{"select * from SalesReceipt startposition 0", "4001"},
		{"select * from SalesReceipt maxresults 1001", "4001"},
		{"select * from SalesReceipt maxresults 0", "4001"},
		{"select * from Payment where DocNumber = '1'", "4001"},
		{"select * from SalesReceipt where Bogus = '1'", "4001"},
		{"select * from Widget", "4001"},
		{"select from SalesReceipt", "4000"},
		{"select * from SalesReceipt where DocNumber = 'unterminated", "4000"},
	}
	for _, f := range faults {
		t.Run("Fault/"+f.query, func(t *testing.T) {
			code, _ := e.query(f.query).fault(t, http.StatusBadRequest)
			if code != f.code {
				t.Errorf("code: got %s; want %s", code, f.code)
			}
		})
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM Invoice",
		"select count(*) from Customer where Active = true",
		"SELECT * FROM Customer WHERE DisplayName = 'O''Brien' AND Id IN ('1','2') ORDERBY Id DESC STARTPOSITION 1 MAXRESULTS 1000",
		`SELECT * FROM Item WHERE Name LIKE '%a\'b%'`,
		"SELECT * FROM SalesReceipt WHERE MetaData.LastUpdatedTime >= '2026-01-01T00:00:00-08:00' ORDER BY TxnDate ASC",
		"SELECT * FROM x WHERE a <= -1.5",
		"'", "SELECT * FROM Invoice WHERE DocNumber = '",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := ParseQuery(src)
		if err != nil {
			if q != nil {
				t.Fatalf("ParseQuery(%q) returned both a query and %v", src, err)
			}
			return
		}
		if q.Entity == "" {
			t.Fatalf("ParseQuery(%q): empty entity", src)
		}
		for _, c := range q.Where {
			if c.Field == "" || len(c.Values) == 0 {
				t.Fatalf("ParseQuery(%q): bad condition %+v", src, c)
			}
		}
		// Re-rendering the parsed query must parse to the same thing.
		again, err := ParseQuery(render(q))
		if err != nil {
			t.Fatalf("render(%q) = %q does not parse: %v", src, render(q), err)
		}
		if diff := cmp.Diff(q, again); diff != "" {
			t.Fatalf("round trip of %q (-first +second):\n%s", src, diff)
		}
	})
}

// render prints a Query back as QBO query text.
func render(q *Query) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	if q.Count {
		b.WriteString("COUNT(*)")
	} else {
		b.WriteString("*")
	}
	b.WriteString(" FROM " + q.Entity)
	for i, c := range q.Where {
		if i == 0 {
			b.WriteString(" WHERE ")
		} else {
			b.WriteString(" AND ")
		}
		vals := make([]string, len(c.Values))
		for j, v := range c.Values {
			vals[j] = v.Text
			if v.Quoted {
				vals[j] = "'" + strings.ReplaceAll(strings.ReplaceAll(v.Text, `\`, `\\`), "'", "''") + "'"
			}
		}
		if c.Op == "IN" {
			b.WriteString(c.Field + " IN (" + strings.Join(vals, ",") + ")")
		} else {
			b.WriteString(c.Field + " " + c.Op + " " + vals[0])
		}
	}
	for i, o := range q.OrderBy {
		if i == 0 {
			b.WriteString(" ORDERBY ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(o.Field)
		if o.Desc {
			b.WriteString(" DESC")
		}
	}
	if q.HasStart {
		fmt.Fprintf(&b, " STARTPOSITION %d", q.Start)
	}
	if q.HasMax {
		fmt.Fprintf(&b, " MAXRESULTS %d", q.Max)
	}
	return b.String()
}
