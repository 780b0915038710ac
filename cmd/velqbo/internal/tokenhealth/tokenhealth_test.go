package tokenhealth

import (
	"errors"
	"fmt"
	"testing"

	"github.com/velqbo/velqbo/qbo"
)

func TestRunError(t *testing.T) {
	t.Parallel()
	// The chain the engine records when a refresh is refused mid-run.
	rejected := fmt.Errorf("qbo rejected the connection: read company preferences: get preferences: refresh qbo token: %w: %w",
		qbo.ErrTokenRejected, errors.New(`oauth2: "invalid_grant"`)).Error()
	tests := []struct {
		name, recorded, want string
	}{
		{"Rejected", rejected, RejectedText},
		{"Other", "velocity: list orders: 503", "velocity: list orders: 503"},
		{"None", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RunError(tt.recorded); got != tt.want {
				t.Errorf("RunError(%q) = %q; want %q", tt.recorded, got, tt.want)
			}
		})
	}
}
