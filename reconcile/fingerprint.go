package reconcile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"

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

// markerSuffix matches the ledger marker that apply appends to PrivateNote
// (" [velqbo:o:<id>:g<n>]"). It is not part of the document's content: a
// new generation must not look like an edit.
var markerSuffix = regexp.MustCompile(`\s*\[velqbo:[^\]]*\]\s*$`)

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
	return hashTree(canonicalTree(v))
}

// OrderFingerprint is an order document's fingerprint
// "b:<body hash>;t:<tracking hash>", where the tracking hash covers only
// TrackingNum, ShipDate and ShipMethodRef and the body hash everything else.
func OrderFingerprint(v any) string {
	tree := canonicalTree(v)
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
