package web

import (
	"context"
	"errors"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/runprogress"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
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
	// Overview is the dashboard's summary, from the ledger alone (no
	// network). Errors are the store's.
	Overview(ctx context.Context) (Overview, error)

	// --- integrations ---

	// QBOStatus is the QBO connection: the company (read live; CompanyErr
	// says why not), the token's health as `velqbo status` checks it, and
	// the company the ledger belongs to. Returns the store's error.
	QBOStatus(ctx context.Context) (QBOStatus, error)
	// QBORedirectURL is the redirect URL of a consent started from the
	// console reached at consoleBase ("https://host:port"): its
	// CallbackPath, or VELQBO_QBO_REDIRECT_URL when that points there.
	QBORedirectURL(consoleBase string) string
	// QBOAuthURL is Intuit's consent URL for redirectURL and state.
	// Returns a configuration error when the app's credentials are missing.
	QBOAuthURL(redirectURL, state string) (string, error)
	// CompleteQBOConnect exchanges the callback's code and stores the
	// connection, as `velqbo connect` does. Returns the usage error of a
	// company other than the ledger's, Intuit's refusal, or the store's.
	CompleteQBOConnect(ctx context.Context, redirectURL string, cb qbo.Callback) (QBOConnected, error)
	// DisconnectQBO revokes and forgets the tokens as `velqbo disconnect`
	// does (forget: even when Intuit cannot revoke them). Returns the
	// companies done and the error of a revoke that failed or the store's.
	DisconnectQBO(ctx context.Context, forget bool) ([]QBODisconnected, error)

	// --- settings ---

	// SettingsView is the settings with their QBO records and problems,
	// the payment-method mappings and every key's fitting records, read
	// live from QBO. Without a connection: the stored ids and an error
	// wrapping ErrNotConnected; otherwise QBO's error.
	SettingsView(ctx context.Context) (SettingsView, error)
	// SaveSettings checks kv and saves all of it or nothing, as `velqbo
	// settings set` does: the problems by key, or QBO's or the store's
	// error.
	SaveSettings(ctx context.Context, kv map[string]string) (reconcile.SettingErrors, error)

	// --- customers (and the link methods the Products screen shares) ---

	// Customers lists the Velocity customers with their links and the
	// orders each blocks, as f selects (reconcile.ListLinks). Errors: one
	// matching reconcile.ErrSourceUnavailable, the store's.
	Customers(ctx context.Context, f reconcile.LinkFilter) (reconcile.LinkList, error)
	// Customer reads one Velocity customer and its link (nil: unlinked).
	// Errors: velocity.ErrNotFound, *velocity.ObjectError, one matching
	// reconcile.ErrSourceUnavailable, the store's.
	Customer(ctx context.Context, id string) (*velocity.Customer, *schema.Link, error)
	// BlockedOrders lists the orders Velocity customer or product id
	// blocks now (reconcile.BlockedOrders). Errors are the store's.
	BlockedOrders(ctx context.Context, kind schema.LinkKind, id string) ([]schema.BlockedOrder, error)
	// SearchQBOCustomers is one page of the QBO customers whose name,
	// company or email contains text (reconcile.SearchQBOCustomers).
	// Errors: ErrNotConnected, the qbo client's.
	SearchQBOCustomers(ctx context.Context, text string, page reconcile.SearchPage) (reconcile.Found[reconcile.QBOCustomer], error)
	// Suggest proposes QBO records for a Velocity customer or product
	// (reconcile.Suggest). Errors: ErrNotConnected, the source's, the qbo
	// client's.
	Suggest(ctx context.Context, kind schema.LinkKind, id string) ([]reconcile.Suggestion, error)
	// Link links a Velocity customer or product to a QBO record as
	// `customers link` / `products link` do, force as their --force
	// (reconcile.Linker.Link). Errors: *reconcile.LinkRefusedError,
	// ErrNotConnected, the source's, QBO's, the store's.
	Link(ctx context.Context, kind schema.LinkKind, velocityID, qboID string, force bool) (reconcile.LinkResult, error)
	// Unlink deletes a link (`customers unlink`). Errors: one matching
	// schema.ErrNotFound when there was none, the store's.
	Unlink(ctx context.Context, kind schema.LinkKind, velocityID string) error
	// CreateCustomer is `customers create` (reconcile.CustomerCreator).
	// Errors: *reconcile.AlreadyLinkedError,
	// *reconcile.ExistingCustomersError, *reconcile.NameTakenError,
	// *reconcile.LinkRefusedError, ErrNotConnected, the source's, QBO's,
	// the store's.
	CreateCustomer(ctx context.Context, id string, opts reconcile.CreateOptions) (reconcile.CreateResult, error)
	// PlanProfileSync reads both records of linked customer id and the
	// changes keeping keep's profile makes (reconcile.ProfileSyncer.Plan).
	// Errors: one matching schema.ErrNotFound when id is not linked,
	// velocity.ErrNotFound, *reconcile.QBOCustomerGoneError,
	// ErrNotConnected, the clients'.
	PlanProfileSync(ctx context.Context, id, keep string) (reconcile.ProfileSync, error)
	// ApplyProfileSync plans again and writes the changes if their digest
	// is still confirmed (`customers sync --keep`). Errors: those of
	// PlanProfileSync, *reconcile.SyncChangedError, a configuration error
	// when keep is qbo and the source is an export file.
	ApplyProfileSync(ctx context.Context, id, keep, confirmed string) (reconcile.ProfileSync, error)

	// --- products ---

	// Products lists the Velocity products as Customers does.
	Products(ctx context.Context, f reconcile.LinkFilter) (reconcile.LinkList, error)
	// Product reads one Velocity product and its link (nil: unlinked).
	// Errors as Customer.
	Product(ctx context.Context, id string) (*velocity.Product, *schema.Link, error)
	// SearchQBOItems is one page of the QBO items whose name or SKU
	// contains text (reconcile.SearchQBOItems). Errors as
	// SearchQBOCustomers.
	SearchQBOItems(ctx context.Context, text string, page reconcile.SearchPage) (reconcile.Found[reconcile.QBOItem], error)

	// --- orders ---

	// PreviewOrder is reconcile's PreviewOrder of the order with Velocity
	// id orderID, on the source and the ledger (no lease: it writes
	// nothing). Errors as reconcile's.
	PreviewOrder(ctx context.Context, orderID string) (*reconcile.OrderPreview, error)
	// ReportAsInvoice is reconcile's ReportAsInvoice under the run lease, on
	// the source and the ledger, as `velqbo orders report-as-invoice` does.
	// Errors as reconcile's, and ErrRunInProgress.
	ReportAsInvoice(ctx context.Context, orderNumber, by string) (schema.Document, error)

	// --- runs ---

	// Preview is `velqbo plan`: what an incremental run would do now,
	// written nowhere. Returns ErrNotConnected, or the source's and QBO's
	// errors.
	Preview(ctx context.Context) (*reconcile.Summary, error)
	// RunNow starts an incremental run in the background, as `velqbo run`
	// runs it, under the run lease held in user's name, and returns once
	// it holds the lease. Returns ErrNotConnected, an error wrapping
	// ErrRunInProgress and *schema.LeaseHeldError (who runs) while
	// another run holds the lease, or the configuration's errors.
	RunNow(ctx context.Context, user string) (*runprogress.Live, error)
	// RunStatus says whether a run is in progress and how far it is: live
	// when this process runs it, else what the ledger records.
	RunStatus(ctx context.Context) (runprogress.Status, error)

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
