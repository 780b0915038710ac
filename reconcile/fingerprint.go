package reconcile

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/qbo"
)

// Fields that QBO owns or that say nothing about the document's content;
// they are left out of every fingerprint, at every depth.
var volatileKeys = map[string]bool{
	"Id": true, "SyncToken": true, "sparse": true, "MetaData": true, "domain": true, "status": true,
}

// trackingKeys are the fields of an order document that shipments change;
// they are hashed apart so that a new shipment is told from an order edit.
var trackingKeys = []string{"TrackingNum", "ShipDate", "ShipMethodRef"}

// markerSuffix matches the ledger tags that apply appends to PrivateNote
// (" [velqbo:fp:<digest>] [velqbo:o:<id>:g<n>]"). They are not part of the
// document's content: a new generation must not look like an edit.
var markerSuffix = regexp.MustCompile(`(\s*\[velqbo:[^\]]*\])+\s*$`)

// Fingerprint is the canonical hash of a QBO payload: the sha256 of its
// canonical JSON (keys sorted, numbers as normalised exact decimals so 10
// and 10.00 hash alike), hex, first 32 characters. Id, SyncToken, sparse,
// MetaData, domain and status are left out at every depth, as are the TxnId
// of a line's LinkedTxn (a Payment's invoice id is only known at apply
// time) and the ledger marker at the end of PrivateNote.
//
// A SalesReceipt or Invoice (value or pointer) gets the two-part form of
// OrderFingerprint. v may also be any JSON-marshalable value, such as a
// map read back from QBO; a value that does not marshal hashes as null.
func Fingerprint(v any) string {
	switch v.(type) {
	case *qbo.SalesReceipt, qbo.SalesReceipt, *qbo.Invoice, qbo.Invoice:
		return OrderFingerprint(v)
	}
	if fp, ok := fastFingerprint(v, false); ok {
		return fp
	}
	return slowFingerprint(v, false)
}

// OrderFingerprint is an order document's fingerprint
// "b:<body hash>;t:<tracking hash>", where the tracking hash covers only
// TrackingNum, ShipDate and ShipMethodRef and the body hash everything else.
func OrderFingerprint(v any) string {
	if fp, ok := fastFingerprint(v, true); ok {
		return fp
	}
	return slowFingerprint(v, true)
}

// slowFingerprint is the generic path: any JSON-marshalable value, through
// a generic JSON tree. It defines the canonical form that the fast path
// reproduces.
func slowFingerprint(v any, split bool) string {
	tree := canonicalTree(v)
	if !split {
		return hashTree(tree)
	}
	track := map[string]any{}
	if m, ok := tree.(map[string]any); ok {
		for _, k := range trackingKeys {
			if x, ok := m[k]; ok {
				track[k] = x
				delete(m, k)
			}
		}
	}
	return "b:" + hashTree(tree) + ";t:" + hashTree(track)
}

// SplitFingerprint splits an order document's "b:<body>;t:<tracking>"
// fingerprint; any other fingerprint is returned whole as body, with an
// empty tracking part.
func SplitFingerprint(fp string) (body, tracking string) {
	rest, ok := strings.CutPrefix(fp, "b:")
	if !ok {
		return fp, ""
	}
	b, t, ok := strings.Cut(rest, ";t:")
	if !ok {
		return fp, ""
	}
	return b, t
}

// canonicalTree turns v into generic JSON (maps, slices, json.Number) with
// the volatile fields removed and numbers normalised.
func canonicalTree(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil
	}
	if m, ok := tree.(map[string]any); ok {
		if note, ok := m["PrivateNote"].(string); ok {
			m["PrivateNote"] = markerSuffix.ReplaceAllString(note, "")
		}
	}
	return normalise(tree, "")
}

