// Package database is the database secrets engine, with Vault's API:
// connections (config/:name, reset/:name, rotate-root/:name), dynamic
// roles (roles/:name) whose creds/:name create a unique user per read
// under a lease, and static roles (static-roles/:name, static-creds/:name,
// rotate-role/:name) whose existing user's password kinko rotates on a
// period or a cron schedule.
//
// The engine talks to databases through dbplugin.Database plugins
// (plugins.go is the registry). One plugin instance per connection is
// kept and shared by concurrent requests (instances.go): each operation
// holds its instance for reading, so requests do not wait for each other;
// reset, a config write, rotate-root and delete replace the instance, and
// the old one is closed once the operations still using it finish, while
// later ones move to the new instance. Cleanup closes them all.
//
// Lease TTLs of creds are the role's default_ttl and max_ttl, or else the
// mount's tuned TTLs, or else the server's. Renewals are capped at the
// lease's issue time plus that max.
//
// Static roles are rotated by one scheduler goroutine per mount
// (scheduler.go), started by Initialize and stopped by Cleanup, sleeping
// on a priority queue of next-rotation times rebuilt from storage at
// start. A cron schedule with a rotation_window skips a missed window to
// the next occurrence; a failed rotation is retried with capped
// exponential backoff and logged (never the password).
//
// Invariants:
//   - The root password lives only in the stored connection details
//     (encrypted by the barrier); reads never return it (nor a password
//     written into connection_url), errors never contain it. After
//     rotate-root no human knows it.
//   - A dynamic user is revoked through the lease's Revoke with the
//     revocation statements it was created under; revoking a user already
//     gone succeeds, and a revocation that cannot reach the database
//     fails, so the lease manager retries it.
//   - A static role's password changes under a write-ahead record
//     (wal/static/<role>) written before the database is touched; the
//     record is replayed at Initialize (its password applied to the
//     database again, then stored), so a crash mid-rotation ends with the
//     database and kinko agreeing. Reads of static-creds wait for a
//     rotation in progress (a per-role lock), so they always return the
//     password the database has. Root rotation is recorded the same way
//     (wal/root/<name>) and finished by the next start or rotate-root.
//
// Tests set the backend's clock (Backend.now) between Factory and
// Initialize and drive the scheduler with scheduler.flush; none sleeps
// waiting for a rotation.
//
// Storage: config/<name>, role/<name>, static-role/<name>, wal/...
package database
