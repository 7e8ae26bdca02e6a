// Package pki is kinko's certificate authority, behaving through the HTTP
// API like Vault's "pki" secrets engine: it generates root and intermediate
// CAs (or imports them), keeps several issuers per mount, issues and signs
// X.509 certificates under roles that state which names a certificate may
// carry, and answers revocation questions with a CRL per issuer and an
// OCSP responder.
//
// # Paths (relative to the mount)
//
//	root/generate/(internal|exported)          new self-signed root issuer
//	intermediate/generate/(internal|exported)  new key and a CSR for it
//	root/sign-intermediate, issuer/:ref/sign-intermediate
//	                                           sign an intermediate CSR
//	intermediate/set-signed, issuers/import/(cert|bundle), config/ca
//	                                           import certificates and keys
//	issuers, issuer/:ref, config/issuers       issuers and the default one
//	roles, roles/:name                         issuance policy
//	[issuer/:ref/](issue|sign)/:role, sign-verbatim[/:role]
//	                                           new leaf certificates
//	ca, ca/pem, ca_chain, cert/:serial[/raw[/pem]], cert/ca, certs
//	                                           fetch certificates
//	certs/expiring?days=N                      certificates expiring soon
//	revoke, crl, crl/pem, cert/crl, crl/rotate, config/crl
//	ocsp, ocsp/<base64 request>                OCSP responder (RFC 6960)
//	tidy                                       remove expired certificates
//	config/urls                                AIA and CRL distribution URLs
//	root (DELETE, sudo)                        delete every issuer and key
//
// The fetch paths, the CRL and OCSP are unauthenticated, as in Vault. Raw
// (non-JSON) bodies are returned through logical.Response.Raw. A POSTed
// OCSP request reaches the engine as []byte under the data key
// RawBodyKey ("http_raw_body"), which the HTTP layer must set for
// Content-Type application/ocsp-request. With generate_lease a role ties
// each certificate to a lease whose revocation revokes the certificate.
//
// # Storage layout
//
//	config/issuers       the default issuer
//	config/urls          URLs written into issued certificates
//	config/crl           CRL and OCSP validity settings
//	issuer/<id>          an issuer: name, certificate and chain (PEM), key id
//	key/<id>             a private key (PKCS #8 PEM) — only ever here
//	role/<name>          a role
//	certs/<serial>       an issued (or CA) certificate, DER, with its expiry
//	revoked/<serial>     a revocation record
//	crl/<issuer id>      an issuer's current CRL, its number and entries
//
// Serials in storage keys are lower-case hex bytes joined by '-'; the API
// shows them joined by ':' and accepts either.
//
// # Invariants
//
//   - Private keys never leave key/ except in the response of an
//     "exported" generation or an issue call, and never appear in errors.
//   - Every issuer's certificate is a CA certificate; an issuer may lack a
//     key (imported chain parents), in which case it cannot sign.
//   - A revoke writes revoked/<serial> and then re-signs the CRL of the
//     issuer that signed the certificate (its entries plus the new one)
//     before it returns; crl/rotate, tidy and config/crl rebuild every CRL
//     from a scan of revoked/.
//   - An issuer's stored chain is recomputed whenever an issuer is added,
//     imported or deleted.
//   - Serial numbers are 20 bytes from crypto/rand with the top bit clear,
//     so they are positive and fit RFC 5280's 20-octet limit.
//
// # Concurrency
//
// Issuance and OCSP read storage and take no lock. Writes to issuers,
// keys and the issuer configuration, revocations and CRL builds hold the
// backend's mutex, so two revokes never build CRLs with the same number.
// Parsed certificates, keys and issuer records are cached by a hash of
// their stored bytes, so a change made in storage is seen at once. Signed
// OCSP answers are reused for up to a minute for the same question and
// the same answer; a revocation changes the answer and so is seen at
// once. The end-to-end tests live in package e2e.
package pki
