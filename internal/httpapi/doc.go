// Package httpapi is kinko's Vault-compatible HTTP front end: it decodes
// /v1/... requests into logical.Requests, hands them to core, and writes
// Vault's response envelope or {"errors":[...]} with the right status.
//
// It owns: method → operation mapping, token extraction (X-Vault-Token or
// Authorization: Bearer), the request size bound, per-client rate limits,
// the endpoints that work while sealed (sys/init, sys/unseal,
// sys/seal-status, sys/health, sys/leader), sys/metrics, and the one switch
// that maps error kinds to HTTP statuses. Handlers are safe for concurrent
// use; a Handler holds no per-request state.
package httpapi
