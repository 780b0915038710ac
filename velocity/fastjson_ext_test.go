package velocity_test

import (
	"bytes"
	"testing"

	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// TestFastDecodeOrder_Generated: every order the generator writes (the
// shape of a Velocity export, unicode and HTML escapes included) takes the
// one-pass decoder and decodes exactly as encoding/json decodes it.
func TestFastDecodeOrder_Generated(t *testing.T) {
	var buf bytes.Buffer
	if err := velocitytest.WriteNDJSON(&buf, 5, 3000); err != nil {
		t.Fatal(err)
	}
	n, taken := 0, 0
	for line := range bytes.SplitSeq(buf.Bytes(), []byte("\n")) {
		if !bytes.HasPrefix(line, []byte(`{"type":"order"`)) {
			continue
		}
		n++
		ok, problem := velocity.FastDecodeCheck(line)
		if ok {
			taken++
		}
		if problem != "" {
			t.Errorf("line %d: %s", n, problem)
		}
	}
	if n != 3000 || taken != n {
		t.Errorf("fast path took %d of %d orders; want all 3000", taken, n)
	}
}
