// Command awsload is a load generator for kinko's AWS Secrets Manager
// front end: c goroutines call GetSecretValue through the official
// aws-sdk-go-v2 client (so every request is SigV4-signed by the client and
// verified by the server) for a fixed time, then it prints the request
// count, errors, requests per second and latency percentiles.
//
// It is a benchmark tool, not part of the server. It only reads secrets,
// except in -setup-token mode, which prepares a server (mount, policy,
// token, access key, secret) through the Vault-style API first. The
// access key's secret is never printed.
//
// The exit status is 1 when any request failed (warm-up included), 2 on
// bad flags or a failed setup.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
)

const usage = `awsload: load run of GetSecretValue against kinko's AWS Secrets Manager API.

Usage:
  awsload [flags]

Either give an existing access key (-access-key/-secret-key, or the
environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) of a token
that may read aws-sm/secrets/<name>, or let awsload prepare the server with
-setup-token, a token allowed to mount, write policies and create tokens
(the root token of a dev server). Setup, through the Vault-style API:
  1. mounts the aws-sm engine at aws-sm/ unless it is mounted,
  2. writes the policy "awsload": read on aws-sm/secrets/*, update on
     sys/aws/access-keys,
  3. creates a token with that policy and, as that token, an access key
     (POST sys/aws/access-keys); the key's secret stays in memory,
  4. writes the secret -secret with value -value (CreateSecret, or
     PutSecretValue when it exists).

Examples:
  kinko server -dev -dev-root-token-id=root &
  awsload -setup-token=root -c 64 -d 20s
  AWS_ACCESS_KEY_ID=KNKO... AWS_SECRET_ACCESS_KEY=... awsload -secret prod/db -c 16

Output: requests and errors counted after the warm-up, req/s over the
measured wall time, latency p50/p90/p99/max, and CPU seconds used by this
process and (with -server-pid, Linux only) by the server, per request.
The last line, "result ...", holds the same figures for scripts.

Flags:
`

type options struct {
	addr, accessKey, secretKey, region, secret, value string
	setupToken, caCert                                string
	concurrency, serverPID                            int
	duration, warmup, timeout                         time.Duration
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("awsload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	fs.StringVar(&o.addr, "addr", "http://127.0.0.1:8200", "kinko listener URL, used as the SDK's BaseEndpoint")
	fs.StringVar(&o.accessKey, "access-key", "", "access key ID (KNKO...); default $AWS_ACCESS_KEY_ID")
	fs.StringVar(&o.secretKey, "secret-key", "", "secret access key; default $AWS_SECRET_ACCESS_KEY (prefer the variable: flags are visible to other users)")
	fs.StringVar(&o.region, "region", "us-east-1", "region to sign for (kinko accepts any)")
	fs.StringVar(&o.secret, "secret", "bench/db", "name of the secret to read")
	fs.StringVar(&o.value, "value", `{"username":"app","password":"correct horse battery staple"}`, "SecretString written by -setup-token")
	fs.StringVar(&o.setupToken, "setup-token", "", "prepare the server with this token first (see above)")
	fs.StringVar(&o.caCert, "ca-cert", "", "PEM file of the CA of an https server")
	fs.IntVar(&o.concurrency, "c", 64, "concurrent clients (goroutines; idle connections per host)")
	fs.IntVar(&o.serverPID, "server-pid", 0, "PID of the server, to report its CPU time per request (Linux /proc)")
	fs.DurationVar(&o.duration, "d", 20*time.Second, "measured duration")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up before measuring (requests not counted; failures still are)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "timeout of one request")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	// Read after parsing, so -help never prints the secret as a default.
	if o.accessKey == "" {
		o.accessKey = os.Getenv("AWS_ACCESS_KEY_ID")
	}
	if o.secretKey == "" {
		o.secretKey = os.Getenv("AWS_SECRET_ACCESS_KEY")
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	case o.concurrency < 1:
		return nil, errors.New("-c must be at least 1")
	case o.duration <= 0 || o.warmup < 0 || o.timeout <= 0:
		return nil, errors.New("-d and -timeout must be positive, -warmup not negative")
	case o.secret == "":
		return nil, errors.New("-secret is empty")
	case o.setupToken == "" && (o.accessKey == "" || o.secretKey == ""):
		return nil, errors.New("need -access-key and -secret-key (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or -setup-token")
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "awsload:", err)
		os.Exit(2)
	}
	hc, err := httpClient(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "awsload:", err)
		os.Exit(2)
	}
	if o.setupToken != "" {
		o.accessKey, o.secretKey, err = setup(context.Background(), hc, o)
		if err != nil {
			fmt.Fprintln(os.Stderr, "awsload: setup:", err)
			os.Exit(2)
		}
		fmt.Printf("setup: aws-sm/ mounted, secret %q written, access key %s (policy awsload)\n", o.secret, o.accessKey)
	}
	res := run(o, newClient(o, hc))
	res.print(os.Stdout, o)
	if res.errors+res.warmupErrors > 0 {
		os.Exit(1)
	}
}

