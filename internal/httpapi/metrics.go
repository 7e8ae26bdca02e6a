package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics holds the Prometheus collectors of one Handler (own registry, so
// several servers in one test process do not collide).
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	handler  http.Handler
}

func newMetrics(extra ...prometheus.Collector) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kinko_http_requests_total", Help: "HTTP requests by method, path prefix and status code.",
		}, []string{"method", "prefix", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kinko_http_request_duration_seconds", Help: "HTTP request latency by method and path prefix.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "prefix"}),
	}
	reg.MustRegister(m.requests, m.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(extra...)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

// pathPrefix reduces a request path to a low-cardinality label: the first
// segment below /v1/, two for auth/ ("auth/token").
func pathPrefix(p string) string {
	p = strings.TrimPrefix(p, "/v1/")
	first, rest, _ := strings.Cut(p, "/")
	if first == "auth" || first == "sys" {
		second, _, _ := strings.Cut(rest, "/")
		if len(second) > 32 {
			second = second[:32]
		}
		return first + "/" + second
	}
	if len(first) > 64 {
		first = first[:64]
	}
	return first
}

var methodLabels = map[string]string{"GET": "GET", "PUT": "PUT", "POST": "POST", "DELETE": "DELETE", "PATCH": "PATCH", "LIST": "LIST", "HEAD": "HEAD"}

func (m *metrics) observe(method, path string, status int, d time.Duration) {
	ml, ok := methodLabels[method]
	if !ok {
		ml = "OTHER"
	}
	prefix := pathPrefix(path)
	m.requests.WithLabelValues(ml, prefix, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(ml, prefix).Observe(d.Seconds())
}
