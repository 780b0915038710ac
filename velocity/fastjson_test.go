package velocity

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// checkFastDecode fails when the one-pass decoder accepts data but its
// result differs from json.Unmarshal's, or when it accepts what
// json.Unmarshal rejects.
func checkFastDecode(t *testing.T, data []byte) (taken bool) {
	t.Helper()
	return checkFast[wireOrder](t, data)
}

// checkFast is checkFastDecode for any struct type T.
func checkFast[T any](t *testing.T, data []byte) (taken bool) {
	t.Helper()
	var fast T
	ok := fastDecodeWith(planOf(reflect.TypeFor[T]()), data, unsafe.Pointer(&fast))
	var slow T
	err := json.Unmarshal(data, &slow)
	if !ok {
		return false
	}
	if err != nil {
		t.Errorf("fast decoder accepted %q; json.Unmarshal: %v", data, err)
		return true
	}
	if diff := cmp.Diff(slow, fast, cmp.AllowUnexported(slow)); diff != "" {
		t.Errorf("fast decode of %q differs from json.Unmarshal (-want +got):\n%s", data, diff)
	}
	return true
}

// TestFastDecodeOrder_EveryTag walks every json tag of the order wire
// structs: a document holding just that key (nested where it is nested)
// must take the fast path and decode as encoding/json does. A field added
// to a wire struct is covered here by its tag alone; one of a kind the
// fast decoder does not know fails here instead of silently slowing every
// order down.
func TestFastDecodeOrder_EveryTag(t *testing.T) {
	docs := tagDocs(t, reflect.TypeFor[wireOrder](), "")
	if len(docs) < 60 {
		t.Fatalf("got %d tag documents; want every tag of the order wire structs (≥ 60)", len(docs))
	}
	for _, doc := range docs {
		t.Run(doc.path, func(t *testing.T) {
			if !checkFastDecode(t, []byte(doc.json)) {
				t.Errorf("fast path declined %s; want it taken (does fieldDecoder know its type?)", doc.json)
			}
			var w wireOrder
			if err := json.Unmarshal([]byte(doc.json), &w); err != nil || doc.leaf && reflect.ValueOf(w).IsZero() {
				t.Errorf("json.Unmarshal(%s) = %v, zero %v; want a value set", doc.json, err, reflect.ValueOf(w).IsZero())
			}
		})
	}
}

type tagDoc struct {
	path, json string
	leaf       bool // json sets a value, not just an empty object
}

// tagDocs returns, for every json key of struct type st (and of the
// structs it holds), a JSON object that sets only that key.
func tagDocs(t *testing.T, st reflect.Type, prefix string) []tagDoc {
	t.Helper()
	var docs []tagDoc
	for i := range st.NumField() {
		sf := st.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		path, key := prefix+name, strconv.Quote(name)
		ft := sf.Type
		var elem reflect.Type
		wrap := func(v string) string { return v }
		switch {
		case ft.Kind() == reflect.Struct:
			elem = ft
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct:
			elem = ft.Elem()
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			elem, wrap = ft.Elem(), func(v string) string { return "[" + v + "]" }
		}
		if elem != nil {
			docs = append(docs, tagDoc{path, "{" + key + ":" + wrap("{}") + "}", false})
			for _, sub := range tagDocs(t, elem, path+".") {
				docs = append(docs, tagDoc{sub.path, "{" + key + ":" + wrap(sub.json) + "}", sub.leaf})
			}
			continue
		}
		sample, ok := map[reflect.Type]string{
			reflect.TypeFor[string]():          `"v\u00e9"`,
			reflect.TypeFor[bool]():            `true`,
			reflect.TypeFor[json.RawMessage](): `"1.50"`,
		}[ft]
		if !ok {
			t.Errorf("%s: no sample for a field of type %v; the fast decoder reads strings, booleans, json.RawMessage and structs of them", path, ft)
			continue
		}
		docs = append(docs, tagDoc{path, "{" + key + ":" + sample + "}", true})
	}
	return docs
}

// planProbe is a struct the plans have not been written for: its tags
// alone make the fast path decode it, except the kinds it declines.
type planProbe struct {
	S        string          `json:"s,omitempty"`
	B        bool            `json:"b"`
	R        json.RawMessage `json:"r"`
	A        Address         `json:"a"`
	P        *wireTerms      `json:"p"`
	L        []wireLine      `json:"l"`
	Skipped  string          `json:"-"`
	Untagged string
	private  string
	N        int    `json:"n"`
	Q        string `json:"q,string"`
}

