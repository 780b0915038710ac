package qbotest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/internal/clock"
)

func TestServer_Batch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	existing := e.create("salesreceipt", e.receipt("B-0"))
	bad := e.receipt("B-2")
	bad["CustomerRef"] = map[string]any{"value": "999"}
	req := map[string]any{"BatchItemRequest": []any{
		map[string]any{"bId": "1", "operation": "create", "SalesReceipt": e.receipt("B-1")},
		map[string]any{"bId": "2", "operation": "create", "SalesReceipt": bad},
		map[string]any{"bId": "3", "operation": "update", "SalesReceipt": map[string]any{
			"Id": existing["Id"], "SyncToken": "0", "sparse": true, "TrackingNum": "1Z1"}},
		map[string]any{"bId": "4", "operation": "update", "optionsData": "void", "SalesReceipt": map[string]any{
			"Id": existing["Id"], "SyncToken": "0", "sparse": true}}, // stale after item 3
		map[string]any{"bId": "5", "Query": "select * from SalesReceipt where DocNumber = 'B-1'"},
	}}
	r := e.post("batch", url.Values{"requestid": {"batch-1"}}, mustJSON(t, req))
	if r.status != 200 {
		t.Fatalf("status: got %d; want 200: %s", r.status, r.raw)
	}
	var got []string
	for _, it := range list(r.body["BatchItemResponse"]) {
		m := obj(it)
		switch {
		case m["Fault"] != nil:
			got = append(got, str(m["bId"])+":fault "+str(obj(list(obj(m["Fault"])["Error"])[0])["code"]))
		case m["SalesReceipt"] != nil:
			got = append(got, str(m["bId"])+":SalesReceipt "+str(obj(m["SalesReceipt"])["SyncToken"]))
		case m["QueryResponse"] != nil:
			got = append(got, fmt.Sprintf("%s:QueryResponse %d", str(m["bId"]), len(list(obj(m["QueryResponse"])["SalesReceipt"]))))
		}
	}
	want := []string{"1:SalesReceipt 0", "2:fault 610", "3:SalesReceipt 1", "4:fault 5010", "5:QueryResponse 1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("batch items (-want +got):\n%s", diff)
	}
	reqs := e.s.Requests()
	wantWrites := []WriteItem{{"create", "SalesReceipt", ""}, {"create", "SalesReceipt", ""},
		{"update", "SalesReceipt", str(existing["Id"])}, {"void", "SalesReceipt", str(existing["Id"])}}
	if diff := cmp.Diff(wantWrites, reqs[len(reqs)-1].Writes()); diff != "" {
		t.Errorf("Writes of the batch call (-want +got):\n%s", diff)
	}
	again := e.post("batch", url.Values{"requestid": {"batch-1"}}, mustJSON(t, req))
	if string(again.raw) != string(r.raw) {
		t.Errorf("batch replay differs")
	}
	if n := len(e.s.Entities("SalesReceipt")); n != 2 {
		t.Errorf("receipts: got %d; want 2", n)
	}

	t.Run("ErrTooMany", func(t *testing.T) {
		var items []any
		for i := range MaxBatchItems + 1 {
			items = append(items, map[string]any{"bId": fmt.Sprint(i), "operation": "create", "SalesReceipt": e.receipt(fmt.Sprint("T-", i))})
		}
		e.post("batch", nil, mustJSON(t, map[string]any{"BatchItemRequest": items})).fault(t, 400)
		if n := len(e.s.Entities("SalesReceipt")); n != 2 {
			t.Errorf("receipts after rejected batch: got %d; want 2", n)
		}
	})
}

