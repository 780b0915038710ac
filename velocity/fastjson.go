package velocity

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Decoding orders is most of the cost of reading an export, and
// encoding/json spends it twice (a validating pass, then a reflective
// one). fastDecodeOrder fills a wireOrder in one pass, with exactly the
// result json.Unmarshal would give, for the shape Velocity's exporter
// writes. Whatever it does not mirror exactly it declines (ok false): a
// syntax error anywhere, a key matching a field only case-insensitively or
// written with escapes, a duplicate key, a value of the wrong JSON type, a
// null array element, a field of a kind it does not know. The caller then
// decodes with encoding/json, which also produces the error messages.
// FuzzFastDecodeOrder holds the two to the same result.
//
// The wire structs' json tags are its only field list: a plan per struct,
// read from the tags once, says where each key's value goes. A field added
// to a wire struct is decoded as soon as its tag is; a kind the plans do
// not know makes every order decline, which TestFastDecodeOrder_EveryTag
// reports (see BENCHMARKS.md, "Decoder decision", for why this decoder
// stays rather than a library).
//
// RawMessage fields alias data instead of copying it: they live only until
// the wire struct is turned into an Order, within the decode of this line.
func fastDecodeOrder(data []byte, w *wireOrder) (ok bool) {
	return fastDecodeWith(orderPlan, data, unsafe.Pointer(w))
}

var orderPlan = planOf(reflect.TypeFor[wireOrder]())

// fastDecodeWith decodes data into the struct at v, whose plan is p.
func fastDecodeWith(p *plan, data []byte, v unsafe.Pointer) bool {
	d := jdec{d: data}
	d.ws()
	if !d.object(p, v) {
		return false
	}
	d.ws()
	return d.i == len(d.d)
}

// A plan is how one struct type is decoded: its fields as encoding/json
// sees them (exported, named by the json tag or else the Go name, "-"
// skipped), each with its offset and a decoder for its kind.
type plan struct {
	fields []planField
	names  []string // the fields' JSON names, for unknown's case-insensitive check
	// decline is set for a struct shape this decoder does not mirror
	// (embedded fields, two fields of one name, more than 64 fields).
	decline bool
}

type planField struct {
	name   string
	offset uintptr
	kind   fieldKind
	sub    *plan        // kindStruct, kindPointer, kindSlice: the struct's plan
	typ    reflect.Type // kindPointer: the struct; kindSlice: the slice
	size   uintptr      // kindSlice: the element size
}

// fieldKind is what a field holds, as far as the fast path is concerned.
type fieldKind uint8

const (
	kindDecline fieldKind = iota // anything else: always declined
	kindString
	kindBool
	kindRaw     // json.RawMessage
	kindStruct  // a struct of fields of these kinds
	kindPointer // a pointer to such a struct
	kindSlice   // a slice of such structs
)

var (
	plansMu sync.Mutex
	plans   = map[reflect.Type]*plan{}
)

// planOf returns the plan of struct type t, building it (and those of the
// structs it holds) on first use.
func planOf(t reflect.Type) *plan {
	plansMu.Lock()
	defer plansMu.Unlock()
	return buildPlan(t)
}

func buildPlan(t reflect.Type) *plan {
	if p, ok := plans[t]; ok {
		return p
	}
	p := &plan{}
	plans[t] = p // before the fields, so that a struct may hold itself
	seen := map[string]bool{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			p.decline = true // embedding promotes fields: not mirrored
			continue
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		if seen[name] {
			p.decline = true
		}
		seen[name] = true
		f := planField{name: name, offset: sf.Offset}
		if plainName(name) && !hasOption(opts, "string") {
			f.kind, f.sub, f.typ, f.size = fieldPlan(sf.Type)
		}
		p.fields = append(p.fields, f)
		p.names = append(p.names, name)
	}
	if len(p.fields) > 64 {
		p.decline = true
	}
	return p
}

// plainName reports whether encoding/json takes name as written (it
// replaces some tag names by the Go name); anything else is declined.
func plainName(name string) bool {
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return name != ""
}

