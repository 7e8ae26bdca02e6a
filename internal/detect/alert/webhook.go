package alert

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kinko-dev/kinko/internal/detect"
	"github.com/kinko-dev/kinko/internal/hooksig"
)

// Webhook headers and payload constants.
const (
	SignatureHeader = hooksig.SignatureHeader
	TimestampHeader = hooksig.TimestampHeader
	PayloadType     = "kinko.detect.finding"
	PayloadVersion  = 1
)

// Retry timing: the n-th retry waits about baseDelay·2ⁿ⁻¹ (half of it
// jittered), at most maxDelay; a Retry-After is honoured up to
// maxRetryAfter.
const (
	baseDelay     = 500 * time.Millisecond
	maxDelay      = 30 * time.Second
	maxRetryAfter = 5 * time.Minute
	maxDrain      = 64 << 10
)

// Payload is the JSON body a webhook sink posts.
type Payload struct {
	Version int    `json:"version"`
	Type    string `json:"type"`
	// Delivery is a random id, the same on every attempt for one finding.
	Delivery string         `json:"delivery"`
	SentAt   time.Time      `json:"sent_at"`
	Finding  detect.Finding `json:"finding"`
}

// Webhook posts findings as signed JSON. Build it with NewWebhook.
type Webhook struct {
	name        string
	url         string
	secret      []byte
	maxAttempts int
	timeout     time.Duration
	client      *http.Client

	// Test hooks: the clock, and how a retry waits.
	now  func() time.Time
	wait func(ctx context.Context, d time.Duration) error
}

var _ Sink = (*Webhook)(nil)

// NewWebhook validates c and returns a webhook sink named name.
func NewWebhook(name string, c WebhookConfig) (*Webhook, error) {
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	w := &Webhook{
		name: name, url: c.URL, secret: []byte(c.Secret),
		maxAttempts: c.MaxAttempts, timeout: c.Timeout,
		now: time.Now, wait: sleepCtx,
	}
	w.setClient(&http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()})
	return w, nil
}

// setClient uses a copy of c that never follows redirects: a signed body
// goes only where it was configured to go.
func (w *Webhook) setClient(c *http.Client) {
	cp := *c
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	w.client = &cp
}

// Name implements Sink.
func (w *Webhook) Name() string { return w.name }

// Send implements Sink: it posts f, retrying transient failures, until it
// succeeds, fails permanently, runs out of attempts or ctx ends.
func (w *Webhook) Send(ctx context.Context, f detect.Finding) error {
	body, err := w.payload(f)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w.name, err)
	}
	for attempt := 1; ; attempt++ {
		retry, after, err := w.attempt(ctx, body)
		if err == nil {
			return nil
		}
		if !retry {
			return fmt.Errorf("webhook %s: attempt %d: %w", w.name, attempt, err)
		}
		if attempt >= w.maxAttempts {
			return fmt.Errorf("webhook %s: giving up after %d attempts: %w", w.name, attempt, err)
		}
		if werr := w.wait(ctx, retryDelay(attempt, after)); werr != nil {
			return fmt.Errorf("webhook %s: stopped after %d attempts (%v): %w", w.name, attempt, werr, err)
		}
	}
}

func (w *Webhook) payload(f detect.Finding) ([]byte, error) {
	if f.Evidence == nil {
		f.Evidence = []string{}
	}
	return json.Marshal(Payload{
		Version: PayloadVersion, Type: PayloadType, Delivery: randomID(),
		SentAt: w.now().UTC(), Finding: f,
	})
}

// attempt makes one POST. It reports whether a failure may be retried and
// the server's Retry-After (negative when absent).
func (w *Webhook) attempt(ctx context.Context, body []byte) (bool, time.Duration, error) {
	actx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return false, -1, errors.New("cannot build request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kinko")
	hooksig.SignRequest(req, w.secret, body, w.now())
	resp, err := w.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, -1, ctx.Err()
		}
		if actx.Err() != nil {
			return true, -1, fmt.Errorf("no response within %s", w.timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry a token in its query; keep it out of logs
		}
		return true, -1, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 128))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, -1, nil
	}
	serr := &statusError{code: resp.StatusCode, body: truncate(clean(string(snippet)), 128)}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return true, parseRetryAfter(resp.Header.Get("Retry-After"), w.now()), serr
	}
	return false, -1, serr
}

// statusError is a non-2xx answer.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string {
	if e.body == "" {
		return fmt.Sprintf("status %d", e.code)
	}
	return fmt.Sprintf("status %d: %s", e.code, e.body)
}

// parseRetryAfter reads delay-seconds or an HTTP date; -1 when absent or
// malformed.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return -1
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return -1
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return -1
	}
	return max(0, t.Sub(now))
}

// retryDelay is how long to wait after the given failed attempt: the
// server's Retry-After when it sent one (capped), otherwise exponential
// backoff with jitter.
func retryDelay(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter >= 0 {
		return min(retryAfter, maxRetryAfter)
	}
	d := maxDelay
	if attempt < 16 {
		d = min(baseDelay<<(attempt-1), maxDelay)
	}
	half := d / 2
	return half + time.Duration(randUint64()%uint64(half+1))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func randUint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
