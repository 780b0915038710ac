package bctest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/velocity/bigcommerce/bctest"
)

var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func get(t *testing.T, s *bctest.Server, path, token string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+"/stores/"+s.Hash+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", token)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestServerWireFormats(t *testing.T) {
	clk := clock.NewFake(t0)
	s := bctest.NewTestServer(t, bctest.WithClock(clk))
	if err := s.Generate(bctest.GenOptions{Seed: 1, Orders: 40}); err != nil {
		t.Fatal(err)
	}
	t.Run("auth", func(t *testing.T) {
		resp, _ := get(t, s, "/v2/orders", "wrong")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("got status %d; want 401", resp.StatusCode)
		}
	})
	t.Run("v2 page past the end is 204", func(t *testing.T) {
		resp, body := get(t, s, "/v2/orders?page=3&limit=20", s.Token())
		if resp.StatusCode != http.StatusNoContent || body != "" {
			t.Errorf("got %d %q; want 204 and no body", resp.StatusCode, body)
		}
	})
	t.Run("v2 order", func(t *testing.T) {
		resp, body := get(t, s, "/v2/orders/1001?include=consignments.line_items,fees&consignment_structure=object", s.Token())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("got status %d; want 200", resp.StatusCode)
		}
		var o map[string]any
		if err := json.Unmarshal([]byte(body), &o); err != nil {
			t.Fatal(err)
		}
		if _, err := time.Parse("Mon, 02 Jan 2006 15:04:05 -0700", o["date_created"].(string)); err != nil {
			t.Errorf("date_created %v: %v", o["date_created"], err)
		}
		if v := o["total_inc_tax"].(string); !strings.Contains(v, ".") || len(v)-strings.Index(v, ".") != 5 {
			t.Errorf("got total_inc_tax %q; want 4 decimal places", v)
		}
		if _, ok := o["status_id"].(float64); !ok {
			t.Errorf("got status_id %T; want a number", o["status_id"])
		}
		cons := o["consignments"].(map[string]any)["shipping"].([]any)
		if n := len(cons[0].(map[string]any)["line_items"].([]any)); n == 0 {
			t.Errorf("got no line items in the shipping consignment")
		}
	})
	t.Run("v3 pagination", func(t *testing.T) {
		_, body := get(t, s, "/v3/catalog/products?include=variants&limit=10&page=2", s.Token())
		var l struct {
			Data []json.RawMessage
			Meta struct{ Pagination map[string]any }
		}
		if err := json.Unmarshal([]byte(body), &l); err != nil {
			t.Fatal(err)
		}
		got := map[string]any{"count": l.Meta.Pagination["count"], "current_page": l.Meta.Pagination["current_page"], "total_pages": l.Meta.Pagination["total_pages"], "total": l.Meta.Pagination["total"]}
		want := map[string]any{"count": 10.0, "current_page": 2.0, "total_pages": 3.0, "total": 24.0}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("pagination (-want +got):\n%s", d)
		}
	})
}

func TestServerRateLimit(t *testing.T) {
	clk := clock.NewFake(t0)
	s := bctest.NewTestServer(t, bctest.WithClock(clk), bctest.WithQuota(5, 30*time.Second))
	s.SetOtherApps(2)
	var lefts []string
	for range 3 {
		resp, _ := get(t, s, "/v3/customers", s.Token())
		lefts = append(lefts, resp.Header.Get("X-Rate-Limit-Requests-Left"))
	}
	clk.Advance(10 * time.Second)
	resp, _ := get(t, s, "/v3/customers", s.Token())
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("got status %d; want 429", resp.StatusCode)
	}
	if got := resp.Header.Get("X-Rate-Limit-Time-Reset-Ms"); got != "20000" {
		t.Errorf("got reset %s ms; want 20000", got)
	}
	if d := cmp.Diff([]string{"2", "1", "0"}, lefts); d != "" {
		t.Errorf("requests left (-want +got):\n%s", d)
	}
	clk.Advance(20 * time.Second)
	resp, _ = get(t, s, "/v3/customers", s.Token())
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Rate-Limit-Requests-Left") != "2" {
		t.Errorf("after the reset got %d with %s left; want 200 with 2 left", resp.StatusCode, resp.Header.Get("X-Rate-Limit-Requests-Left"))
	}
	if got := s.RateLimited(); got != 1 {
		t.Errorf("got %d rate-limited; want 1", got)
	}
}
