// Package token owns kinko's token store: creating, looking up, renewing and
// revoking service tokens, their accessors and parent/child trees, token
// roles, and the Vault-compatible HTTP paths mounted by core at
// "auth/token/".
//
// Storage layout (all inside the view given to NewStore, which the barrier
// encrypts):
//
//	salt                          random per-store secret, never leaves the store
//	id/<hash>                     one Entry, JSON, without the raw token
//	accessor/<accessorHash>       index: raw accessor and the token hash
//	parent/<parentHash>/<hash>    index: children of a token (empty value)
//	role/<name>                   one token role, JSON
//
// Invariants:
//   - A raw token is never written to storage, logged or kept in memory by
//     the store: only HMAC-SHA256(salt-derived key, token) is. Accessors are
//     stored under their own keyed hash.
//   - An entry is written only after its accessor and parent indexes, and is
//     removed only after it has been marked revoked (NumUses = -1), its
//     children have been revoked and OnRevoke has run. A crash at any step
//     leaves a state Tidy finishes.
//   - Revoking a token revokes its whole subtree, iteratively and with a
//     visited set, so deep or corrupted (cyclic) indexes cannot exhaust the
//     stack or loop.
//
// Concurrency: every method of Store is safe for concurrent use. Entries
// returned by Lookup, LookupAccessor and UseToken are shared with the
// in-memory cache and must be treated as read-only. Per-token mutations
// (use, renew, revoke) and cache fills are serialised by striped locks, so a
// storage read racing a revocation can never put a revoked token back into
// the cache. OnRevoke must be set before the store serves requests, and must
// tolerate being called more than once for the same token.
//
// Renewing a token minted by an auth method login (Path below "auth/" but
// not "auth/token/") first asks RenewCheck, when set: core routes the
// question to the method, which may refuse or bound the new TTL. The hook
// runs with no store lock held.
package token
