// Package e2e holds the end-to-end tests of the PKI engine: a real kinko
// server (internal/testserver) driven with the official Vault client,
// checked with crypto/x509, x/crypto/ocsp, crypto/tls and openssl. They
// live apart from package pki so that its fuzz targets run in a small
// test binary (coverage snapshots of the whole server slow fuzzing down
// a thousandfold).
package e2e