// TestServer_BatchVoid: a batch item voids in exactly the forms the single
// endpoints accept (TestServer_Void), and a stale SyncToken faults that
// item alone with 5010.
func TestServer_BatchVoid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		entity, operation, options string
		token                      string
		wantFault                  string // "" for voided
	}{
		{"Invoice", "void", "", "0", ""},
		{"Invoice", "update", "void", "0", ""},
		{"SalesReceipt", "update", "void", "0", ""},
		{"SalesReceipt", "void", "", "0", "500"},
		{"Payment", "update", "void", "0", ""},
		{"Payment", "void", "", "0", "500"},
		{"RefundReceipt", "update", "void", "0", ""},
		{"RefundReceipt", "void", "", "0", ""},
		{"Invoice", "void", "", "7", "5010"},
		{"SalesReceipt", "update", "void", "7", "5010"},
	}
	for _, tt := range tests {
		t.Run(tt.entity+"/"+tt.operation+"/"+tt.options+"/"+tt.token, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			body := e.receipt("V-1")
			if tt.entity == "Payment" {
				body = map[string]any{"CustomerRef": map[string]any{"value": e.cust}, "TotalAmt": json.Number("5")}
			}
			other := str(e.create("salesreceipt", e.receipt("V-2"))["Id"])
			id := str(e.create(strings.ToLower(tt.entity), body)["Id"])
			item := map[string]any{"bId": "v", "operation": tt.operation,
				tt.entity: map[string]any{"Id": id, "SyncToken": tt.token, "sparse": true}}
			if tt.options != "" {
				item["optionsData"] = tt.options
			}
			r := e.post("batch", nil, mustJSON(t, map[string]any{"BatchItemRequest": []any{item,
				map[string]any{"bId": "u", "operation": "update", "SalesReceipt": map[string]any{
					"Id": other, "SyncToken": "0", "sparse": true, "TrackingNum": "1Z9"}}}}))
			if r.status != 200 {
				t.Fatalf("status: got %d; want 200: %s", r.status, r.raw)
			}
			items := list(r.body["BatchItemResponse"])
			if len(items) != 2 {
				t.Fatalf("items: got %d; want 2: %s", len(items), r.raw)
			}
			v, u := obj(items[0]), obj(items[1])
			if got := str(obj(u["SalesReceipt"])["TrackingNum"]); got != "1Z9" {
				t.Errorf("other item: got TrackingNum %q; want 1Z9 (an item faults alone): %s", got, r.raw)
			}
			if tt.wantFault != "" {
				code := ""
				if f := obj(v["Fault"]); f != nil {
					code = str(obj(list(f["Error"])[0])["code"])
				}
				if code != tt.wantFault {
					t.Errorf("fault: got %q; want %s: %s", code, tt.wantFault, r.raw)
				}
				for _, d := range e.s.Entities(tt.entity) {
					if d.Voided {
						t.Errorf("refused void voided %s %s", tt.entity, d.ID)
					}
				}
				return
			}
			doc := obj(v[tt.entity])
			if str(doc["TotalAmt"]) != "0" || str(doc["PrivateNote"]) != "Voided" || str(doc["SyncToken"]) != "1" {
				t.Errorf("voided: got TotalAmt %v PrivateNote %v SyncToken %v; want 0, Voided, 1", doc["TotalAmt"], doc["PrivateNote"], doc["SyncToken"])
			}
		})
	}
}

// TestServer_WriteFault: a write fault hook refuses the writes it matches,
// a single write as a batch item, and a batch's other items run; with
// Execute the write is committed before the fault is answered.
func TestServer_WriteFault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		fault       WriteFault
		wantCode    string
		wantStatus  int // of the single write
		wantWritten bool
	}{
		{"validation", WriteFault{Code: "6000"}, "6000", 400, false},
		{"system after commit", WriteFault{Type: FaultSystem, Code: "10000", Execute: true}, "10000", 500, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			f := tt.fault
			f.Match = func(op, entity string, body map[string]any) bool {
				return op == "create" && entity == "SalesReceipt" && strings.HasPrefix(str(body["DocNumber"]), "F-")
			}
			e.s.InjectWriteFault(f)
			r := e.post("batch", nil, mustJSON(t, map[string]any{"BatchItemRequest": []any{
				map[string]any{"bId": "1", "operation": "create", "SalesReceipt": e.receipt("F-1")},
				map[string]any{"bId": "2", "operation": "create", "SalesReceipt": e.receipt("G-1")},
			}}))
			items := list(r.body["BatchItemResponse"])
			if r.status != 200 || len(items) != 2 {
				t.Fatalf("batch: got %d with %d items; want 200 with 2: %s", r.status, len(items), r.raw)
			}
			code := ""
			if fo := obj(obj(items[0])["Fault"]); fo != nil {
				code = str(obj(list(fo["Error"])[0])["code"])
			}
			if code != tt.wantCode || obj(items[1])["SalesReceipt"] == nil {
				t.Errorf("items: got %s; want item 1 fault %s, item 2 created", r.raw, tt.wantCode)
			}
			single := e.post("salesreceipt", nil, mustJSON(t, e.receipt("F-2")))
			if single.status != tt.wantStatus {
				t.Errorf("single write: got %d; want %d", single.status, tt.wantStatus)
			}
			var got []string
			for _, d := range e.s.Entities("SalesReceipt") {
				got = append(got, d.DocNumber)
			}
			want := []string{"G-1"}
			if tt.wantWritten {
				want = []string{"F-1", "G-1", "F-2"}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("receipts (-want +got):\n%s", diff)
			}
		})
	}
}

