package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// Fingerprint is the canonical hash of a QBO payload. (Work in progress.)
func Fingerprint(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:32]
}

// SplitFingerprint splits an order document's "b:<body>;t:<tracking>"
// fingerprint; any other fingerprint is returned whole as body.
func SplitFingerprint(fp string) (body, tracking string) {
	b, t, ok := strings.Cut(fp, ";t:")
	if !ok {
		return fp, ""
	}
	return strings.TrimPrefix(b, "b:"), t
}