// httpClient keeps one connection per client goroutine, so the run
// measures requests, not connection set-up: at most c connections (a
// goroutine whose connection is still being returned to the pool waits
// for it instead of dialling a new one that the pool would then drop).
func httpClient(o *options) (*http.Client, error) {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        o.concurrency,
		MaxIdleConnsPerHost: o.concurrency,
		MaxConnsPerHost:     o.concurrency,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	if o.caCert != "" {
		pem, err := os.ReadFile(o.caCert)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate", o.caCert)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: o.timeout}, nil
}

// newClient builds the SDK client without reading shared config files or
// the environment (beyond what the flags took), and without retries: a
// failed request counts as failed.
func newClient(o *options, hc *http.Client) *sm.Client {
	return sm.New(sm.Options{
		Region:       o.region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(o.accessKey, o.secretKey, "")),
		BaseEndpoint: aws.String(o.addr),
		HTTPClient:   hc,
		Retryer:      aws.NopRetryer{},
	})
}

// worker is what one goroutine measured.
type worker struct {
	lat          []time.Duration // measured requests only
	errors       int64
	warmupErrors int64
}

// errLog keeps the first few distinct error messages (SDK errors carry
// the AWS code and message, never the secret value).
type errLog struct {
	mu   sync.Mutex
	seen map[string]int
}

func (l *errLog) add(err error) {
	msg := err.Error() // varies per request (request ID, ports): keyed by AWS code when there is one
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		msg = ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.seen[msg]; ok || len(l.seen) < 5 {
		l.seen[msg]++
	}
}

var errNoValue = errors.New("GetSecretValue answered without SecretString or SecretBinary")

func run(o *options, client *sm.Client) *result {
	start := time.Now()
	measureFrom := start.Add(o.warmup)
	end := measureFrom.Add(o.duration)
	cpu0 := make(chan cpuSample, 1)
	time.AfterFunc(o.warmup, func() { cpu0 <- sampleCPU(o.serverPID) })
	errs := &errLog{seen: map[string]int{}}
	workers := make([]*worker, o.concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{lat: make([]time.Duration, 0, 1<<14)}
		workers[i] = w
		wg.Go(func() { w.loop(client, o, measureFrom, end, errs) })
	}
	wg.Wait()
	elapsed := time.Since(measureFrom)
	before := <-cpu0
	return summarize(workers, elapsed, sampleCPU(o.serverPID).sub(before), errs.seen)
}

func (w *worker) loop(client *sm.Client, o *options, measureFrom, end time.Time, errs *errLog) {
	in := &sm.GetSecretValueInput{SecretId: aws.String(o.secret)}
	ctx := context.Background()
	for {
		t0 := time.Now()
		if !t0.Before(end) {
			return
		}
		out, err := client.GetSecretValue(ctx, in)
		d := time.Since(t0)
		if err == nil && out.SecretString == nil && out.SecretBinary == nil {
			err = errNoValue
		}
		if err != nil {
			errs.add(err)
		}
		if t0.Before(measureFrom) {
			if err != nil {
				w.warmupErrors++
			}
			continue
		}
		w.lat = append(w.lat, d)
		if err != nil {
			w.errors++
		}
	}
}

func (r *result) print(out io.Writer, o *options) {
	fmt.Fprintf(out, "GetSecretValue %q at %s: c=%d, %s measured after %s warm-up, client GOMAXPROCS=%d\n",
		o.secret, o.addr, o.concurrency, o.duration, o.warmup, runtime.GOMAXPROCS(0))
	fmt.Fprintf(out, "requests  %d\nerrors    %d (warm-up: %d)\nreq/s     %.0f\n", r.requests, r.errors, r.warmupErrors, r.rps)
	fmt.Fprintf(out, "latency   p50 %s  p90 %s  p99 %s  max %s\n", ms(r.p50), ms(r.p90), ms(r.p99), ms(r.max))
	if r.cpu.ok {
		line := fmt.Sprintf("cpu       client %.1fs (%.1f µs/req)", r.cpu.self.Seconds(), perReq(r.cpu.self, r.requests))
		if r.cpu.server > 0 || o.serverPID != 0 {
			line += fmt.Sprintf(", server %.1fs (%.1f µs/req)", r.cpu.server.Seconds(), perReq(r.cpu.server, r.requests))
		}
		fmt.Fprintln(out, line)
	}
	for msg, n := range r.errorSamples {
		fmt.Fprintf(out, "error x%d: %s\n", n, msg)
	}
	fmt.Fprintf(out, "result c=%d requests=%d errors=%d req/s=%.0f p50=%s p90=%s p99=%s max=%s",
		o.concurrency, r.requests, r.errors+r.warmupErrors, r.rps, ms(r.p50), ms(r.p90), ms(r.p99), ms(r.max))
	if r.cpu.ok && o.serverPID != 0 {
		fmt.Fprintf(out, " server_us/req=%.1f client_us/req=%.1f", perReq(r.cpu.server, r.requests), perReq(r.cpu.self, r.requests))
	}
	fmt.Fprintln(out)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func perReq(d time.Duration, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(d) / float64(time.Microsecond) / float64(n)
}
