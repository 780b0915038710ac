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
// Orders are decoded in one pass by the decoder in fastjson.go, which
// gives exactly what encoding/json gives for the lines an export holds and
// hands anything else to encoding/json. Its field list is the json tags of
// the wire structs (decode.go), read once at start: a field added there is
// decoded by its tag alone, and TestFastDecodeOrder_EveryTag fails if a tag
// does not take the one-pass path. It stays, rather than a JSON library,
// because none came within 10 % of it on the export: see BENCHMARKS.md,
// "Decoder decision (issue 9)".
//
// The contract this package reads is docs/velocity-api.md (v1).
package velocity
