package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// requestID is the deterministic QBO requestid of one write:
// "vq" + the first 40 hex digits of sha256(realm|kind|source id|g<generation>|
// action|fingerprint|attempt), 42 characters (QBO allows 50).
//
// Why deterministic: a write whose answer was lost is sent again, on this
// run or a later one, with the same requestid, and QBO answers the replay
// with the first result instead of writing twice. attempt is bumped only
// after a definitive fault (QBO stores the fault under the requestid too, so
// a corrected retry needs a new id), never after an unknown outcome.
func requestID(realm, kind, sourceID string, generation int, action, fingerprint string, attempt int) string {
	h := sha256.New()
	h.Write([]byte(strings.Join([]string{realm, kind, sourceID, "g" + strconv.Itoa(generation), action, fingerprint,
		strconv.Itoa(attempt)}, "|")))
	return "vq" + hex.EncodeToString(h.Sum(nil))[:40]
}

// batchRequestID is the requestid of a batch: "vqb" + 33 hex digits of the
// hash of its items' request ids, 36 characters (QBO's batch limit). The
// same items in the same order give the same id, so a batch whose answer
// was lost replays instead of creating twice.
func batchRequestID(itemIDs []string) string {
	sum := sha256.Sum256([]byte(strings.Join(itemIDs, "|")))
	return "vqb" + hex.EncodeToString(sum[:])[:33]
}

// markerLetter is the kind letter of the PrivateNote marker.
func markerLetter(kind string) string {
	switch kind {
	case string(KindRefund):
		return "r"
	case string(KindPayment):
		return "p"
	}
	return "o"
}

// marker is "velqbo:<o|r|p>:<source id>:g<generation>". It is written into
// every created document's PrivateNote, inside brackets, so that a create
// whose outcome is unknown can be found again in QBO and told apart from a
// document of another generation (a deliberate resync).
func marker(kind, sourceID string, generation int) string {
	return "velqbo:" + markerLetter(kind) + ":" + sourceID + ":g" + strconv.Itoa(generation)
}

// hasMarker reports whether a PrivateNote carries the marker.
func hasMarker(note, m string) bool { return strings.Contains(note, "["+m+"]") }