func normalise(v any, parent string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if volatileKeys[k] || (parent == "LinkedTxn" && k == "TxnId" && isLineLink(x)) {
				delete(x, k)
				continue
			}
			x[k] = normalise(e, k)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalise(e, parent)
		}
		return x
	case json.Number:
		// Exact decimal text: "10", "10.0" and "1e1" are one value.
		d, err := decimal.NewFromString(string(x))
		if err != nil {
			return x
		}
		return json.Number(d.String())
	}
	return v
}

// isLineLink is true for a LinkedTxn entry that links a payment line to an
// Invoice; the walk only reaches it under a "LinkedTxn" key.
func isLineLink(m map[string]any) bool {
	t, _ := m["TxnType"].(string)
	return t == TypeInvoice
}

func hashTree(tree any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// encoding/json writes map keys sorted, which makes the text canonical.
	if err := enc.Encode(tree); err != nil {
		buf.Reset()
		buf.WriteString("null")
	}
	sum := sha256.Sum256(bytes.TrimRight(buf.Bytes(), "\n"))
	return hex.EncodeToString(sum[:])[:32]
}

// The fast path. Fingerprinting runs for every order of every scan, so on a
// no-change run over a large store it is most of the CPU. canonicalTree
// marshals, decodes into generic maps and re-marshals, at ~17 KB of garbage
// per order. For the typed payloads the mapping produces, canonEncoder
// writes the very same canonical text straight from the struct: fields in
// sorted key order, the volatile ones skipped, numbers normalised, strings
// escaped as encoding/json escapes them. Any type it does not fully
// understand (a map, an interface, a custom marshaler other than
// qbo.Decimal, embedded structs, ",string") makes it decline, and the
// generic path runs instead, so the text, and with it every fingerprint in
// the ledger, is byte-identical either way (fingerprint_canon_test.go checks
// both paths against each other).

var (
	decimalType       = reflect.TypeFor[qbo.Decimal]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// canonField is one JSON member of a struct type.
type canonField struct {
	name      string
	key       []byte // "name":
	index     int
	omitEmpty bool
	omitZero  bool
	typ       reflect.Type
}

// canonStruct is a struct type's members in canonical (sorted) order, the
// volatile ones left out.
type canonStruct struct {
	fields  []canonField
	txnType int // index into fields of a string "TxnType" member, or -1
}

var canonStructs sync.Map // reflect.Type -> *canonStruct; nil value: unsupported

// canonInfo returns the layout of struct type t, or nil when t (or a type
// it contains) is beyond the fast path.
func canonInfo(t reflect.Type) *canonStruct {
	if v, ok := canonStructs.Load(t); ok {
		cs, _ := v.(*canonStruct)
		return cs
	}
	cs := buildCanon(t, map[reflect.Type]bool{})
	if cs == nil {
		canonStructs.Store(t, (*canonStruct)(nil))
		return nil
	}
	canonStructs.Store(t, cs)
	return cs
}

// canonSupported says whether values of t can be written by canonEncoder.
func canonSupported(t reflect.Type, visiting map[reflect.Type]bool) bool {
	if t == decimalType {
		return true
	}
	if t.Kind() == reflect.Pointer {
		// A pointer marshals as what it points to; a marshaler with a
		// pointer receiver is caught on the element.
		return canonSupported(t.Elem(), visiting)
	}
	if t.Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(jsonMarshalerType) ||
		t.Implements(textMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType) {
		return false
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() != reflect.Uint8 && canonSupported(t.Elem(), visiting)
	case reflect.Struct:
		if visiting[t] {
			return true // recursive type: judged where it started
		}
		if v, ok := canonStructs.Load(t); ok {
			return v.(*canonStruct) != nil
		}
		return buildCanon(t, visiting) != nil
	}
	return false
}

func buildCanon(t reflect.Type, visiting map[reflect.Type]bool) *canonStruct {
	visiting[t] = true
	defer delete(visiting, t)
	cs := &canonStruct{txnType: -1}
	seen := map[string]bool{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return nil // encoding/json flattens these; not worth mirroring
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
		f := canonField{name: name, index: i, typ: sf.Type}
		for o := range strings.SplitSeq(opts, ",") {
			switch o {
			case "omitempty":
				f.omitEmpty = true
			case "omitzero":
				f.omitZero = true
			case "":
			default:
				return nil // ",string" and friends
			}
		}
		if seen[name] || !canonSafeName(name) {
			return nil
		}
		seen[name] = true
		if volatileKeys[name] {
			continue // left out at every depth, whatever its type
		}
		if f.omitZero {
			if _, ok := sf.Type.MethodByName("IsZero"); ok {
				return nil
			}
			if _, ok := reflect.PointerTo(sf.Type).MethodByName("IsZero"); ok {
				return nil
			}
		}
		if !canonSupported(sf.Type, visiting) {
			return nil
		}
		f.key = appendCanonString(nil, name)
		f.key = append(f.key, ':')
		cs.fields = append(cs.fields, f)
	}
	slices.SortFunc(cs.fields, func(a, b canonField) int { return strings.Compare(a.name, b.name) })
	for i, f := range cs.fields {
		if f.name == "TxnType" && f.typ.Kind() == reflect.String {
			cs.txnType = i
		}
	}
	return cs
}

// canonSafeName is true for member names encoding/json writes as they are.
func canonSafeName(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			return false
		}
	}
	return s != ""
}

