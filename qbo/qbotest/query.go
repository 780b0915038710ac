package qbotest

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/shopspring/decimal"
)

// Query is a parsed QBO query statement (the subset qbotest supports):
//
//	SELECT * | SELECT COUNT(*) FROM <Entity> [WHERE <cond> [AND <cond>]...]
//	[ORDERBY <field> [ASC|DESC] [, ...]] [STARTPOSITION n] [MAXRESULTS m]
type Query struct {
	Count    bool
	Entity   string // as written
	Where    []Cond
	OrderBy  []Order
	Start    int // 0 when absent
	Max      int // 0 when absent
	HasStart bool
	HasMax   bool
}

// Cond is one WHERE condition.
type Cond struct {
	Field  string
	Op     string // = < > <= >= IN LIKE
	Values []Value
}

// Value is a literal in a condition.
type Value struct {
	Text   string
	Quoted bool
}

// Order is one ORDERBY key.
type Order struct {
	Field string
	Desc  bool
}

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tPunct
)

type token struct {
	kind tokKind
	text string
	pos  int
}

// ParseError is a query syntax error; QBO reports it as fault 4000.
type ParseError struct {
	Pos int
	Msg string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s at column %d", e.Msg, e.Pos+1) }

func lex(src string) ([]token, error) {
	var toks []token
	rs := []rune(src)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '\'':
			start := i
			i++
			var b strings.Builder
			closed := false
			for i < len(rs) {
				c := rs[i]
				if c == '\\' && i+1 < len(rs) {
					b.WriteRune(rs[i+1])
					i += 2
					continue
				}
				if c == '\'' {
					if i+1 < len(rs) && rs[i+1] == '\'' {
						b.WriteRune('\'')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteRune(c)
				i++
			}
			if !closed {
				return nil, &ParseError{Pos: start, Msg: "unterminated string literal"}
			}
			toks = append(toks, token{tString, b.String(), start})
		case r == '-' || r == '+' || unicode.IsDigit(r):
			start := i
			i++
			for i < len(rs) && (unicode.IsDigit(rs[i]) || rs[i] == '.') {
				i++
			}
			text := string(rs[start:i])
			if _, err := decimal.NewFromString(text); err != nil {
				return nil, &ParseError{Pos: start, Msg: fmt.Sprintf("Encountered %q", text)}
			}
			toks = append(toks, token{tNumber, text, start})
		case unicode.IsLetter(r) || r == '_':
			start := i
			for i < len(rs) && (unicode.IsLetter(rs[i]) || unicode.IsDigit(rs[i]) || rs[i] == '_' || rs[i] == '.') {
				i++
			}
			toks = append(toks, token{tIdent, string(rs[start:i]), start})
		case r == '<' || r == '>' || r == '!':
			start := i
			i++
			if i < len(rs) && (rs[i] == '=' || (r == '<' && rs[i] == '>')) {
				i++
			}
			toks = append(toks, token{tPunct, string(rs[start:i]), start})
		case strings.ContainsRune("*(),=", r):
			toks = append(toks, token{tPunct, string(r), i})
			i++
		default:
			return nil, &ParseError{Pos: i, Msg: fmt.Sprintf("Lexical error: encountered %q", r)}
		}
	}
	return append(toks, token{kind: tEOF, pos: len(rs)}), nil
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) expectKeyword(kw string) error {
	if !p.isKeyword(kw) {
		return p.errExpect(kw)
	}
	p.next()
	return nil
}

func (p *parser) expectPunct(s string) error {
	t := p.peek()
	if t.kind != tPunct || t.text != s {
		return p.errExpect(`"` + s + `"`)
	}
	p.next()
	return nil
}

func (p *parser) errExpect(what string) error {
	t := p.peek()
	got := t.text
	if t.kind == tEOF {
		got = "<EOF>"
	}
	return &ParseError{Pos: t.pos, Msg: fmt.Sprintf("Encountered %q. Was expecting: %s", got, what)}
}

var reserved = map[string]bool{"SELECT": true, "FROM": true, "WHERE": true, "AND": true, "ORDERBY": true,
	"ORDER": true, "BY": true, "STARTPOSITION": true, "MAXRESULTS": true, "IN": true, "LIKE": true, "ASC": true, "DESC": true, "NULL": true,
	"COUNT": true, "OR": true, "NOT": true}

func (p *parser) ident() (string, error) {
	t := p.peek()
	if t.kind != tIdent || reserved[strings.ToUpper(t.text)] || strings.HasPrefix(t.text, ".") ||
		strings.HasSuffix(t.text, ".") || strings.Contains(t.text, "..") {
		return "", p.errExpect("<IDENTIFIER>")
	}
	p.next()
	return t.text, nil
}

// ParseQuery parses a QBO query statement. It returns a *ParseError for
// syntax errors; range checks (STARTPOSITION, MAXRESULTS) are left to the
// server, which reports them as fault 4001.
func ParseQuery(src string) (*Query, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	q := &Query{}
	if err := p.expectKeyword("SELECT"); err != nil {
		return nil, err
	}
	switch {
	case p.peek().kind == tPunct && p.peek().text == "*":
		p.next()
	case p.isKeyword("COUNT"):
		p.next()
		for _, s := range []string{"(", "*", ")"} {
			if err := p.expectPunct(s); err != nil {
				return nil, err
			}
		}
		q.Count = true
	default:
		return nil, p.errExpect(`"*" or COUNT(*)`)
	}
	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	if q.Entity, err = p.ident(); err != nil {
		return nil, err
	}
	if p.isKeyword("WHERE") {
		p.next()
		for {
			c, err := p.cond()
			if err != nil {
				return nil, err
			}
			q.Where = append(q.Where, c)
			if !p.isKeyword("AND") {
				break
			}
			p.next()
		}
	}
	hasOrder := false
	switch {
	case p.isKeyword("ORDERBY"):
		p.next()
		hasOrder = true
	case p.isKeyword("ORDER"):
		p.next()
		if err := p.expectKeyword("BY"); err != nil {
			return nil, err
		}
		hasOrder = true
	}
	if hasOrder {
		for {
			f, err := p.ident()
			if err != nil {
				return nil, err
			}
			o := Order{Field: f}
			if p.isKeyword("DESC") {
				o.Desc = true
				p.next()
			} else if p.isKeyword("ASC") {
				p.next()
			}
			q.OrderBy = append(q.OrderBy, o)
			if t := p.peek(); t.kind != tPunct || t.text != "," {
				break
			}
			p.next()
		}
	}
	for {
		switch {
		case p.isKeyword("STARTPOSITION") && !q.HasStart:
			p.next()
			n, err := p.integer()
			if err != nil {
				return nil, err
			}
			q.Start, q.HasStart = n, true
			continue
		case p.isKeyword("MAXRESULTS") && !q.HasMax:
			p.next()
			n, err := p.integer()
			if err != nil {
				return nil, err
			}
			q.Max, q.HasMax = n, true
			continue
		}
		break
	}
	if p.peek().kind != tEOF {
		return nil, p.errExpect("<EOF>")
	}
	return q, nil
}

func (p *parser) integer() (int, error) {
	t := p.peek()
	if t.kind != tNumber {
		return 0, p.errExpect("<INTEGER>")
	}
	n, err := strconv.Atoi(t.text)
	if err != nil {
		return 0, &ParseError{Pos: t.pos, Msg: fmt.Sprintf("Encountered %q. Was expecting: <INTEGER>", t.text)}
	}
	p.next()
	return n, nil
}

func (p *parser) value() (Value, error) {
	t := p.peek()
	switch t.kind {
	case tString:
		p.next()
		return Value{Text: t.text, Quoted: true}, nil
	case tNumber:
		p.next()
		return Value{Text: t.text}, nil
	case tIdent:
		if strings.EqualFold(t.text, "true") || strings.EqualFold(t.text, "false") {
			p.next()
			return Value{Text: strings.ToLower(t.text)}, nil
		}
	}
	return Value{}, p.errExpect("<STRING> or <NUMBER> or <BOOLEAN>")
}

func (p *parser) cond() (Cond, error) {
	f, err := p.ident()
	if err != nil {
		return Cond{}, err
	}
	c := Cond{Field: f}
	t := p.peek()
	switch {
	case t.kind == tPunct && (t.text == "=" || t.text == "<" || t.text == ">" || t.text == "<=" || t.text == ">="):
		p.next()
		c.Op = t.text
		v, err := p.value()
		if err != nil {
			return Cond{}, err
		}
		c.Values = []Value{v}
	case p.isKeyword("LIKE"):
		p.next()
		c.Op = "LIKE"
		if p.peek().kind != tString {
			return Cond{}, p.errExpect("<STRING>")
		}
		c.Values = []Value{{Text: p.next().text, Quoted: true}}
	case p.isKeyword("IN"):
		p.next()
		c.Op = "IN"
		if err := p.expectPunct("("); err != nil {
			return Cond{}, err
		}
		for {
			v, err := p.value()
			if err != nil {
				return Cond{}, err
			}
			c.Values = append(c.Values, v)
			if t := p.peek(); t.kind == tPunct && t.text == "," {
				p.next()
				continue
			}
			break
		}
		if err := p.expectPunct(")"); err != nil {
			return Cond{}, err
		}
	default:
		return Cond{}, p.errExpect("an operator (=, <, >, <=, >=, IN, LIKE)")
	}
	return c, nil
}

// queryable lists the fields qbotest lets a query filter and sort on.
var queryable = map[string]bool{
	"id": true, "docnumber": true, "displayname": true, "name": true, "active": true,
	"primaryemailaddr": true, "metadata.lastupdatedtime": true, "metadata.createtime": true,
	"txndate": true, "customerref": true, "sku": true, "type": true, "accounttype": true,
	"totalamt": true, "balance": true, "givenname": true, "familyname": true, "companyname": true,
	"fullyqualifiedname": true, "privatenote": false,
}

// runQuery executes a query with s.mu held and returns the QueryResponse value.
func (s *Server) runQuery(text string) (map[string]any, *fault) {
	q, err := ParseQuery(text)
	if err != nil {
		return nil, faultParse(err.Error())
	}
	entity, ok := canonicalEntity(q.Entity)
	if !ok {
		return nil, faultInvalidQuery(fmt.Sprintf("Entity %s is not supported", q.Entity))
	}
	checkField := func(f string) *fault {
		lf := strings.ToLower(f)
		if !queryable[lf] {
			return faultInvalidQuery(fmt.Sprintf("property '%s' is not queryable", f))
		}
		if lf == "docnumber" && entity == "Payment" {
			return faultInvalidQuery("property 'DocNumber' is not queryable on Payment")
		}
		return nil
	}
	activeMentioned := false
	for _, c := range q.Where {
		if f := checkField(c.Field); f != nil {
			return nil, f
		}
		if strings.EqualFold(c.Field, "Active") {
			activeMentioned = true
		}
	}
	for _, o := range q.OrderBy {
		if f := checkField(o.Field); f != nil {
			return nil, f
		}
	}
	start, max := 1, s.cfg.defaultMax
	if q.HasStart {
		if q.Start < 1 {
			return nil, faultInvalidQuery(fmt.Sprintf("value %d is too small. Min allowed value is 1", q.Start))
		}
		start = q.Start
	}
	if q.HasMax {
		if q.Max < 1 {
			return nil, faultInvalidQuery(fmt.Sprintf("value %d is too small. Min allowed value is 1", q.Max))
		}
		if q.Max > 1000 {
			return nil, faultInvalidQuery(fmt.Sprintf("value %d is too large. Max allowed value is 1000", q.Max))
		}
		max = q.Max
	}
	var rows []map[string]any
	for _, r := range s.st.sorted(entity) {
		if r.deleted {
			continue
		}
		// Name lists answer only active entries unless the query asks about Active.
		if isNameList(entity) && !activeMentioned {
			if a, ok := r.data["Active"].(bool); ok && !a {
				continue
			}
		}
		match := true
		for _, c := range q.Where {
			if !evalCond(r.data, c) {
				match = false
				break
			}
		}
		if match {
			rows = append(rows, r.data)
		}
	}
	if len(q.OrderBy) > 0 {
		sort.SliceStable(rows, func(i, j int) bool {
			for _, o := range q.OrderBy {
				c := compareValues(fieldValue(rows[i], o.Field), fieldValue(rows[j], o.Field))
				if c != 0 {
					return (c < 0) != o.Desc
				}
			}
			return false
		})
	}
	if q.Count {
		return map[string]any{"totalCount": len(rows)}, nil
	}
	if start-1 >= len(rows) {
		return map[string]any{}, nil
	}
	rows = rows[start-1:]
	if len(rows) > max {
		rows = rows[:max]
	}
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = copyMap(r)
	}
	return map[string]any{"startPosition": start, "maxResults": len(out), entity: out}, nil
}

