// Package approle is kinko's AppRole auth method, speaking Vault's AppRole
// API: roles (role/:role_name and its per-field endpoints), role IDs,
// secret IDs (generated or custom, with accessors, CIDR bindings, use
// counts and TTLs), tidy/secret-id, and the unauthenticated login path that
// trades a role ID and secret ID for a token (minted by core from the
// returned logical.Auth).
//
// # Storage layout (all below the mount's barrier-encrypted view)
//
//	salt                                 per-mount random HMAC key (32 bytes)
//	role/<lower-case name>               role record (JSON), incl. a random
//	                                     per-role HMAC key that never leaves
//	                                     storage
//	role_id/<HMAC(salt, role_id)>        index: role ID -> role name (raw)
//	secret_id/<HMAC(rk, name)>/<HMAC(rk, secret_id)>
//	                                     secret ID record (rk = role key);
//	                                     secret_id_local/ for roles with
//	                                     local_secret_ids
//	accessor/<HMAC(salt, accessor)>      index: accessor -> secret record
//	                                     (accessor_local/ likewise)
//
// # Invariants
//
//   - A secret ID is never stored, logged or returned after its creation
//     response: only HMAC-SHA256 of it under the role's random key, which
//     is itself only inside the role record. Role IDs and accessors appear
//     in keys only as HMACs under the mount salt.
//   - Every secret record has an accessor entry. Both are written in one
//     storage transaction when the view supports it; otherwise the accessor
//     is written before the record and deleted after it, so a crash can only
//     leave an orphan accessor (harmless, removed by tidy). Login therefore
//     reads no accessor.
//   - The role_id index is trusted only after the role it names has been
//     read and its role_id compared in constant time with the one presented.
//   - A role always has at least one constraint: bind_secret_id, or
//     secret_id_bound_cidrs, or token_bound_cidrs (as Vault).
//   - Login failures never reveal which of role ID and secret ID was wrong
//     ("invalid role or secret ID", 400, as current Vault). Expired secret
//     IDs are refused and deleted at login (Vault only removes them by tidy).
//   - A token's renewal comes back to the method (Framework.AuthRenew): its
//     role must still exist, with the role ID it logged in with (a tag, an
//     HMAC under the role key, is kept in the token's internal data), and
//     the renewal follows the role's current token TTLs.
//
// # Login cost
//
// A login reads the role_id index, the role and the secret record (the
// salt is cached in memory after the first read; the role is decoded only
// when its stored bytes changed) and writes nothing unless the secret ID
// has a use limit: then one decrement (or one delete of the last use) under
// the secret's lock.
//
// # Concurrency
//
// The backend holds no state except the cached salt (immutable once
// created), a login cache of decoded roles that is only used when the bytes
// just read from storage equal those it was decoded from (so it is never
// stale, even across a cluster), a clock, and striped locks: role stripes (RW) serialise writes
// to one role against each other and against secret-ID creation for it;
// secret stripes serialise use-count decrements, deletes and creation of
// one secret ID; roleIDMu serialises role_id index changes so two roles can
// never claim the same role ID. Secret IDs without a use limit are
// validated without any lock.
package approle
