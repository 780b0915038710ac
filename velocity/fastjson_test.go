package velocity

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checkFastDecode fails when the one-pass decoder accepts data but its
// result differs from json.Unmarshal's, or when it accepts what
// json.Unmarshal rejects.
func checkFastDecode(t *testing.T, data []byte) (taken bool) {
	t.Helper()
	var fast wireOrder
	ok := fastDecodeOrder(data, &fast)
	var slow wireOrder
	err := json.Unmarshal(data, &slow)
	if !ok {
		return false
	}
	if err != nil {
		t.Errorf("fast decoder accepted %q; json.Unmarshal: %v", data, err)
		return true
	}
	if diff := cmp.Diff(slow, fast); diff != "" {
		t.Errorf("fast decode of %q differs from json.Unmarshal (-want +got):\n%s", data, diff)
	}
	return true
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
