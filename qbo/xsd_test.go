package qbo

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// xsdType is one named complexType of Intuit's v3 schema: the element and
// attribute names it declares, and the type it extends.
type xsdType struct {
	base   string
	fields map[string]bool
}

// loadXSD reads the complexTypes of the given schema files. Elements of an
// anonymous complexType nested in a named one are not counted as the named
// type's fields. simpleContent (a ReferenceType's text) appears as the
// field "value", the name QBO's JSON gives it.
func loadXSD(t *testing.T, files ...string) map[string]*xsdType {
	t.Helper()
	types := map[string]*xsdType{}
	for _, f := range files {
		b := refFile(t, "intuit-xsd", f)
		dec := xml.NewDecoder(strings.NewReader(string(b)))
		var stack []*xsdType // innermost complexType last; nil for an anonymous one
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			switch el := tok.(type) {
			case xml.StartElement:
				attr := func(name string) string {
					for _, a := range el.Attr {
						if a.Name.Local == name {
							return a.Value
						}
					}
					return ""
				}
				var cur *xsdType
				if len(stack) > 0 {
					cur = stack[len(stack)-1]
				}
				switch el.Name.Local {
				case "complexType":
					var ct *xsdType
					if name := attr("name"); name != "" {
						ct = &xsdType{fields: map[string]bool{}}
						types[name] = ct
					}
					stack = append(stack, ct)
				case "element", "attribute":
					if cur != nil && attr("name") != "" {
						cur.fields[attr("name")] = true
					}
				case "extension":
					if cur != nil && cur.base == "" {
						cur.base = attr("base")
					}
				case "simpleContent":
					if cur != nil {
						cur.fields["value"] = true
					}
				}
			case xml.EndElement:
				if el.Name.Local == "complexType" {
					stack = stack[:len(stack)-1]
				}
			}
		}
	}
	return types
}

// has reports whether the XSD type or one of its bases declares field.
func (x *xsdType) has(types map[string]*xsdType, field string) bool {
	for seen := 0; x != nil && seen < 20; seen++ {
		if x.fields[field] {
			return true
		}
		x = types[x.base]
	}
	return false
}

// TestEntities_FieldsExistInXSD checks every JSON field of the entities the
// client sends and decodes against Intuit's v3 XSD (testdata/intuit-xsd):
// a misspelt or mis-cased field name would be ignored by QBO on a write and
// left empty on a read, with no error either way. Each Go struct reachable
// from the entities must name an XSD complexType (its own name, or the one
// in xsdName) that declares, itself or through its bases, every field.
func TestEntities_FieldsExistInXSD(t *testing.T) {
	types := loadXSD(t, "IntuitBaseTypes.xsd", "IntuitNamesTypes.xsd", "Finance.xsd")
	xsdName := map[string]string{
		"Ref":      "ReferenceType",
		"MetaData": "ModificationMetaData",
	}
	roots := []any{
		SalesReceipt{}, Invoice{}, RefundReceipt{}, Payment{}, Customer{}, Item{},
		Account{}, PaymentMethod{}, TaxCode{}, TaxRateList{}, CompanyInfo{}, Preferences{},
	}
	marshaler := reflect.TypeFor[json.Marshaler]()
	seen := map[reflect.Type]bool{}
	var checked []string
	var walk func(rt reflect.Type)
	walk = func(rt reflect.Type) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || seen[rt] || rt.Implements(marshaler) || reflect.PointerTo(rt).Implements(marshaler) ||
			rt.PkgPath() != reflect.TypeFor[Ref]().PkgPath() {
			return // scalars, time.Time, Decimal: leaves
		}
		seen[rt] = true
		name := rt.Name()
		if n, ok := xsdName[name]; ok {
			name = n
		}
		x, ok := types[name]
		if !ok {
			t.Errorf("%s: no complexType %q in the XSD (add it to xsdName)", rt.Name(), name)
			return
		}
		checked = append(checked, rt.Name())
		for i := range rt.NumField() {
			f := rt.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			if !x.has(types, tag) {
				t.Errorf("%s.%s: XSD type %s declares no field %q", rt.Name(), f.Name, name, tag)
			}
			walk(f.Type)
		}
	}
	for _, r := range roots {
		walk(reflect.TypeOf(r))
	}
	slices.Sort(checked)
	t.Logf("checked %d types against the XSD: %s", len(checked), strings.Join(checked, ", "))
	for _, want := range []string{"SalesReceipt", "Invoice", "RefundReceipt", "Payment", "Line", "SalesItemLineDetail", "PhysicalAddress", "Ref"} {
		if !slices.Contains(checked, want) {
			t.Errorf("type %s was not checked; want it reached from the roots", want)
		}
	}
}
