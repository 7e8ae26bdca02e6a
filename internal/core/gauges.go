package core

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinko-dev/kinko/internal/logical"
)

// engineGauges collects the gauges of the mounted backends that report
// some (logical.GaugeReporter), each labelled with its mount. It is an
// unchecked collector: which metrics exist depends on what is mounted.
type engineGauges struct{ c *Core }

// Describe sends nothing: the metrics are not known in advance.
func (engineGauges) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (g engineGauges) Collect(ch chan<- prometheus.Metric) {
	st := g.c.state.Load()
	if st == nil {
		return
	}
	r := st.router.Load()
	if r == nil {
		return
	}
	for prefix, e := range r.byPrefix {
		rep, ok := e.backend.(logical.GaugeReporter)
		if !ok {
			continue
		}
		for _, gauge := range rep.Gauges() {
			if m, err := gaugeMetric(prefix, gauge); err == nil {
				ch <- m
			}
		}
	}
}

// gaugeMetric builds one constant metric, its labels in a fixed order.
func gaugeMetric(mount string, g logical.Gauge) (prometheus.Metric, error) {
	names := make([]string, 0, len(g.Labels)+1)
	for k := range g.Labels {
		if k != "mount" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	values := make([]string, 0, len(names)+1)
	for _, k := range names {
		values = append(values, g.Labels[k])
	}
	names, values = append(names, "mount"), append(values, mount)
	desc := prometheus.NewDesc(g.Name, g.Help, names, nil)
	return prometheus.NewConstMetric(desc, prometheus.GaugeValue, g.Value, values...)
}
