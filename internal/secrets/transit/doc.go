// Package transit is kinko's transit secrets engine, encryption as a
// service, compatible through the HTTP API with Vault's "transit" engine:
// named keys (keys/, config, rotate, trim, import, import_version),
// encrypt/decrypt/rewrap with batch_input, datakey, hmac, sign and verify
// (also of HMACs), random, hash, export, backup/restore, wrapping_key and
// config/keys.
//
// # Formats
//
// Ciphertexts, signatures and HMACs are "kinko:v<version>:<base64>"; values
// with Vault's "vault:v<version>:" prefix are accepted as input, so data
// encrypted by Vault keeps working once its key is restored here. The
// payloads are Vault's: AES-GCM and ChaCha20-Poly1305 ciphertexts are
// nonce || ciphertext || tag (an exported key opens them with crypto/cipher),
// RSA keys encrypt with OAEP-SHA256, ECDSA signatures are ASN.1 (or r||s in
// base64url with marshaling_algorithm=jws), RSA signatures PSS (or PKCS#1
// v1.5). Derived keys come from HKDF-SHA256 of the version's key with the
// request's context as info; convergent encryption (Vault's version 3)
// takes the nonce from an HMAC-SHA256 of the plaintext under a second
// derived key, so equal plaintexts and contexts give equal ciphertexts.
// Backups are Vault's backup format and restore in either product. BYOK
// imports take Vault's format: RSA-OAEP (wrapping key, ephemeral AES-256
// key) followed by AES key wrap with padding (RFC 5649, kwp.go) of the key
// material (raw bytes, or PKCS#8 DER for asymmetric keys).
//
// # Storage layout
//
//	policy/<name>        one JSON record per key: settings and the material
//	                     of every available version (see keyPolicy)
//	config/keys          engine-wide settings (disable_upsert)
//	config/wrapping-key  the mount's RSA-4096 BYOK wrapping key (PKCS#8)
//
// All of it is below the barrier, which encrypts it. Key material is made
// only with crypto/rand.
//
// # Concurrency
//
// Parsed keys are cached in memory (keyring): a request looks its key up
// without taking a lock and works on an immutable snapshot. Every change to
// a key holds that key's lock stripe, changes a copy, writes it to storage
// and then publishes it, so concurrent rotations never lose a version and
// an encryption racing a rotation uses either the old or the new latest
// version, both of which decrypt. The cache is per mount and per process:
// changes made through another node's engine are not seen until the mount
// is reloaded (kinko serves requests from the active node).
//
// Automatic rotation (auto_rotate_period) runs on kinko's rotation
// scheduler, started by Initialize from the keys in storage and stopped by
// Cleanup.
//
// # Batches
//
// Like Vault, an encrypt or decrypt batch in which an item failed is a
// 400: the handler returns the response with every item's result in
// batch_results together with an invalid-request error whose message names
// the failed items (the same response-with-error convention as kv's 404
// with a body). partial_failure_response_code with a 2xx code turns a
// partly failed batch into a plain 200. rewrap, sign, verify and hmac
// batches answer 200 with per-item errors, as in Vault.
package transit