func hasOption(opts, want string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

var (
	rawMessageType       = reflect.TypeFor[json.RawMessage]()
	jsonUnmarshalerType  = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType  = reflect.TypeFor[encoding.TextUnmarshaler]()
	stringType, boolType = reflect.TypeFor[string](), reflect.TypeFor[bool]()
)

// fieldPlan says how a field of type t is decoded: string, bool,
// json.RawMessage, a struct, a pointer to one or a slice of them. Any other
// type (a number, a map, a type with its own UnmarshalJSON) declines.
func fieldPlan(t reflect.Type) (kind fieldKind, sub *plan, typ reflect.Type, size uintptr) {
	switch {
	case t == rawMessageType:
		return kindRaw, nil, nil, 0
	case t == stringType:
		return kindString, nil, nil, 0
	case t == boolType:
		return kindBool, nil, nil, 0
	case customDecoded(t):
		return kindDecline, nil, nil, 0
	case t.Kind() == reflect.Struct:
		return kindStruct, buildPlan(t), nil, 0
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct && !customDecoded(t.Elem()):
		return kindPointer, buildPlan(t.Elem()), t.Elem(), 0
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct && !customDecoded(t.Elem()):
		return kindSlice, buildPlan(t.Elem()), t, t.Elem().Size()
	}
	return kindDecline, nil, nil, 0
}

// field decodes the value of f into the field at p.
func (d *jdec) field(f *planField, p unsafe.Pointer) bool {
	switch f.kind {
	case kindString:
		return d.str((*string)(p))
	case kindBool:
		return d.boolean((*bool)(p))
	case kindRaw:
		return d.raw((*json.RawMessage)(p))
	case kindStruct:
		// null leaves the struct alone, as encoding/json does.
		return d.null() || d.object(f.sub, p)
	case kindPointer:
		pp := (*unsafe.Pointer)(p)
		if d.null() {
			*pp = nil
			return true
		}
		v := reflect.New(f.typ).UnsafePointer()
		*pp = v
		return d.object(f.sub, v)
	case kindSlice:
		return d.structs(f, p)
	}
	return false
}

// customDecoded reports whether encoding/json decodes t with the type's
// own method rather than by its kind.
func customDecoded(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshalerType) || pt.Implements(jsonUnmarshalerType) ||
		t.Implements(textUnmarshalerType) || pt.Implements(textUnmarshalerType)
}

type jdec struct {
	d []byte
	i int
}

