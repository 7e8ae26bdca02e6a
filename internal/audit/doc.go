// Package audit records every request kinko serves and every response it
// gives, one JSON object per line in Vault's audit shape, on one or more
// audit devices (file, socket, syslog).
//
// Contracts:
//   - Sensitive values never reach a device in the clear: every string and
//     number in request and response data, every token and accessor, is
//     replaced by "hmac-sha256:<hex>", keyed with the device's own salt, so
//     a known value can be found with Device.Hash (sys/audit-hash) but never
//     read back. A device enabled with log_raw=true writes values as they
//     are; it must be asked for explicitly.
//   - Tamper evidence: each line a device writes carries "seq" (1, 2, …)
//     and "prev_hmac", the HMAC-SHA256 of the device's previous line under
//     the device's chain key. Verify walks a log and reports the first
//     edited, deleted, inserted or reordered line. A file device continues
//     the chain of the lines already in its file across restarts and
//     rotations.
//   - Fail closed: the Broker reports an error when devices are enabled
//     and none of them recorded an entry; core then refuses the request.
//
// Concurrency: a Broker and its devices are safe for concurrent use; each
// device serialises its own writes so its chain stays in order.
package audit
