// Package sealfile encrypts the values of configuration files for GitOps,
// in the manner of SOPS: keys, structure, comments and order stay readable
// so diffs are meaningful, and each value is replaced by an encrypted
// token. It owns the file format, its parsers (YAML, JSON, dotenv, INI,
// and a Kubernetes Secret mode over YAML or JSON), the value and MAC
// cryptography, and the key sources that protect the data key (age
// recipients, kinko's transit engine). It does no file or process I/O;
// the CLI (cmd/kinko, seal-file and friends) does.
//
// # Values
//
// Each sealed leaf value becomes one token:
//
//	KINKO[AES256_GCM,data:<b64>,iv:<b64>,tag:<b64>,type:<type>]
//
// data is the AES-256-GCM ciphertext of the value's text (empty for an
// empty value), iv the random 12-byte nonce, tag the 16-byte GCM tag, all
// standard base64 with padding; the fields appear in this order and no
// other. type is the value's type, restored on decryption: str, int,
// float, bool (any format), timestamp or binary (YAML). Numbers keep their
// exact text. The additional data binds the token to the value's place: a
// version string, the type and the canonical path of the value (every
// mapping key and list index from the top, section and key for INI, the
// name for dotenv), so a token moved to another key, or retyped, does not
// decrypt. The path is shown as db.password or servers[0].host.
//
// # Keys
//
// Every seal draws one fresh random 32-byte data key. Two keys are derived
// from it with HKDF-SHA256: the value key (AES-256-GCM) and the MAC key
// (HMAC-SHA256). The data key itself is stored only wrapped, once per key
// source (KeySource): to each age X25519 recipient (the binary age file,
// base64) and/or by kinko's transit engine (transit/encrypt/<key>). Any one
// source suffices to decrypt; age needs no server.
//
// # MAC
//
// The MAC is HMAC-SHA256 under the MAC key over, in document order, every
// entry of the document (each scalar with its path, type, whether it is
// sealed, and its plaintext; each null, empty mapping, empty list, alias
// and INI section with its path) followed by the metadata that changes the
// meaning (version, mode, selection rules, lastmodified), each field
// length-prefixed. It is stored as a token of its own (type str, path
// "kinko mac"). Decryption recomputes it after decrypting every value and
// compares in constant time, so changing, renaming, adding, deleting or
// reordering any entry, sealed or not, fails with ErrMAC. Comments,
// quoting and indentation are not covered. The MAC proves the file was
// written by someone holding the data key; since age recipients are
// public, anyone can write a new valid file from scratch.
//
// # Metadata
//
// YAML and JSON files get a top-level key "kinko" (reserved) holding:
//
//	version: 1
//	mode: k8s                 # only for Kubernetes Secret manifests
//	keys:                     # one per key source
//	  - {type: age, recipient: age1..., enc: <base64 age file>}
//	  - {type: transit, mount: transit, key: app, enc: kinko:v1:...}
//	lastmodified: "2025-01-02T03:04:05Z"
//	mac: KINKO[AES256_GCM,...]
//	encrypted_regex: ...      # optional selection rules
//	unencrypted_regex: ...
//	unencrypted_suffix: ...
//
// Dotenv files get trailing comment lines "#kinko.<field>=<value>", INI
// files ";kinko.<field>=<value>", with one "key" line per source holding
// the stanza as compact JSON. Comments are ignored by other loaders, so a
// sealed file never defines stray variables. Lines with these prefixes are
// reserved.
//
// # Selection
//
// By default every string, number, boolean, timestamp and binary leaf is
// sealed; nulls, empty collections and aliases stay as they are. With
// encrypted_regex only leaves with some key on their path matching it are
// sealed; with unencrypted_regex or unencrypted_suffix, leaves with a key
// on their path matching it (or ending with it) stay plain; a file has at
// most one of these rules. In mode k8s (a kind: Secret manifest) only the
// values under the top-level data and stringData are sealed; data values
// must be base64. Plain leaves are still covered by the MAC.
//
// # Formats
//
// YAML: one document, a mapping at the top; comments, anchors, key order,
// tags and quoting styles survive (a token keeps the value's quoting style).
// JSON: an object at the top; key order and number text survive, the output
// is indented like the input (two spaces when it cannot be told). Duplicate
// keys are rejected in both. Dotenv: KEY=value lines, optional "export ",
// values unquoted (a " #" starts a comment), single-quoted (literal) or
// double-quoted (escapes \n \r \t \" \\; any other backslash is kept),
// quoted values may span lines (a resealed one is written on one line);
// comments and blank lines survive, and a token is written in the quoting
// the value had. INI: [section] headers, key = value or key: value (the
// first of = and : separates), comments starting with ; or #, no inline
// comments or continuation lines; keys before the first section have a
// one-segment path.
//
// Editing (Opened.Reseal) keeps the data key, its wrapped copies and the
// token of every value whose path, type and text are unchanged, so the
// diff of an edit shows exactly the values that changed; sealing afresh
// (Seal) draws a new data key.
//
// All functions are safe for concurrent use; an Opened is not.
package sealfile
