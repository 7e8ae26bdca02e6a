package logical

// Gauge is one figure an engine reports for the metrics endpoint
// (/v1/sys/metrics), e.g. the certificates a PKI mount holds that expire
// within 30 days.
type Gauge struct {
	// Name is the metric name, kinko_<engine>_<what> by convention.
	Name string
	// Help describes it; the same for every gauge of one Name.
	Help string
	// Labels qualify it; core adds "mount". Every gauge of one Name must
	// carry the same label names.
	Labels map[string]string
	Value  float64
}

// GaugeReporter is an optional Backend capability: core asks every mounted
// backend that has it for its gauges at each metrics scrape. Gauges must
// be cheap (held in memory, not read from storage) and safe to call
// concurrently with requests.
type GaugeReporter interface {
	Gauges() []Gauge
}
