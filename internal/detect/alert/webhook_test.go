package alert

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/detect"
	"github.com/kinko-dev/kinko/internal/hooksig"
)

const testSecret = "0123456789abcdef-test-secret"

var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func testFinding() detect.Finding {
	return detect.Finding{
		ID: "f-1", Rule: "denied_burst", Severity: detect.SeverityHigh,
		Time: testNow.Add(-time.Minute), Summary: "40 denials in 60s",
		Subject:  detect.Subject{Accessor: "acc-1", EntityID: "ent-1", RemoteAddr: "10.0.0.9", Path: "secret/data/app"},
		Evidence: []string{"req-1", "req-2"},
	}
}

// reply is one scripted answer of the test receiver.
type reply struct {
	status int
	header map[string]string
	block  bool // wait until the client gives up
}

type received struct {
	header http.Header
	body   []byte
}

// receiver is a real HTTP server answering with a script (the last reply
// repeats) and recording every request.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	script []reply
	got    []received
}

func newReceiver(t *testing.T, script ...reply) *receiver {
	r := &receiver{script: script}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	n := len(r.got)
	r.got = append(r.got, received{header: req.Header.Clone(), body: body})
	rep := r.script[min(n, len(r.script)-1)]
	r.mu.Unlock()
	if rep.block {
		<-req.Context().Done()
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, "receiver says "+http.StatusText(rep.status))
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// testWebhook builds a webhook sink whose waits are recorded, not slept.
func testWebhook(t *testing.T, url string, attempts int, timeout time.Duration) (*Webhook, *[]time.Duration) {
	t.Helper()
	w, err := NewWebhook("hook", WebhookConfig{URL: url, Secret: testSecret, MaxAttempts: attempts, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	w.now = func() time.Time { return testNow }
	w.wait = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	}
	return w, &waits
}

func TestWebhookDelivery(t *testing.T) {
	retryDate := testNow.Add(42 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		name      string
		script    []reply
		attempts  int
		wantErr   string // "" for success
		wantCalls int
		wantWaits []time.Duration // nil: do not check exact values
		nWaits    int
	}{
		{name: "success", script: []reply{{status: 200}}, attempts: 3, wantCalls: 1},
		{name: "204 is success", script: []reply{{status: 204}}, attempts: 3, wantCalls: 1},
		{name: "retry 500 then success", script: []reply{{status: 500}, {status: 202}}, attempts: 3, wantCalls: 2, nWaits: 1},
		{name: "give up after max attempts", script: []reply{{status: 503}}, attempts: 4,
			wantErr: "giving up after 4 attempts: status 503", wantCalls: 4, nWaits: 3},
		{name: "no retry on 400", script: []reply{{status: 400}}, attempts: 5,
			wantErr: "attempt 1: status 400: receiver says Bad Request", wantCalls: 1},
		{name: "no retry on 401", script: []reply{{status: 401}}, attempts: 5, wantErr: "status 401", wantCalls: 1},
		{name: "redirect not followed", script: []reply{{status: 302, header: map[string]string{"Location": "/elsewhere"}}},
			attempts: 5, wantErr: "status 302", wantCalls: 1},
		{name: "429 Retry-After seconds honoured", script: []reply{{status: 429, header: map[string]string{"Retry-After": "7"}}, {status: 200}},
			attempts: 3, wantCalls: 2, wantWaits: []time.Duration{7 * time.Second}},
		{name: "503 Retry-After date honoured", script: []reply{{status: 503, header: map[string]string{"Retry-After": retryDate}}, {status: 200}},
			attempts: 3, wantCalls: 2, wantWaits: []time.Duration{42 * time.Second}},
		{name: "Retry-After capped", script: []reply{{status: 429, header: map[string]string{"Retry-After": "86400"}}, {status: 200}},
			attempts: 3, wantCalls: 2, wantWaits: []time.Duration{maxRetryAfter}},
		{name: "attempt timeout retried", script: []reply{{block: true}, {status: 200}}, attempts: 3, wantCalls: 2, nWaits: 1},
		{name: "attempt timeouts exhaust attempts", script: []reply{{block: true}}, attempts: 2,
			wantErr: "no response within 50ms", wantCalls: 2, nWaits: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newReceiver(t, tc.script...)
			w, waits := testWebhook(t, rcv.URL+"/hook?token=query-secret", tc.attempts, 50*time.Millisecond)
			err := w.Send(context.Background(), testFinding())
			checkErr(t, err, tc.wantErr)
			if err != nil && (strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), "query-secret")) {
				t.Fatalf("error leaks a secret: %v", err)
			}
			if got := len(rcv.requests()); got != tc.wantCalls {
				t.Fatalf("receiver got %d requests, want %d", got, tc.wantCalls)
			}
			if tc.wantWaits != nil {
				if len(*waits) != len(tc.wantWaits) || (*waits)[0] != tc.wantWaits[0] {
					t.Fatalf("waits = %v, want %v", *waits, tc.wantWaits)
				}
			} else if len(*waits) != tc.nWaits {
				t.Fatalf("waited %d times (%v), want %d", len(*waits), *waits, tc.nWaits)
			}
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	}
}

func TestWebhookRequestShapeAndSignature(t *testing.T) {
	rcv := newReceiver(t, reply{status: 500}, reply{status: 200})
	w, _ := testWebhook(t, rcv.URL, 3, time.Second)
	f := testFinding()
	if err := w.Send(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.requests()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests", len(reqs))
	}
	if string(reqs[0].body) != string(reqs[1].body) {
		t.Fatal("body differs between attempts")
	}
	for _, r := range reqs {
		for k, want := range map[string]string{"Content-Type": "application/json", "User-Agent": "kinko"} {
			if got := r.header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		ts := r.header.Get(TimestampHeader)
		if err := hooksig.VerifySignature([]byte(testSecret), ts, r.body, r.header.Get(SignatureHeader)); err != nil {
			t.Fatalf("signature does not verify: %v", err)
		}
		if err := hooksig.CheckTimestamp(ts, testNow, 5*time.Minute); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(r.body), testSecret) || strings.Contains(r.header.Get(SignatureHeader), testSecret) {
			t.Fatal("secret sent on the wire")
		}
	}
	var p Payload
	if err := json.Unmarshal(reqs[0].body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Version != PayloadVersion || p.Type != PayloadType || len(p.Delivery) != 32 || !p.SentAt.Equal(testNow) {
		t.Fatalf("envelope = %+v", p)
	}
	if p.Finding.ID != f.ID || p.Finding.Subject != f.Subject || strings.Join(p.Finding.Evidence, ",") != "req-1,req-2" ||
		!p.Finding.Time.Equal(f.Time) || p.Finding.Severity != f.Severity {
		t.Fatalf("finding = %+v, want %+v", p.Finding, f)
	}
}

func TestWebhookNilEvidenceIsEmptyList(t *testing.T) {
	rcv := newReceiver(t, reply{status: 200})
	w, _ := testWebhook(t, rcv.URL, 1, time.Second)
	f := testFinding()
	f.Evidence = nil
	if err := w.Send(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	if b := string(rcv.requests()[0].body); !strings.Contains(b, `"evidence":[]`) {
		t.Fatalf("body %s", b)
	}
}

func TestWebhookNetworkErrorRetriedThenGivesUp(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	w, waits := testWebhook(t, url, 3, time.Second)
	err := w.Send(context.Background(), testFinding())
	checkErr(t, err, "giving up after 3 attempts")
	if len(*waits) != 2 {
		t.Fatalf("waits = %v", *waits)
	}
}

func TestWebhookStopsWhenContextEnds(t *testing.T) {
	rcv := newReceiver(t, reply{status: 503})
	w, _ := testWebhook(t, rcv.URL, 10, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	w.wait = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	err := w.Send(ctx, testFinding())
	if !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "stopped after 1 attempts") {
		t.Fatalf("err = %v", err)
	}
	if n := len(rcv.requests()); n != 1 {
		t.Fatalf("%d requests after cancel", n)
	}
}

func TestRetryDelay(t *testing.T) {
	tests := []struct {
		attempt    int
		retryAfter time.Duration
		lo, hi     time.Duration
	}{
		{1, -1, 250 * time.Millisecond, 500 * time.Millisecond},
		{2, -1, 500 * time.Millisecond, time.Second},
		{3, -1, time.Second, 2 * time.Second},
		{8, -1, 15 * time.Second, 30 * time.Second},
		{40, -1, 15 * time.Second, 30 * time.Second},
		{1, 3 * time.Second, 3 * time.Second, 3 * time.Second},
		{1, 0, 0, 0},
		{1, time.Hour, maxRetryAfter, maxRetryAfter},
	}
	for _, tc := range tests {
		for range 50 {
			if d := retryDelay(tc.attempt, tc.retryAfter); d < tc.lo || d > tc.hi {
				t.Fatalf("retryDelay(%d, %v) = %v, want in [%v, %v]", tc.attempt, tc.retryAfter, d, tc.lo, tc.hi)
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := map[string]time.Duration{
		"": -1, "5": 5 * time.Second, "-3": -1, "soon": -1,
		testNow.Add(-time.Hour).Format(http.TimeFormat):  0,
		testNow.Add(time.Minute).Format(http.TimeFormat): time.Minute,
		"99999999999999999999":                           -1,
	}
	for in, want := range tests {
		if got := parseRetryAfter(in, testNow); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestNewWebhookRefusesBadConfig(t *testing.T) {
	for _, c := range []WebhookConfig{
		{URL: "ftp://example.com/", Secret: testSecret},
		{URL: "https://user:pw@example.com/", Secret: testSecret},
		{URL: "https://example.com/", Secret: "short"},
		{URL: "https://example.com/", Secret: testSecret, MaxAttempts: 11},
	} {
		if _, err := NewWebhook("x", c); err == nil {
			t.Errorf("NewWebhook(%+v) accepted", c.URL)
		}
	}
}