// canonEncoder writes canonical text; pooled so a scan allocates nothing
// per order for it.
type canonEncoder struct {
	body, track []byte
}

var canonPool = sync.Pool{New: func() any { return &canonEncoder{body: make([]byte, 0, 4096), track: make([]byte, 0, 256)} }}

// fastFingerprint is Fingerprint (split=false) or OrderFingerprint
// (split=true) for the typed values the fast path understands; ok is false
// for anything else.
func fastFingerprint(v any, split bool) (fp string, ok bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "", false
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct || rv.Type() == decimalType {
		return "", false
	}
	cs := canonInfo(rv.Type())
	if cs == nil {
		return "", false
	}
	e := canonPool.Get().(*canonEncoder)
	defer canonPool.Put(e)
	e.body, e.track = e.body[:0], e.track[:0]
	e.root(rv, cs, split)
	if !split {
		return hashText(e.body), true
	}
	return "b:" + hashText(e.body) + ";t:" + hashText(e.track), true
}

func hashText(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// root writes the top-level object: the ledger marker is cut from
// PrivateNote and, when split, the tracking members go to e.track.
func (e *canonEncoder) root(v reflect.Value, cs *canonStruct, split bool) {
	e.body = append(e.body, '{')
	e.track = append(e.track, '{')
	for i := range cs.fields {
		f := &cs.fields[i]
		fv := v.Field(f.index)
		if omitted(f, fv) {
			continue
		}
		toTrack := split && slices.Contains(trackingKeys, f.name)
		buf := &e.body
		if toTrack {
			buf = &e.track
		}
		if (*buf)[len(*buf)-1] != '{' {
			*buf = append(*buf, ',')
		}
		*buf = append(*buf, f.key...)
		if f.name == "PrivateNote" {
			if s, ok := stringOf(fv); ok {
				if strings.Contains(s, "[velqbo:") {
					s = markerSuffix.ReplaceAllString(s, "")
				}
				*buf = appendCanonString(*buf, s)
				continue
			}
		}
		*buf = e.value(*buf, fv, f.name)
	}
	e.body = append(e.body, '}')
	e.track = append(e.track, '}')
}

// stringOf reads a string or non-nil *string.
func stringOf(v reflect.Value) (string, bool) {
	switch {
	case v.Kind() == reflect.String:
		return v.String(), true
	case v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.String:
		return v.Elem().String(), true
	}
	return "", false
}

// omitted applies omitempty and omitzero as encoding/json does.
func omitted(f *canonField, v reflect.Value) bool {
	if f.omitZero && v.IsZero() {
		return true
	}
	if !f.omitEmpty {
		return false
	}
	switch v.Kind() {
	case reflect.String, reflect.Slice:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint() == 0
	case reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// value writes v; parent is the member name it sits under (slices pass
// theirs on to their elements), as normalise sees it.
func (e *canonEncoder) value(b []byte, v reflect.Value, parent string) []byte {
	if v.Type() == decimalType {
		var d *qbo.Decimal
		if v.CanAddr() {
			d = v.Addr().Interface().(*qbo.Decimal) // no copy to the heap
		} else {
			x := v.Interface().(qbo.Decimal)
			d = &x
		}
		return appendCanonDecimal(b, d.Decimal)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return append(b, "null"...)
		}
		return e.value(b, v.Elem(), parent)
	case reflect.String:
		return appendCanonString(b, v.String())
	case reflect.Bool:
		return strconv.AppendBool(b, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return appendCanonNumber(b, strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return appendCanonNumber(b, strconv.FormatUint(v.Uint(), 10))
	case reflect.Slice:
		if v.IsNil() {
			return append(b, "null"...)
		}
		b = append(b, '[')
		for i := range v.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.value(b, v.Index(i), parent)
		}
		return append(b, ']')
	case reflect.Struct:
		cs := canonInfo(v.Type())
		// A Payment line's link to its Invoice: the invoice id is only
		// known at apply time (normalise drops it likewise).
		dropTxnID := parent == "LinkedTxn" && cs.txnType >= 0 && v.Field(cs.fields[cs.txnType].index).String() == TypeInvoice
		b = append(b, '{')
		first := true
		for i := range cs.fields {
			f := &cs.fields[i]
			fv := v.Field(f.index)
			if omitted(f, fv) || (dropTxnID && f.name == "TxnId") {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, f.key...)
			b = e.value(b, fv, f.name)
		}
		return append(b, '}')
	}
	// canonSupported admitted nothing else.
	panic("reconcile: canonical encoder reached unsupported kind " + v.Kind().String())
}

// appendCanonNumber writes a number as normalise does: its exact decimal
// value in shortest form ("10.00" -> "10").
func appendCanonNumber(b []byte, s string) []byte {
	if d, err := decimal.NewFromString(s); err == nil {
		s = d.String()
	}
	return append(b, s...)
}

// appendCanonDecimal writes d as appendCanonNumber(d.String()) would,
// without allocating for the usual amounts (a coefficient of at most 18
// digits, shopspring's default formatting). d.String() is already the
// shortest form, so the re-parse of appendCanonNumber is an identity there.
func appendCanonDecimal(b []byte, d decimal.Decimal) []byte {
	exp := int(d.Exponent())
	if !decimal.TrimTrailingZeros || decimal.UseScientificNotation || exp > 18 || exp < -64 || d.NumDigits() > 18 {
		return appendCanonNumber(b, d.String())
	}
	c := d.CoefficientInt64()
	if c == 0 {
		return append(b, '0')
	}
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	var digits [20]byte
	ds := strconv.AppendInt(digits[:0], c, 10)
	if exp >= 0 {
		b = append(b, ds...)
		for range exp {
			b = append(b, '0')
		}
		return b
	}
	n := -exp
	intPart, lead, frac := []byte("0"), 0, ds
	if len(ds) > n {
		intPart, frac = ds[:len(ds)-n], ds[len(ds)-n:]
	} else {
		lead = n - len(ds)
	}
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	b = append(b, intPart...)
	if len(frac) == 0 {
		return b
	}
	b = append(b, '.')
	for range lead {
		b = append(b, '0')
	}
	return append(b, frac...)
}

// appendCanonString writes s as the generic path's final encoding does:
// encoding/json's escaping without HTML escapes. The generic path decodes
// the first encoding in between, so an invalid UTF-8 byte ends up as the
// raw bytes of U+FFFD, not as the \ufffd escape.
func appendCanonString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
