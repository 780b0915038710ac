package web

import (
	"context"
	"errors"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// Backend is the console's access to the engine. Its implementation lives
// in package main (cmd/velqbo/console.go), over the same wiring the CLI
// uses, so a screen and its command share every rule. Methods return
// engine values, never HTML.
//
// Each screen adds the methods it needs in its own block below, and
// implements them in cmd/velqbo/console_<screen>.go.
type Backend interface {
	// --- core ---

	// Store is the open ledger, for reads and for the console's own
	// tables (users, sessions). It stays open for the server's life.
	Store() *schema.Store
	// WithLease holds the run lease and calls fn with a Reconciler built
	// for need, as the CLI's skip, retry, adopt and resync do. Returns
	// the error of building (ErrNotConnected, a configuration error), an
	// error wrapping ErrRunInProgress when a run holds the lease, or fn's
	// error.
	WithLease(ctx context.Context, need Need, fn func(r *reconcile.Reconciler) error) error
	// QBO returns a client of the connected company and its realm id.
	// Returns ErrNotConnected when no company is connected.
	QBO(ctx context.Context) (*qbo.Client, string, error)

	// --- integrations ---

	// --- settings ---

	// --- customers ---

	// --- products ---

	// --- orders ---

	// --- runs ---

	// --- problems ---
}

// Need says what a Reconciler handed to WithLease must reach.
type Need int

const (
	// NeedFull is the source, the ledger and QBO (runs, plans).
	NeedFull Need = iota
	// NeedLedger is the ledger alone (retry, skip).
	NeedLedger
	// NeedQBO is the ledger and QBO, without the source (adopt, ledger
	// rebuild).
	NeedQBO
)

// ErrNotConnected is what Backend methods return (wrapped) when no QBO
// company is connected; pages then point to Integrations.
var ErrNotConnected = errors.New("not connected to QuickBooks Online")

// ErrRunInProgress is what WithLease returns (wrapped, with who holds the
// lease) while a run holds the run lease.
var ErrRunInProgress = errors.New("a run is in progress")