// oauth posts a form to the token endpoint with HTTP Basic client auth.
func oauth(t *testing.T, s *Server, form url.Values, basic bool) (int, map[string]any) {
	t.Helper()
	if !basic {
		form.Set("client_id", DefaultClientID)
		form.Set("client_secret", DefaultClientSecret)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.TokenURL(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		req.SetBasicAuth(DefaultClientID, DefaultClientSecret)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	_ = dec.Decode(&m)
	return resp.StatusCode, m
}

func TestServer_TokenRefresh(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(t0)
	s := NewTestServer(t, WithClock(clk))
	rt := s.IssueRefreshToken()
	refresh := func(tok string, basic bool) (int, map[string]any) {
		return oauth(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}}, basic)
	}
	status, m := refresh(rt, true)
	if status != 200 {
		t.Fatalf("refresh: got %d %v; want 200", status, m)
	}
	for _, k := range []string{"access_token", "refresh_token", "x_refresh_token_expires_in"} {
		if m[k] == nil {
			t.Errorf("token response lacks %s: %v", k, m)
		}
	}
	if str(m["token_type"]) != "bearer" || str(m["expires_in"]) != "3600" {
		t.Errorf("got token_type %v expires_in %v; want bearer, 3600", m["token_type"], m["expires_in"])
	}
	rt2 := str(m["refresh_token"])
	if rt2 == rt {
		t.Fatalf("refresh token was not rotated")
	}
	if status, m := refresh(rt, true); status != 400 || str(m["error"]) != "invalid_grant" {
		t.Errorf("superseded token: got %d %v; want 400 invalid_grant", status, m)
	}
	if status, m := refresh("nope", false); status != 400 || str(m["error"]) != "invalid_grant" {
		t.Errorf("unknown token: got %d %v; want 400 invalid_grant", status, m)
	}
	status, m = refresh(rt2, false) // client_secret_post
	if status != 200 {
		t.Fatalf("refresh with newest token: got %d %v", status, m)
	}

	access := str(m["access_token"])
	e := &env{t: t, s: s, clock: clk, tok: access}
	cust := s.AddCustomer("A", "")
	e.do(http.MethodGet, "customer/"+cust, nil, "").ok(t, "Customer")
	clk.Advance(time.Hour)
	if code, _ := e.do(http.MethodGet, "customer/"+cust, nil, "").fault(t, 401); code != "3200" {
		t.Errorf("expired access token: got code %s; want 3200", code)
	}

	t.Run("BadClient", func(t *testing.T) {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(m["refresh_token"])},
			"client_id": {DefaultClientID}, "client_secret": {"wrong"}}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.TokenURL(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("status: got %d; want 401", resp.StatusCode)
		}
	})
	t.Run("Revoke", func(t *testing.T) {
		tok := s.IssueRefreshToken()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.RevokeURL(), strings.NewReader(`{"token":"`+tok+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(DefaultClientID, DefaultClientSecret)
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("revoke: got %d; want 200", resp.StatusCode)
		}
		if status, _ := refresh(tok, true); status != 400 {
			t.Errorf("refresh after revoke: got %d; want 400", status)
		}
	})
}

func TestServer_TokenGraceAndRotationPolicy(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(t0)
	s := NewTestServer(t, WithClock(clk), WithRefreshGrace(10*time.Minute), WithRefreshRotation(24*time.Hour))
	rt := s.IssueRefreshToken()
	form := func(tok string) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}}
	}
	_, m := oauth(t, s, form(rt), true)
	if str(m["refresh_token"]) != rt {
		t.Fatalf("young token rotated: got %v; want the same token", m["refresh_token"])
	}
	clk.Advance(25 * time.Hour)
	_, m = oauth(t, s, form(rt), true)
	rt2 := str(m["refresh_token"])
	if rt2 == "" || rt2 == rt {
		t.Fatalf("old token not rotated: got %q", rt2)
	}
	clk.Advance(5 * time.Minute)
	if status, _ := oauth(t, s, form(rt), true); status != 200 {
		t.Errorf("superseded token within grace: got %d; want 200", status)
	}
	clk.Advance(6 * time.Minute)
	if status, _ := oauth(t, s, form(rt), true); status != 400 {
		t.Errorf("superseded token after grace: got %d; want 400", status)
	}
}

