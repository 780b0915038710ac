// Package bigcommerce is velqbo's BigCommerce source: it reads a store's
// orders, customers and products from BigCommerce's v2/v3 REST API and
// maps them onto the velocity domain types, so that package reconcile
// reports a BigCommerce store exactly as it reports the Velocity contract.
//
// wire.go mirrors the BigCommerce JSON velqbo reads and decodes it, with
// errors naming the object and the field; money.go reads BigCommerce's
// 4-place amounts exactly (never through float64); mapping.go turns the
// wire objects into velocity.Order and friends. docs/bigcommerce.md says
// what maps to what, the money rule, and what velqbo cannot see.
package bigcommerce
