package pki

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

var _ logical.GaugeReporter = (*backend)(nil)

// expiryWindows are the windows kinko_pki_certificates_expiring reports.
var expiryWindows = []int{7, 30}

// gaugeTTL is how long counted figures are reused: counting reads every
// stored certificate, so a scrape does it at most once a minute.
const gaugeTTL = time.Minute

// gaugeCache holds the last counts.
type gaugeCache struct {
	mu     sync.Mutex
	at     time.Time
	counts []int // by expiryWindows; nil when counting failed
}

// Gauges implements logical.GaugeReporter: the stored, unrevoked
// certificates that expire within 7 and 30 days.
func (b *backend) Gauges() []logical.Gauge {
	g := &b.gauges
	g.mu.Lock()
	defer g.mu.Unlock()
	if now := b.now(); g.at.IsZero() || now.Sub(g.at) >= gaugeTTL {
		g.at, g.counts = now, b.countExpiring()
	}
	if g.counts == nil {
		return nil
	}
	out := make([]logical.Gauge, len(expiryWindows))
	for i, days := range expiryWindows {
		out[i] = logical.Gauge{Name: "kinko_pki_certificates_expiring",
			Help:   "Stored, unrevoked certificates of a PKI mount that expire within the given number of days.",
			Labels: map[string]string{"days": strconv.Itoa(days)}, Value: float64(g.counts[i])}
	}
	return out
}

func (b *backend) countExpiring() []int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts := make([]int, len(expiryWindows))
	for i, days := range expiryWindows {
		n, err := b.ExpiringWithin(ctx, time.Duration(days)*24*time.Hour)
		if err != nil {
			return nil
		}
		counts[i] = n
	}
	return counts
}
