// Package store is the data model of kinko's AWS Secrets Manager-compatible
// secrets: a Go API, one method per Secrets Manager operation, over a
// logical.Storage. It knows nothing of HTTP or of AWS JSON; a front end
// decodes requests into the typed inputs (AWS field names as Go fields),
// calls the Store and renders the outputs. Errors the caller caused are
// *Error values carrying the AWS error code and a message, to be rendered
// as {"__type": Code, "Message": Message}; any other error is internal
// (InternalServiceError, without its text).
//
// # Model
//
// A secret has a name (1-512 of [A-Za-z0-9/_+=.@-]), an ARN
// (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<6
// random alphanumerics>), metadata, and versions. A version is an
// immutable value (SecretString or SecretBinary, at most 65,536 bytes)
// identified by a VersionId (32-64 characters; the ClientRequestToken of
// the call that created it) and carrying staging labels. A SecretId is a
// name, a full ARN or a partial ARN (the ARN without "-" and the suffix).
//
// # Invariants
//
//   - Each label is on at most one version of a secret.
//   - Once a secret has a version, exactly one version carries AWSCURRENT;
//     only a secret created without a value has none (and no versions).
//   - Moving AWSCURRENT (PutSecretValue, UpdateSecret,
//     UpdateSecretVersionStage, FinishRotation) puts AWSPREVIOUS on the
//     version it left; AWSCURRENT is never removed without being moved.
//   - A version has 1-20 labels, or none: it is then deprecated. When a
//     secret has more than 100 versions, the oldest deprecated versions
//     created at least 24 hours ago are removed; beyond Options.MaxVersions
//     a new version is refused with LimitExceededException.
//   - A version's value never changes. Repeating a create with the same
//     ClientRequestToken and value is a no-op success; the same token with
//     another value fails with ResourceExistsException.
//   - A secret scheduled for deletion (DeletedDate set: the end of its
//     recovery window) keeps its name, can be described, restored or
//     force-deleted, and refuses every other change and every read of its
//     value (InvalidRequestException). Purge removes those whose window
//     has passed.
//
// # Storage
//
// One JSON record per secret at secret/<name>, with '/' in the name
// written as %2F ('%' cannot occur in a name) so every record is a direct
// child of secret/. Every operation writes at most that one key, with one
// Put or one Delete, so each is atomic. The ARN needs no index: it embeds
// the name, and the suffix is checked against the record.
//
// # Concurrency and caching
//
// The Store is safe for concurrent use. Operations that change a secret
// hold an exclusive lock of its name (striped) across read, modify and
// write, so they serialise; reads take no lock on the hot path. Decoded
// records are cached in memory, immutable once cached: a write clones the
// record, saves the clone and only then publishes it. A cache miss loads
// under the shared side of the same lock, so a stale record can never
// replace a newer one. The cache assumes this Store is the only writer of
// its storage; call Invalidate if another process may have written it.
//
// GetSecretValue records LastAccessedDate (UTC day precision) on the
// secret and the version; it writes at most once per secret and version
// per day, and a failure of that write does not fail the read.
//
// # Rotation
//
// The rotation driver lives elsewhere. RotateSecret records the hook and
// rules and checks that no rotation is in progress; CreatePendingVersion
// (the createSecret step) adds the AWSPENDING version; FinishRotation (the
// finishSecret step) moves AWSCURRENT to it and removes AWSPENDING;
// CancelRotateSecret turns rotation off and removes AWSPENDING.
//
// # Listing
//
// ListSecrets, ListSecretVersionIds and BatchGetSecretValue page with
// opaque NextTokens bound to the parameters of the call that issued them
// (filters, sort, flags); a token that does not decode or belongs to other
// parameters fails with InvalidNextTokenException. Pages are keyset-based
// (sort key, then name), so secrets created or deleted between calls do
// not shift the pages. ListSecrets sorts by created-date ascending unless
// told otherwise. Filters are ANDed; within a filter a secret matches when
// some plain value matches (or there is none) and no "!" value does.
package store
