package httpapi

import (
	"net"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// IPLimiter keeps one token bucket per client address. Idle buckets are
// dropped so the map stays bounded. One limiter serves both APIs of a
// listener (Vault's and AWS's), so a client cannot double its rate.
type IPLimiter struct {
	mu      sync.Mutex
	rate    rate.Limit
	burst   int
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewIPLimiter allows rps requests per second per client address, in
// bursts of burst (2·rps when 0).
func NewIPLimiter(rps float64, burst int) *IPLimiter {
	if burst <= 0 {
		burst = int(rps) * 2
		if burst < 1 {
			burst = 1
		}
	}
	return &IPLimiter{rate: rate.Limit(rps), burst: burst, buckets: map[string]*bucket{}, sweep: time.Now()}
}

// Allow reports whether a request from remote (host:port) may proceed.
func (l *IPLimiter) Allow(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > time.Minute {
				delete(l.buckets, k)
			}
		}
		l.sweep = now
	}
	b, ok := l.buckets[host]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.buckets[host] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}
