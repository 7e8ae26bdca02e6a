// Package expiration owns leases: the promise that a dynamic secret (a
// database user, a certificate, ...) is undone when its time is up.
//
// Every lease is persisted below the barrier before the secret is
// returned to the caller, keyed by its ID (the request path that created
// it plus a random suffix, so leases can be listed and revoked by
// prefix), with an index by the hash of the token that created it so
// that revoking a token revokes its leases.
//
// Timers are not persisted: Start rebuilds them from storage, so leases
// that expired while the server was down or sealed are revoked as soon as
// it is unsealed. A min-heap ordered by expiry feeds one scheduler
// goroutine, which hands due leases to a bounded pool of workers.
//
// Revocation asks the engine that issued the lease (through Backend) to
// undo it, then deletes the lease. When the engine fails — its database is
// down — the lease stays in storage with its attempt count and the next
// attempt time, and is retried with exponential backoff (capped) until it
// succeeds or an operator uses revoke-force: no lease is forgotten. A
// lease is deleted only after its engine reported it revoked, so a crash
// at any point leaves the lease in storage to be revoked again (engines'
// revocations are idempotent).
//
// Concurrency: all methods are safe for concurrent use. A lease is handled
// by at most one revocation at a time (the in-flight set).
package expiration