// fieldValue resolves a dotted field; references yield their value and
// email fields their Address.
func fieldValue(m map[string]any, field string) string {
	var cur any = m
	for part := range strings.SplitSeq(field, ".") {
		mm := obj(cur)
		if mm == nil {
			return ""
		}
		var found any
		for k, v := range mm {
			if strings.EqualFold(k, part) {
				found = v
				break
			}
		}
		cur = found
	}
	if mm := obj(cur); mm != nil {
		if v, ok := mm["value"]; ok {
			return str(v)
		}
		if v, ok := mm["Address"]; ok {
			return str(v)
		}
		return ""
	}
	return str(cur)
}

func parseTimeFlex(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// compareValues orders two field texts as times, then numbers, then
// case-insensitive strings.
func compareValues(a, b string) int {
	if ta, ok := parseTimeFlex(a); ok {
		if tb, ok := parseTimeFlex(b); ok {
			return ta.Compare(tb)
		}
	}
	if da, err := decimal.NewFromString(a); err == nil {
		if db, err := decimal.NewFromString(b); err == nil {
			return da.Cmp(db)
		}
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

func evalCond(m map[string]any, c Cond) bool {
	v := fieldValue(m, c.Field)
	switch c.Op {
	case "=":
		return compareValues(v, c.Values[0].Text) == 0
	case "<":
		return compareValues(v, c.Values[0].Text) < 0
	case ">":
		return compareValues(v, c.Values[0].Text) > 0
	case "<=":
		return compareValues(v, c.Values[0].Text) <= 0
	case ">=":
		return compareValues(v, c.Values[0].Text) >= 0
	case "IN":
		for _, x := range c.Values {
			if compareValues(v, x.Text) == 0 {
				return true
			}
		}
		return false
	case "LIKE":
		return likeRegexp(c.Values[0].Text).MatchString(v)
	}
	return false
}

func likeRegexp(pattern string) *regexp.Regexp {
	parts := strings.Split(pattern, "%")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("(?is)^" + strings.Join(parts, ".*") + "$")
}