func TestServer_Authorize(t *testing.T) {
	t.Parallel()
	for _, deny := range []bool{false, true} {
		t.Run(fmt.Sprint("deny=", deny), func(t *testing.T) {
			t.Parallel()
			s := NewTestServer(t, WithDenyAuthorize(deny), WithAutoConsent(true))
			c := s.Client()
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			q := url.Values{"client_id": {DefaultClientID}, "redirect_uri": {"http://127.0.0.1:9/callback"},
				"response_type": {"code"}, "scope": {"com.intuit.quickbooks.accounting"}, "state": {"xyz"}}
			resp, err := c.Get(s.AuthURL() + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status: got %d; want 302", resp.StatusCode)
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			back := loc.Query()
			if back.Get("state") != "xyz" {
				t.Errorf("state: got %q; want xyz", back.Get("state"))
			}
			if deny {
				if back.Get("error") != "access_denied" {
					t.Errorf("error: got %q; want access_denied", back.Get("error"))
				}
				return
			}
			if back.Get("realmId") != DefaultRealm || back.Get("code") == "" {
				t.Fatalf("callback: got %v; want code and realmId", back)
			}
			form := url.Values{"grant_type": {"authorization_code"}, "code": {back.Get("code")}, "redirect_uri": {"http://127.0.0.1:9/callback"}}
			if status, m := oauth(t, s, form, true); status != 200 || m["refresh_token"] == nil {
				t.Errorf("code exchange: got %d %v; want 200 with tokens", status, m)
			}
			if status, _ := oauth(t, s, form, true); status != 400 {
				t.Errorf("code reuse: got %d; want 400", status)
			}
		})
	}
}

func TestServer_ConsentPage(t *testing.T) {
	t.Parallel()
	const redirect = "http://127.0.0.1:9/integrations/callback"
	s := NewTestServer(t, WithCompanyName("Books <b>& Co"), WithAppName("velqbo <console>"))
	c := s.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	q := url.Values{"client_id": {DefaultClientID}, "redirect_uri": {redirect},
		"response_type": {"code"}, "scope": {"com.intuit.quickbooks.accounting"}, "state": {`"><script>x</script>`}}
	resp, err := c.Get(s.AuthURL() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET: got %d %s; want 200 and the HTML consent page", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"velqbo &lt;console&gt; wants to connect", "Books &lt;b&gt;&amp; Co", DefaultRealm,
		`id="connect"`, `id="cancel"`, `name="state" value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("consent page: got %s; want it to contain %q", page, want)
		}
	}
	if strings.Contains(string(page), "<script>") {
		t.Errorf("consent page: got an unescaped <script>; want every value escaped")
	}
	for _, tt := range []struct {
		decision string
		wantErr  string
	}{{"connect", ""}, {"cancel", "access_denied"}} {
		t.Run(tt.decision, func(t *testing.T) {
			form := url.Values{"decision": {tt.decision}}
			for k, v := range q {
				form[k] = v
			}
			resp, err := c.PostForm(s.AuthURL(), form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status: got %d; want 302", resp.StatusCode)
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			back := loc.Query()
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirect {
				t.Errorf("redirect: got %s; want %s", got, redirect)
			}
			if back.Get("state") != q.Get("state") || back.Get("error") != tt.wantErr {
				t.Errorf("callback: got state %q error %q; want %q and %q", back.Get("state"), back.Get("error"), q.Get("state"), tt.wantErr)
			}
			if tt.wantErr != "" {
				return
			}
			tok := url.Values{"grant_type": {"authorization_code"}, "code": {back.Get("code")}, "redirect_uri": {redirect}}
			if back.Get("realmId") != DefaultRealm {
				t.Errorf("realmId: got %q; want %s", back.Get("realmId"), DefaultRealm)
			}
			if status, m := oauth(t, s, tok, true); status != 200 || m["refresh_token"] == nil {
				t.Errorf("code exchange: got %d %v; want 200 with tokens", status, m)
			}
		})
	}
	t.Run("BadClient", func(t *testing.T) {
		bad := url.Values{"client_id": {"someone-else"}, "redirect_uri": {redirect}, "response_type": {"code"}}
		resp, err := c.Get(s.AuthURL() + "?" + bad.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status: got %d; want 400", resp.StatusCode)
		}
	})
}

func TestServer_Pacing(t *testing.T) {
	t.Parallel()
	t.Run("RequestsPerMinute", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, WithLimits(Limits{RequestsPerMinute: 5}))
		for i := range 5 {
			if r := e.query("select * from Item"); r.status != 200 {
				t.Fatalf("request %d: got %d; want 200", i, r.status)
			}
		}
		if code, _ := e.query("select * from Item").fault(t, 429); code != "3001" {
			t.Errorf("code: got %s; want 3001", code)
		}
		e.clock.Advance(61 * time.Second)
		e.query("select * from Item").ok(t, "QueryResponse")
	})
	t.Run("BatchPerMinute", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, WithLimits(Limits{BatchPerMinute: 2}))
		batch := mustJSON(t, map[string]any{"BatchItemRequest": []any{map[string]any{"bId": "1", "Query": "select * from Item"}}})
		e.post("batch", nil, batch).okStatus(t)
		e.post("batch", nil, batch).okStatus(t)
		e.post("batch", nil, batch).fault(t, 429)
		e.query("select * from Item").ok(t, "QueryResponse") // plain requests are not batch-limited
		e.clock.Advance(time.Minute + time.Second)
		e.post("batch", nil, batch).okStatus(t)
	})
	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, WithLimits(Limits{Concurrent: 2}))
		hold := make(chan struct{})
		e.s.Inject(Injection{Match: func(c *Call) bool { return c.Operation == "read" }, Hold: hold})
		var wg sync.WaitGroup
		statuses := make(chan int, 2)
		for range 2 {
			wg.Go(func() {
				statuses <- e.do(http.MethodGet, "customer/"+e.cust, nil, "").status
			})
		}
		waitFor(t, func() bool { return inflight(e.s) == 2 })
		e.query("select * from Item").fault(t, 429)
		close(hold)
		wg.Wait()
		close(statuses)
		for st := range statuses {
			if st != 200 {
				t.Errorf("held request: got %d; want 200", st)
			}
		}
		e.query("select * from Item").ok(t, "QueryResponse")
	})
	t.Run("InjectedThrottle", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.s.Inject(Injection{Throttle: true, Times: 1})
		e.query("select * from Item").fault(t, 429)
		e.query("select * from Item").ok(t, "QueryResponse")
		if st := e.s.Stats(); st.Throttled != 1 {
			t.Errorf("Throttled: got %d; want 1", st.Throttled)
		}
	})
}

func inflight(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inflight
}

// waitFor polls cond without sleeping on a timer: it yields to the
// scheduler until cond holds, failing after many attempts.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 10_000_000 {
		if cond() {
			return
		}
		runtime.Gosched()
	}
	t.Fatal("condition never became true")
}

func TestServer_LoseResponse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.s.Inject(Injection{Match: func(c *Call) bool { return c.Entity == "SalesReceipt" && c.Operation == "create" }, Times: 1, LoseResponse: true})
	body := mustJSON(t, e.receipt("L-1"))
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.s.CompanyURL()+"/salesreceipt?requestid=lost-1", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.s.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d; want a network error", resp.StatusCode)
	}
	if n := len(e.s.Entities("SalesReceipt")); n != 1 {
		t.Fatalf("committed receipts: got %d; want 1", n)
	}
	// The retry with the same requestid gets the stored answer, no second document.
	r := e.post("salesreceipt", url.Values{"requestid": {"lost-1"}}, body)
	if got := str(r.ok(t, "SalesReceipt")["DocNumber"]); got != "L-1" {
		t.Errorf("replayed DocNumber: got %q; want L-1", got)
	}
	if n := len(e.s.Entities("SalesReceipt")); n != 1 {
		t.Errorf("receipts after retry: got %d; want 1", n)
	}
	var lost int
	for _, c := range e.s.Requests() {
		if c.Lost {
			lost++
		}
	}
	if lost != 1 {
		t.Errorf("lost calls: got %d; want 1", lost)
	}
}

func TestServer_InjectStatusAndLatency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	start := e.clock.Now()
	e.s.Inject(Injection{Match: func(c *Call) bool { return c.Operation == "query" }, Times: 2, Latency: 30 * time.Second, Status: 503})
	code, _ := e.query("select * from Item").fault(t, 503)
	if code != "10000" {
		t.Errorf("code: got %s; want 10000", code)
	}
	e.query("select * from Item").fault(t, 503)
	e.query("select * from Item").ok(t, "QueryResponse")
	if got := e.clock.Now().Sub(start); got != time.Minute {
		t.Errorf("fake clock advanced %v; want 1m (two 30s latencies)", got)
	}
	e.s.Inject(Injection{Times: 1, Status: 500, Body: []byte("<html>oops</html>")})
	if r := e.query("select * from Item"); r.status != 500 || string(r.raw) != "<html>oops</html>" {
		t.Errorf("custom body: got %d %q", r.status, r.raw)
	}
	calls := e.s.Requests()
	last := calls[len(calls)-1]
	if !last.Injected || last.Operation != "query" || last.MinorVersion != "75" || last.IntuitTID == "" {
		t.Errorf("last call: got %+v", last)
	}
}