func TestFastDecode_TagsAlone(t *testing.T) {
	cases := []struct {
		name, json string
		taken      bool
	}{
		{"every supported kind", `{"s":"x","b":true,"r":[1,{"a":null}],"a":{"city":"Lyon"},"p":{"net_days":30},"l":[{"id":"l1"},{"sku":"k"}]}`, true},
		{"nulls", `{"s":null,"b":null,"r":null,"a":null,"p":null,"l":null}`, true},
		{"empty", `{"a":{},"p":{},"l":[]}`, true},
		{"untagged field by its Go name", `{"Untagged":"u"}`, true},
		{"dash-tagged field is unknown", `{"-":"x","Skipped":"y"}`, true},
		{"unexported field is unknown", `{"private":"x"}`, true},
		{"int field declines", `{"n":1}`, false},
		{"string option declines", `{"q":"\"x\""}`, false},
		{"case-folded key declines", `{"UNTAGGED":"u"}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkFast[planProbe](t, []byte(tc.json)); got != tc.taken {
				t.Errorf("fast path taken: got %v; want %v", got, tc.taken)
			}
		})
	}
}

// TestFastDecodeOrder_Edges: what the fast path must decline or must get
// right exactly as encoding/json does.
func TestFastDecodeOrder_Edges(t *testing.T) {
	base := `"type":"order","id":"o1","number":"1","customer_id":"c1","total":"1.00","updated_at":"2026-01-01T00:00:00Z","lines":[{"id":"l1","product_id":"p1","quantity":"1","unit_price":"1.00"}]`
	cases := []struct {
		name, json string
		taken      bool
	}{
		{"plain", `{` + base + `}`, true},
		{"whitespace", " {\n\t" + strings.ReplaceAll(base, ",", " ,\r\n ") + " } ", true},
		{"escapes", `{` + base + `,"email":"a\"b\\c\/d\b\f\n\r\t\u00e9\u0026\ud83d\ude80"}`, true},
		{"lone surrogate", `{` + base + `,"email":"x\ud800y\udc00\ud800\u0041"}`, true},
		{"invalid utf8", "{" + base + ",\"email\":\"a\xffb\xe2\x82\"}", true},
		{"nulls", `{` + base + `,"payment_terms":null,"shipments":null,"billing_address":null,"report_as_invoice":null,"email":null,"tax_total":null}`, true},
		{"empty arrays", `{` + base + `,"refunds":[],"payments":[],"shipments":[{"id":"s1","items":[]}]}`, true},
		{"terms", `{` + base + `,"payment_terms":{"net_days":30,"extra":[1,{"a":null}]}}`, true},
		{"unknown keys", `{` + base + `,"x_meta":{"a":[true,false,null,-1.5e+3,0,"s"]},"zz":[]}`, true},
		{"raw kinds", `{` + base + `,"shipping_total":12.5,"handling_total":{"a":1},"discount_total":[1],"tax_total":true}`, true},
		{"numbers", `{` + base + `,"shipping_total":-0.0e-0}`, true},
		{"bool", `{` + base + `,"report_as_invoice":true}`, true},
		{"many elements", `{` + base + `,"shipments":[` + strings.Repeat(`{"id":"s","items":[{"line_id":"a"},{"line_id":"b"},{},{},{"quantity":"2"}]},`, 8) + `{}],"refunds":[{"lines":[{},{},{},{},{},{"kind":"tax"}]}]}`, true},
		{"case-folded key", `{` + base + `,"Email":"x"}`, false},
		{"unicode fold key", `{` + base + `,"ſtatus":"x"}`, false},
		{"escaped key", `{` + base + `,"em\u0061il":"x"}`, false},
		{"duplicate key", `{` + base + `,"id":"o2"}`, false},
		{"wrong type", `{` + base + `,"email":5}`, false},
		{"wrong bool", `{` + base + `,"report_as_invoice":"yes"}`, false},
		{"null element", `{` + base + `,"refunds":[null]}`, false},
		{"array for object", `{` + base + `,"billing_address":[]}`, false},
		{"syntax: trailing comma", `{` + base + `,}`, false},
		{"syntax: leading zero", `{` + base + `,"tax_total":01}`, false},
		{"syntax: bad escape", `{` + base + `,"email":"\x"}`, false},
		{"syntax: control char", "{" + base + ",\"email\":\"a\tb\"}", false},
		{"syntax: trailing data", `{` + base + `} x`, false},
		{"syntax: truncated", `{` + base, false},
		{"not an object", `[1]`, false},
		{"null", `null`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkFastDecode(t, []byte(tc.json)); got != tc.taken {
				t.Errorf("fast path taken: got %v; want %v", got, tc.taken)
			}
		})
	}
}

// FuzzFastDecodeOrder: whatever the fast path accepts, it decodes exactly
// as encoding/json does. Seeds: the decoder's own corpus and edge cases.
func FuzzFastDecodeOrder(f *testing.F) {
	f.Add([]byte(`{"type":"order","id":"o1","lines":[{"id":"l1","quantity":"1"}],"email":"\u0026\ud800"}`))
	f.Add([]byte(`{"payment_terms":{"net_days":30},"refunds":[{"lines":[{"kind":"tax"}]}],"payments":null}`))
	f.Add([]byte(`{"shipments":[{"items":[{"line_id":"l1","quantity":2}]}],"billing_address":{"name":"\xff"}}`))
	if dirs, err := filepath.Glob("testdata/fuzz/FuzzDecodeOrder/*"); err == nil {
		for _, p := range dirs {
			if b, err := os.ReadFile(p); err == nil {
				if s, ok := corpusBytes(b); ok {
					f.Add(s)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastDecode(t, data)
	})
}

// corpusBytes extracts the single []byte or string value of a Go fuzz
// corpus file.
func corpusBytes(b []byte) ([]byte, bool) {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		return nil, false
	}
	v := lines[1]
	for _, prefix := range []string{"[]byte(", "string("} {
		if strings.HasPrefix(v, prefix) && strings.HasSuffix(v, ")") {
			if u, err := strconv.Unquote(v[len(prefix) : len(v)-1]); err == nil {
				return []byte(u), true
			}
		}
	}
	return nil, false
}

// FastDecodeCheck is checkFastDecode for the external tests (which may use
// velocitytest): taken says whether the fast path took data, problem what
// went wrong ("" when nothing did).
func fastDecodeCheck(data []byte) (taken bool, problem string) {
	var fast wireOrder
	if !fastDecodeOrder(data, &fast) {
		return false, ""
	}
	var slow wireOrder
	if err := json.Unmarshal(data, &slow); err != nil {
		return true, "json.Unmarshal rejects it: " + err.Error()
	}
	return true, cmp.Diff(slow, fast)
}
