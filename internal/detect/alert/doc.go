// Package alert delivers detection findings (detect.Finding) to the places
// operators watch: a webhook, an email address, or the server log.
//
// A Sink sends one finding and reports whether it was delivered. Sinks are
// built from a Config, which ParseConfig decodes and validates from the
// map an API body decodes to; Config.Public is the representation safe to
// read back (it never contains the webhook secret or the SMTP password).
// A Dispatcher fans findings out to the configured sinks in the background:
// its Notify never blocks the caller, it is what the detector is given as
// its notification callback.
//
// # Webhook payload
//
// The webhook sink POSTs a JSON document with Content-Type
// application/json and User-Agent kinko:
//
//	{
//	  "version":  1,
//	  "type":     "kinko.detect.finding",
//	  "delivery": "8f2c…",              // random id, the same on every retry
//	  "sent_at":  "2026-01-02T15:04:05.123Z",
//	  "finding":  { "id": …, "rule": …, "severity": …, "time": …,
//	                "summary": …, "subject": {…}, "evidence": [ … ],
//	                "actions": [ … ] }
//	}
//
// The body is byte-for-byte identical on every attempt for one finding, so
// a receiver can deduplicate on "delivery".
//
// # Webhook signature
//
// Every attempt carries two headers:
//
//	X-Kinko-Timestamp: <Unix time of the attempt, decimal seconds>
//	X-Kinko-Signature: sha256=<lower-case hex HMAC-SHA256(secret, message)>
//
// where message is the timestamp header value, one "." byte, then the raw
// request body: message = timestamp + "." + body. Receivers recompute the
// MAC over exactly those bytes with hooksig.VerifySignature (a constant-time
// compare) and reject stale timestamps with hooksig.CheckTimestamp, so a captured
// request cannot be replayed later. The secret never appears in a log line,
// an error, or Config.Public.
//
// # Delivery rules
//
// The webhook sink retries network errors, 5xx and 429 responses with
// exponential backoff and jitter, honouring Retry-After (capped), up to
// max_attempts; any other non-2xx status (including redirects, which are
// not followed) fails at once. Each attempt has its own timeout.
//
// The SMTP sink speaks net/smtp: STARTTLS whenever the server offers it
// (require_tls refuses servers that do not), or TLS from the first byte
// with implicit_tls; PLAIN authentication only over TLS or to localhost,
// as net/smtp enforces. Everything placed in a header has its control
// characters removed, so finding fields cannot inject headers.
//
// The log sink writes one slog record per finding, at Warn, or at Error
// for severity high and above.
//
// # Concurrency
//
// Sinks are safe for concurrent use. The Dispatcher gives every sink its
// own bounded queue and worker goroutine, so a slow sink delays only
// itself; a finding that finds a queue full is dropped for that sink and
// counted. Close stops intake and drains the queues.
package alert
