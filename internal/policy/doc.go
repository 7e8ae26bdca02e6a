// Package policy owns kinko's Vault-compatible ACL policies: the HCL (and
// JSON) policy parser, the compiled ACL that answers "may this token do this
// operation on this path", and the Store that keeps named policies in a
// storage view and caches compiled ACLs.
//
// Semantics follow Vault:
//   - A path rule is exact ("secret/data/foo"), a prefix glob ending in "*"
//     ("secret/data/*"), or contains "+" segments that match any one path
//     segment ("secret/data/+/config"), optionally also ending in "*".
//   - An exact rule beats every glob. Among the glob and "+" rules that match,
//     the most specific wins: the one whose first wildcard comes latest, then
//     one not ending in "*", then fewer "+" segments, then the longer pattern,
//     then the lexicographically greater pattern.
//   - Rules for the same pattern coming from several policies are merged
//     (union of capabilities, merged parameter constraints); "deny" in any of
//     them makes the merged rule deny-only. The winning rule alone decides, and
//     "deny" on it refuses everything. No matching rule means deny.
//   - The "root" policy grants everything; "default" is built in (DefaultPolicy)
//     and may be overwritten but not deleted.
//   - Paths using identity templating ("{{identity.entity.id}}") are parsed and
//     kept but skipped when compiling an ACL, which is what Vault does for a
//     token without an identity entity.
//
// Invariants: a *Policy and an *ACL are immutable once built, so they are
// safe for concurrent use without locks. Store is safe for concurrent use; it
// serialises writes and invalidates its caches after every Set and Delete.
// Errors meant for API callers wrap logical.ErrInvalidRequest and never echo
// request data values.
package policy
