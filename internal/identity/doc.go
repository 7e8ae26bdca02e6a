// Package identity is kinko's identity store and login MFA, speaking the
// API of Vault's identity secrets engine (mounted by core at identity/).
//
// It owns:
//   - entities (one person or service), their aliases (the caller's name in
//     one auth mount, by mount accessor + name) and groups, which nest: a
//     group's policies apply to its member entities and to the members of
//     its member groups, transitively (Vault semantics);
//   - external groups and their group aliases: an external group's member
//     entities are set by logins (SyncExternalGroups, called by core with
//     the groups an auth method reports, such as a JWT groups claim), never
//     through the API, and it has no member groups; an internal group may
//     list it as a member group;
//   - the policies a token with an entity gets from it (IdentityPolicies);
//   - TOTP MFA methods, the per-entity TOTP secrets, login enforcements
//     (which logins need MFA) and passcode validation (ValidateTOTP).
//
// Invariants:
//   - Everything is kept in memory, loaded from the storage view when the
//     store is built; every change is written to the view first (one
//     transaction when the view supports it) and applied to memory only
//     when the write succeeded, so memory never holds what storage lacks.
//   - Stored objects are immutable: a change builds a new value and swaps
//     it in, so readers holding a pointer never see it change.
//   - Group nesting is acyclic; an alias (mount accessor + name, names
//     compared case-insensitively) belongs to exactly one entity; entity and
//     group names are unique (case-insensitively); policies never contain
//     "root".
//   - Group aliases are kept inside their group's record: only external
//     groups have one, at most one each, and mount accessor + name is
//     unique among them. An external group's member entities are those
//     whose latest login (or renewal) through its alias's mount reported
//     its alias's name; one without an alias has none (a group whose alias
//     is deleted, moved or renamed to another name loses its members until
//     their next login).
//   - TOTP secrets live only in the storage view (the barrier encrypts
//     them) under mfa/secret/<method>/<entity>; apart from the enrolment
//     answer (otpauth URL and QR code) they are never returned, logged or
//     put in error messages.
//
// Concurrency: one RWMutex guards the identity maps; handlers that change
// them hold it for writing across the storage write. IdentityPolicies is
// answered from a lock-free cache that every write replaces, so its cached
// path takes no lock and reads no storage. TOTP enrolment and validation of
// one method/entity pair are serialised by a striped lock (taken after the
// RWMutex, for reading). The last accepted time step is stored with the
// secret, so a code stays spent across restarts; the failed-attempt
// windows are in memory only, as in Vault.
package identity
