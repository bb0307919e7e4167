package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the HTTP layer's instruments. Routes are labelled by their
// template, so the label set is bounded by the routes that exist.
type metrics struct {
	reg            *prometheus.Registry
	requests       *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	verifyFailures *prometheus.CounterVec
	verifications  *prometheus.CounterVec
	rateLimited    prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ecert_http_requests_total", Help: "HTTP requests by method, route template and status code.",
		}, []string{"method", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ecert_http_request_duration_seconds", Help: "HTTP request latency by method and route template.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"method", "route"}),
		verifyFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ecert_verify_failures_total", Help: "Failed checks of uploaded documents by check name (signature, chain, integrity, status, …).",
		}, []string{"check"}),
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ecert_verify_total", Help: "Uploaded documents verified, by verdict.",
		}, []string{"verdict"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ecert_http_rate_limited_total", Help: "Public requests refused by the per-client rate limit.",
		}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.verifyFailures, m.verifications, m.rateLimited)
	return m
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(d.Seconds())
}

// handler serves the API's metrics and the core's (extra, may be nil).
func (m *metrics) handler(extra prometheus.Gatherer) http.Handler {
	g := prometheus.Gatherers{m.reg}
	if extra != nil {
		g = append(g, extra)
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
