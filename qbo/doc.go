// Package qbo is a client for the QuickBooks Online (QBO) Accounting API v3:
// typed entities, CRUD/void/delete, paged queries, batch, change data capture,
// retries with idempotent replay, client-side pacing and an OAuth2 token source
// that persists rotated refresh tokens. It knows nothing about Velocity and
// does no logging; failures come back as rich errors (see Error).
package qbo
