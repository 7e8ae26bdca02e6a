package detect

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// counters are the detector's metrics; the per-rule maps are built once
// and only read afterwards.
type counters struct {
	observed, dropped, processed atomic.Uint64
	tracked                      atomic.Int64
	findings, suppressed         map[string]*atomic.Uint64
}

func newCounters() *counters {
	c := &counters{findings: map[string]*atomic.Uint64{}, suppressed: map[string]*atomic.Uint64{}}
	for _, s := range specs {
		c.findings[s.name] = new(atomic.Uint64)
		c.suppressed[s.name] = new(atomic.Uint64)
	}
	return c
}

// Stats is a snapshot of the detector's counters.
type Stats struct {
	// Observed counts Observe calls; Dropped those refused by a full
	// queue; Processed the events the rules have seen.
	Observed  uint64 `json:"events_observed"`
	Dropped   uint64 `json:"events_dropped"`
	Processed uint64 `json:"events_processed"`
	// QueueLength is the number of events waiting.
	QueueLength int `json:"queue_length"`
	// TrackedIdentities is the number of identity profiles held.
	TrackedIdentities int `json:"tracked_identities"`
	// Findings counts new findings by rule; Suppressed counts triggers
	// that fell in their subject's cooldown.
	Findings   map[string]uint64 `json:"findings"`
	Suppressed map[string]uint64 `json:"suppressed"`
}

// Stats returns the current counters.
func (d *Detector) Stats() Stats {
	c := d.stats
	s := Stats{
		Observed: c.observed.Load(), Dropped: c.dropped.Load(), Processed: c.processed.Load(),
		QueueLength: d.queueLen(), TrackedIdentities: int(c.tracked.Load()),
		Findings: map[string]uint64{}, Suppressed: map[string]uint64{},
	}
	for name, v := range c.findings {
		s.Findings[name] = v.Load()
	}
	for name, v := range c.suppressed {
		s.Suppressed[name] = v.Load()
	}
	return s
}

var (
	descObserved = prometheus.NewDesc("kinko_detect_events_observed_total",
		"Audited requests handed to the detector.", nil, nil)
	descDropped = prometheus.NewDesc("kinko_detect_events_dropped_total",
		"Audited requests dropped because the detector queue was full.", nil, nil)
	descProcessed = prometheus.NewDesc("kinko_detect_events_processed_total",
		"Audited requests the detection rules have seen.", nil, nil)
	descQueue = prometheus.NewDesc("kinko_detect_queue_length",
		"Audited requests waiting for the detector.", nil, nil)
	descTracked = prometheus.NewDesc("kinko_detect_tracked_identities",
		"Identity profiles held in memory.", nil, nil)
	descFindings = prometheus.NewDesc("kinko_detect_findings_total",
		"Findings raised, by rule.", []string{"rule"}, nil)
	descSuppressed = prometheus.NewDesc("kinko_detect_findings_suppressed_total",
		"Rule triggers suppressed by the cooldown of their subject, by rule.", []string{"rule"}, nil)
)

var _ prometheus.Collector = (*Detector)(nil)

// Describe implements prometheus.Collector.
func (d *Detector) Describe(ch chan<- *prometheus.Desc) {
	for _, desc := range []*prometheus.Desc{descObserved, descDropped, descProcessed, descQueue, descTracked, descFindings, descSuppressed} {
		ch <- desc
	}
}

// Collect implements prometheus.Collector.
func (d *Detector) Collect(ch chan<- prometheus.Metric) {
	s := d.Stats()
	ch <- prometheus.MustNewConstMetric(descObserved, prometheus.CounterValue, float64(s.Observed))
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(s.Dropped))
	ch <- prometheus.MustNewConstMetric(descProcessed, prometheus.CounterValue, float64(s.Processed))
	ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(s.QueueLength))
	ch <- prometheus.MustNewConstMetric(descTracked, prometheus.GaugeValue, float64(s.TrackedIdentities))
	for _, name := range RuleNames() {
		ch <- prometheus.MustNewConstMetric(descFindings, prometheus.CounterValue, float64(s.Findings[name]), name)
		ch <- prometheus.MustNewConstMetric(descSuppressed, prometheus.CounterValue, float64(s.Suppressed[name]), name)
	}
}
