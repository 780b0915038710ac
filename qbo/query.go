package qbo

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// MaxPageSize is the largest MAXRESULTS QBO accepts (and, per
// node-quickbooks, its default; the docs are unclear, so we always send it).
const MaxPageSize = 1000

// Page selects one page of a query. STARTPOSITION is 1-based. Zero values
// mean StartPosition 1 and MaxResults MaxPageSize.
type Page struct {
	StartPosition int
	MaxResults    int
}

func (p Page) normalize() (Page, error) {
	if p.StartPosition == 0 {
		p.StartPosition = 1
	}
	if p.MaxResults == 0 {
		p.MaxResults = MaxPageSize
	}
	if p.StartPosition < 1 {
		return p, &ValidationError{Field: "StartPosition", Msg: "must be >= 1"}
	}
	if p.MaxResults < 1 || p.MaxResults > MaxPageSize {
		return p, &ValidationError{Field: "MaxResults", Msg: fmt.Sprintf("must be in 1..%d", MaxPageSize)}
	}
	return p, nil
}

var pageClause = regexp.MustCompile(`(?i)\b(STARTPOSITION|MAXRESULTS)\b`)

// QueryString quotes s as a QBO query string literal: 'O\'Brien'.
func QueryString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(s) + "'"
}

// ContainsPattern is the quoted LIKE pattern matching values that
// contain s: '%s%'. QBO's LIKE knows only the % wildcard and has no way to
// escape it, so a % in s stays a wildcard and the pattern matches a
// superset (callers that need an exact "contains" filter the answer
// themselves). Quotes and backslashes are escaped as in QueryString, so s
// cannot end the literal. It returns "" when s is blank or only %.
func ContainsPattern(s string) string {
	s = strings.TrimSpace(s)
	if strings.Trim(s, "% ") == "" {
		return ""
	}
	return QueryString("%" + s + "%")
}

// Query runs "SELECT * FROM <Entity> <clause> STARTPOSITION n MAXRESULTS m"
// and returns one page. clause is the optional WHERE/ORDERBY part, e.g.
// "WHERE DocNumber = " + QueryString("1001"); it must not contain paging
// keywords (a *ValidationError is returned). resp.NextStartPosition is 0 on
// the last page. An empty result is an empty slice, not an error.
// QBO API docs: https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries
func (s *readService[T]) Query(ctx context.Context, clause string, page Page) ([]T, *Response, error) {
	page, err := page.normalize()
	if err != nil {
		return nil, nil, err
	}
	if pageClause.MatchString(clause) {
		return nil, nil, &ValidationError{Field: "query", Msg: "clause must not contain STARTPOSITION/MAXRESULTS; use Page"}
	}
	stmt := strings.TrimSpace(fmt.Sprintf("SELECT * FROM %s %s", s.name, strings.TrimSpace(clause)))
	stmt = fmt.Sprintf("%s STARTPOSITION %d MAXRESULTS %d", stmt, page.StartPosition, page.MaxResults)
	var qr queryResponse
	resp, err := s.client.query(ctx, stmt, &qr)
	if err != nil {
		return nil, resp, fmt.Errorf("query %s: %w", s.name, err)
	}
	items := []T{}
	if raw, ok := qr.QueryResponse[s.name]; ok {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, resp, fmt.Errorf("query %s: decode: %w (intuit_tid=%s)", s.name, err, resp.IntuitTID)
		}
	}
	resp.StartPosition, resp.MaxResults = page.StartPosition, page.MaxResults
	if len(items) >= page.MaxResults {
		resp.NextStartPosition = page.StartPosition + len(items)
	}
	return items, resp, nil
}

// QueryAll pages through every match of clause (see Query), MaxPageSize at a
// time, until a short page.
func (s *readService[T]) QueryAll(ctx context.Context, clause string) ([]T, error) {
	var all []T
	for v, err := range s.All(ctx, clause) {
		if err != nil {
			return all, err
		}
		all = append(all, v)
	}
	return all, nil
}

// All iterates over every match of clause, fetching pages lazily; it stops
// after the first error, which is yielded with a zero T.
func (s *readService[T]) All(ctx context.Context, clause string) iter.Seq2[T, error] {
	return s.all(ctx, clause, MaxPageSize)
}

func (s *readService[T]) all(ctx context.Context, clause string, size int) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		page := Page{StartPosition: 1, MaxResults: size}
		for {
			items, resp, err := s.Query(ctx, clause, page)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, v := range items {
				if !yield(v, nil) {
					return
				}
			}
			if resp.NextStartPosition == 0 {
				return
			}
			page.StartPosition = resp.NextStartPosition
		}
	}
}

// Count runs "SELECT COUNT(*) FROM <Entity> <clause>" and returns totalCount.
func (s *readService[T]) Count(ctx context.Context, clause string) (int, *Response, error) {
	if pageClause.MatchString(clause) {
		return 0, nil, &ValidationError{Field: "query", Msg: "clause must not contain STARTPOSITION/MAXRESULTS"}
	}
	stmt := strings.TrimSpace(fmt.Sprintf("SELECT COUNT(*) FROM %s %s", s.name, strings.TrimSpace(clause)))
	var qr queryResponse
	resp, err := s.client.query(ctx, stmt, &qr)
	if err != nil {
		return 0, resp, fmt.Errorf("count %s: %w", s.name, err)
	}
	var n int
	if raw, ok := qr.QueryResponse["totalCount"]; ok {
		if err := json.Unmarshal(raw, &n); err != nil {
			return 0, resp, fmt.Errorf("count %s: decode: %w", s.name, err)
		}
	}
	return n, resp, nil
}

type queryResponse struct {
	QueryResponse map[string]json.RawMessage `json:"QueryResponse"`
}

func (c *Client) query(ctx context.Context, stmt string, v any) (*Response, error) {
	req, err := c.NewRequest(ctx, http.MethodGet, "query", url.Values{"query": {stmt}}, nil)
	if err != nil {
		return nil, err
	}
	return c.Do(req, v)
}
