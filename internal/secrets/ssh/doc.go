// Package ssh is kinko's SSH secrets engine: an SSH certificate authority
// with the HTTP API of Vault's "ssh" engine in its signed-certificates mode.
//
// Paths (relative to the mount):
//
//	config/ca      POST generates (generate_signing_key, key_type, key_bits)
//	               or imports (private_key + public_key) the CA key pair;
//	               GET returns public_key; DELETE removes the pair.
//	public_key     GET, unauthenticated: the CA public key as text/plain,
//	               for sshd's TrustedUserCAKeys or a known_hosts line.
//	roles/:name    CA roles (key_type=ca): who may be a principal, TTLs,
//	               extensions, critical options, accepted key types.
//	roles/         LIST, with key_info {name: {key_type}}.
//	sign/:role     signs a client's public key: signed_key (an OpenSSH
//	               certificate line) and serial_number (hex).
//	issue/:role    generates a key pair and signs it; the private key is
//	               returned once and never stored.
//
// Only Vault's CA mode exists: roles of key_type "otp" or "dynamic" are
// refused with a 400. Kinko generates an ssh-ed25519 CA key when none is
// asked for (Vault: ssh-rsa 4096).
//
// # Storage layout
//
//	config/ca      {"public_key", "private_key"}: both halves in one JSON
//	               record, written with one Put, so a CA is never half
//	               configured. The private key is kept in OpenSSH PEM
//	               format whatever format it was imported in.
//	roles/<name>   one JSON record per role.
//
// # Invariants
//
//   - The CA private key never leaves storage: no response, error or log
//     line contains it. Imported pairs are checked to match.
//   - Certificate serials are 64 random bits from crypto/rand.
//   - Every sign re-reads the CA and the role from storage, so a change on
//     any node of a cluster applies at once. Requests with a TTL above the
//     role's max_ttl are refused; a default TTL above it is capped.
//
// # Concurrency
//
// The backend keeps one cache: the parsed CA signer, keyed by the stored
// private key, replaced atomically; a stale entry is never used because the
// key is compared with the freshly read record on every sign. Writes of
// config/ca hold a mutex so two concurrent generations cannot both pass the
// "already configured" check.
package ssh
