// Package cert is kinko's TLS certificate auth method, speaking Vault's
// cert API: certs/:name (a trusted CA or pinned leaf certificate with name
// and extension constraints and the token_* settings of tokenutil, plus
// Vault's deprecated policies, lease, ttl, max_ttl, period and
// bound_cidrs), LIST certs, crls/:name (revocation lists pushed by an
// operator), LIST crls, config, and the unauthenticated login.
//
// A login carries no credentials in its body: the caller proves itself
// with the client certificate chain it presented in the mutual-TLS
// handshake (req.Conn.ConnState). The listener must therefore request
// client certificates without verifying them (tls.RequestClientCert); this
// package does the verification, against the certificates of its roles.
//
// # Storage layout (below the mount's barrier-encrypted view)
//
//	cert/<lower-case name>   role (JSON): PEM certificate(s), constraints,
//	                         token settings, deprecated field copies
//	crls/<lower-case name>   revoked serial numbers of one CRL (JSON)
//	config                   mount settings (JSON)
//
// # Invariants
//
//   - A login succeeds only when the presented leaf chains (crypto/x509,
//     extended key usage client auth or any, at the backend clock's time)
//     to a CA certificate of a role, or is byte-for-byte the non-CA
//     certificate a role pins and is within its validity period; and when
//     that role's constraints hold (allowed_names, allowed_common_names,
//     allowed_dns_sans, allowed_email_sans, allowed_uri_sans,
//     allowed_organizational_units with Vault's '*' globbing,
//     required_extensions) and no certificate of the chain is revoked by a
//     stored CRL (matched by serial number, as Vault). Roles are tried in
//     name order, pinned leaves first; the first match wins, as Vault.
//   - Login refusals are worded as Vault's and answer 400, as Vault's do;
//     a refused source address (token_bound_cidrs) answers 403. Naming an
//     unknown role refuses exactly like a certificate no role trusts, so
//     logins do not reveal which roles exist.
//   - Stored certificates are validated when written (at least one parsable
//     X.509 certificate; a non-CA leaf with extended key usages must allow
//     client auth), so login never meets an unusable role.
//   - A token's renewal comes back to the method (Framework.AuthRenew):
//     its role must still exist with the token's policies and, unless
//     config disable_binding is set, the renewing connection must present
//     a certificate the role still trusts whose subject and authority key
//     IDs are both those of the login's (Vault accepts either). The
//     renewal follows the role's current token TTLs.
//   - OCSP is not supported (ocsp_enabled=true is refused); CRLs are only
//     accepted inline, never fetched from a URL, so the API cannot make the
//     server issue requests.
//
// # Concurrency
//
// Handlers keep no state outside storage except two caches of parsed
// records (roles and CRLs), keyed by storage key and used only when the
// stored bytes equal those the cached record came from, so they can never
// serve a stale record; they are bounded and emptied when full. Role and
// CRL writes are serialised by one mutex so read-modify-write updates are
// not lost. The clock is a field so tests can move time.
package cert
