// Package userpass is kinko's userpass auth method, speaking Vault's
// userpass API: users/:username (create, read, update, delete, with the
// token_* settings of tokenutil and Vault's deprecated policies, ttl,
// max_ttl and bound_cidrs), LIST users, users/:username/password,
// users/:username/policies, the unauthenticated login/:username, and
// config/lockout (kinko's own lockout settings, beneath Vault's
// sys/auth/:path/tune user_lockout_config). It implements
// logical.LockedUserLister, so core's sys/locked-users lists and unlocks
// its locked-out users. Renewals of its tokens come back to
// the method (Framework.AuthRenew): the user must still exist with the
// same policies, and the renewal follows the user's current TTL settings.
//
// # Storage layout (below the mount's barrier-encrypted view)
//
//	user/<lower-case username>   user record (JSON): token settings, the
//	                             bcrypt hash of the password, deprecated
//	                             field copies shown by read as Vault does
//	config/lockout               lockout overrides (JSON), see lockout.go
//
// # Invariants
//
//   - Usernames are case-insensitive: every path lower-cases them before
//     use, so "Mary" and "mary" are one user (as Vault).
//   - A password is never stored, logged or returned: only its bcrypt hash
//     (cost 10 as Vault, or an imported password_hash of cost 5..12).
//     Passwords longer than bcrypt's 72-byte limit are refused when set and
//     never match at login (bcrypt would silently ignore the excess).
//   - Login failures never reveal whether the user exists: a wrong password
//     and an unknown user both cost one bcrypt comparison (unknown users are
//     compared with a dummy hash of the same cost) and both answer 400
//     "invalid username or password", as Vault.
//   - User lockout (Vault's: threshold 5, duration 15m, counter reset 15m
//     by default) counts failures per lower-case username per mount, not
//     per client address, as Vault. A locked-out login answers 403
//     "permission denied" without checking the password, as Vault. Unlike
//     Vault, unknown usernames are counted and locked too, so the lockout
//     cannot be used to find which users exist. A successful login resets
//     the count; a source address outside token_bound_cidrs is refused with
//     403 after the password check, as Vault, and neither counts nor
//     resets. The settings apply field by field: the mount's tuned
//     user_lockout_config (logical.MountConfig.UserLockout), then
//     config/lockout, then the mount options, then the defaults.
//     sys/locked-users lists locked-out known users only (never what was
//     typed as an unknown username); an unlock clears the count.
//
// # Concurrency
//
// Writes to one user (create/update, password, policies) are serialised
// by striped mutexes so read-modify-write updates are never lost; logins
// only read storage. Lockout counters live in memory only (lost on
// restart or seal, which an attacker cannot trigger), guarded by one
// mutex, bounded, and pruned as they expire. Each login reserves its
// attempt before the bcrypt comparison, so concurrent guesses cannot
// exceed the threshold. The clock is a field so tests can move time.
package userpass
