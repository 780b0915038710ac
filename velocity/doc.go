// Package velocity is the Velocity source: an HTTP client for the Velocity
// read API (plus the customer profile write) and a reader for Velocity's
// NDJSON export files. Both yield the same validated objects through the
// same streaming shape (see Source).
//
// It knows nothing about QuickBooks Online: cross-object money checks (an
// order's total against its lines, refunds against the order) and all
// mapping live in package reconcile, which uses the exact helpers here
// (OrderLine.Amount, Order.ComputedTotal, Order.RefundsOrdered).
//
// The contract this package reads is /work/shared/velocity-api.md (v1).
package velocity
