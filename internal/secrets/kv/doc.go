// Package kv is kinko's key/value secrets engine, behaving through the HTTP
// API exactly like Vault's "kv" engine in both of its modes:
//
//   - version 1 (the default): a pass-through store. GET/PUT/DELETE/LIST on
//     any path below the mount; the request body is the secret.
//   - version 2: a versioned store with data/, metadata/, delete/,
//     undelete/, destroy/, subkeys/ and config paths, check-and-set,
//     max_versions pruning, delete_version_after, custom_metadata and JSON
//     merge-patch (RFC 7386).
//
// # Storage layout (version 2)
//
//	config                 engine configuration (JSON)
//	meta/<path>            one record per secret: metadata, the version
//	                       index and the current version's data (binary,
//	                       see record.go)
//	versions/<path>/<n>    data of every older, not destroyed version n
//
// Reading the latest version of a secret is one storage Get. Reading an
// older version is two. Keeping the current data inside the metadata record
// makes the hot path cheap; when a new version is written the previous
// current data moves to its versions/ key in the same transaction.
//
// # Invariants
//
//   - meta/<path> is the commit point: every versions/ key it references
//     exists before (or atomically with) the record that references it.
//   - Versions in a record are sorted ascending and contiguous from
//     max(oldest_version, 1) to current_version.
//   - A record has data exactly when its current version exists and is not
//     destroyed.
//   - Metadata and version writes go through one storage.Transactional call
//     when the view supports it, so nothing is ever half-written; otherwise
//     the operations are applied in an order that never leaves a record
//     pointing at missing data.
//
// # Concurrency
//
// The backend keeps no state but a fixed array of striped mutexes (the
// engine configuration is read from storage on every write, never cached,
// so every node of a cluster sees a change at once). Every operation that
// reads, modifies and writes a secret's record holds the stripe of that
// secret's path, so two concurrent writes to the same secret never lose a
// version; config writes hold the stripe of a name no secret can have. Reads of the
// current version take no lock: the record is read with one Get. Reads of an
// older version retry once if a concurrent prune or destroy removed its data.
//
// # Responses that are 404 with a body
//
// Vault answers a read of a deleted or destroyed version with status 404
// and the usual envelope carrying {"data": null, "metadata": {...}}. The
// handlers return that as a non-nil Response together with an error of kind
// logical.ErrNotFound; the HTTP layer writes the envelope with status 404.
// A read or list that finds nothing returns (nil, nil), which the HTTP layer
// answers with 404 and {"errors": []}, as Vault does.
package kv