func (d *jdec) ws() {
	for d.i < len(d.d) {
		switch d.d[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jdec) peek() byte {
	if d.i < len(d.d) {
		return d.d[d.i]
	}
	return 0
}

// literal consumes lit ("null", "true", "false").
func (d *jdec) literal(lit string) bool {
	if len(d.d)-d.i >= len(lit) && string(d.d[d.i:d.i+len(lit)]) == lit {
		d.i += len(lit)
		return true
	}
	return false
}

// null consumes a null if one is next.
func (d *jdec) null() bool {
	return d.peek() == 'n' && d.literal("null")
}

// object parses {"k": v, ...} into the struct at v, whose plan is p. A
// nil plan skips the object (v unused), validating it.
func (d *jdec) object(p *plan, v unsafe.Pointer) bool {
	if d.peek() != '{' || p != nil && p.decline {
		return false
	}
	d.i++
	d.ws()
	if d.peek() == '}' {
		d.i++
		return true
	}
	var seen uint64
	next := 0 // where lookup starts: the field after the last one read
	for {
		key, ok := d.key()
		if !ok {
			return false
		}
		d.ws()
		if d.peek() != ':' {
			return false
		}
		d.i++
		d.ws()
		switch n := p.lookup(key, next); {
		case p == nil:
			ok = d.skip()
		case n < 0:
			ok = d.unknown(key, p.names)
		case seen&(1<<n) != 0:
			return false // a duplicate key
		default:
			seen |= 1 << n
			next = n + 1
			f := &p.fields[n]
			ok = d.field(f, unsafe.Add(v, f.offset))
		}
		if !ok {
			return false
		}
		d.ws()
		switch d.peek() {
		case ',':
			d.i++
			d.ws()
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// lookup returns the index of the field named key, or -1. It searches
// from next on, then from the start: keys usually come in field order,
// with the empty ones left out.
func (p *plan) lookup(key []byte, next int) int {
	if p == nil {
		return -1
	}
	for i := next; i < len(p.fields); i++ {
		if p.fields[i].name == string(key) {
			return i
		}
	}
	for i := range min(next, len(p.fields)) {
		if p.fields[i].name == string(key) {
			return i
		}
	}
	return -1
}

// key reads an object key with no escapes, in place.
func (d *jdec) key() ([]byte, bool) {
	if d.peek() != '"' {
		return nil, false
	}
	start := d.i + 1
	for j := start; j < len(d.d); j++ {
		switch c := d.d[j]; {
		case c == '"':
			d.i = j + 1
			return d.d[start:j], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// unknown skips the value of a key that names no field, unless
// encoding/json would match it to one of names case-insensitively.
func (d *jdec) unknown(key []byte, names []string) bool {
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return false // Unicode case folding (K, ſ) is beyond this decoder
		}
	}
	for _, n := range names {
		if strings.EqualFold(string(key), n) {
			return false
		}
	}
	return d.skip()
}

// str reads a JSON string into *p (null leaves *p alone, as encoding/json
// does); any other JSON type declines.
func (d *jdec) str(p *string) bool {
	if d.null() {
		return true
	}
	s, ok := d.stringValue()
	if ok {
		*p = s
	}
	return ok
}

func (d *jdec) stringValue() (string, bool) {
	if d.peek() != '"' {
		return "", false
	}
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.d); j++ {
		c := d.d[j]
		switch {
		case c == '"':
			d.i = j + 1
			if ascii || utf8.Valid(d.d[start:j]) {
				return string(d.d[start:j]), true
			}
			return d.unquote(start)
		case c == '\\':
			return d.unquote(start)
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// unquote decodes the string starting at start (after the quote) as
// encoding/json's unquote does: escapes resolved, a lone or invalid
// surrogate and every invalid UTF-8 byte turned into U+FFFD.
func (d *jdec) unquote(start int) (string, bool) {
	b := make([]byte, 0, 64)
	j := start
	for j < len(d.d) {
		c := d.d[j]
		switch {
		case c == '"':
			d.i = j + 1
			return string(b), true
		case c < 0x20:
			return "", false
		case c == '\\':
			if j+1 >= len(d.d) {
				return "", false
			}
			switch e := d.d[j+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
				j += 2
			case 'b':
				b, j = append(b, '\b'), j+2
			case 'f':
				b, j = append(b, '\f'), j+2
			case 'n':
				b, j = append(b, '\n'), j+2
			case 'r':
				b, j = append(b, '\r'), j+2
			case 't':
				b, j = append(b, '\t'), j+2
			case 'u':
				r := getu4(d.d[j:])
				if r < 0 {
					return "", false
				}
				j += 6
				if utf16.IsSurrogate(r) {
					r1 := getu4(d.d[j:])
					if dec := utf16.DecodeRune(r, r1); dec != utf8.RuneError {
						j += 6
						b = utf8.AppendRune(b, dec)
						break
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
			default:
				return "", false
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			j++
		default:
			r, size := utf8.DecodeRune(d.d[j:])
			j += size
			b = utf8.AppendRune(b, r) // RuneError for an invalid byte
		}
	}
	return "", false
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// raw stores the value's text in *p (null included, as RawMessage does).
func (d *jdec) raw(p *json.RawMessage) bool {
	start := d.i
	if !d.skip() {
		return false
	}
	*p = d.d[start:d.i]
	return true
}

func (d *jdec) boolean(p *bool) bool {
	switch {
	case d.null():
		return true
	case d.literal("true"):
		*p = true
		return true
	case d.literal("false"):
		*p = false
		return true
	}
	return false
}

// sliceHeader is the layout of a slice.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

// structs parses [elem, ...] of objects into the slice of field f at p.
// null sets the slice to nil; [] leaves it empty but not nil, as
// encoding/json does.
func (d *jdec) structs(f *planField, p unsafe.Pointer) bool {
	if d.null() {
		*(*sliceHeader)(p) = sliceHeader{}
		return true
	}
	if d.peek() != '[' {
		return false
	}
	d.i++
	d.ws()
	if d.peek() == ']' {
		d.i++
		reflect.NewAt(f.typ, p).Elem().Set(reflect.MakeSlice(f.typ, 0, 0))
		return true
	}
	s := (*sliceHeader)(p)
	for {
		switch {
		// Elements past len are never written before they are appended,
		// so each starts as the zero value MakeSlice gave.
		case s.cap == 0:
			s.data, s.cap = reflect.MakeSlice(f.typ, 0, 2).UnsafePointer(), 2
		case s.len == s.cap:
			grown := reflect.MakeSlice(f.typ, s.len, 2*s.cap)
			old := reflect.NewAt(f.typ, p).Elem()
			reflect.Copy(grown, old)
			old.Set(grown)
		}
		e := unsafe.Add(s.data, uintptr(s.len)*f.size)
		s.len++
		if !d.object(f.sub, e) {
			return false
		}
		d.ws()
		switch d.peek() {
		case ',':
			d.i++
			d.ws()
		case ']':
			d.i++
			return true
		default:
			return false
		}
	}
}

// skip consumes any JSON value, validating it as encoding/json would.
func (d *jdec) skip() bool {
	switch c := d.peek(); {
	case c == '"':
		_, ok := d.stringValue()
		return ok
	case c == '{':
		return d.object(nil, nil)
	case c == '[':
		d.i++
		d.ws()
		if d.peek() == ']' {
			d.i++
			return true
		}
		for {
			if !d.skip() {
				return false
			}
			d.ws()
			switch d.peek() {
			case ',':
				d.i++
				d.ws()
			case ']':
				d.i++
				return true
			default:
				return false
			}
		}
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return d.number()
	}
	return false
}

// number consumes a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *jdec) number() bool {
	if d.peek() == '-' {
		d.i++
	}
	switch c := d.peek(); {
	case c == '0':
		d.i++
	case '1' <= c && c <= '9':
		for d.i++; isDigit(d.peek()); d.i++ {
		}
	default:
		return false
	}
	if d.peek() == '.' {
		d.i++
		if !isDigit(d.peek()) {
			return false
		}
		for isDigit(d.peek()) {
			d.i++
		}
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.i++
		if c := d.peek(); c == '+' || c == '-' {
			d.i++
		}
		if !isDigit(d.peek()) {
			return false
		}
		for isDigit(d.peek()) {
			d.i++
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
