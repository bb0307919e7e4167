package issuance

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Metrics are the Prometheus instruments of issuance and re-stamping.
type Metrics struct {
	issued       *prometheus.CounterVec
	issueSeconds prometheus.Histogram
	restamps     *prometheus.CounterVec
	cacheDown    prometheus.Counter
}

// NewMetrics creates the instruments and registers them with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ecert_issue_total", Help: "Issue attempts by outcome (issued, already_issued, invalidated, refused, failed, permanent_failure).",
		}, []string{"outcome"}),
		issueSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ecert_issue_duration_seconds", Help: "Time to render, sign, store and record one certificate (both formats).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		restamps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ecert_restamp_total", Help: "Re-stamp (加注) presses by result (cache_hit, registry_hit, created, refused, failed).",
		}, []string{"result"}),
		cacheDown: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ecert_restamp_cache_unavailable_total", Help: "Re-stamps that found the cache unavailable and fell back to the registry.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.issued, m.issueSeconds, m.restamps, m.cacheDown)
	}
	return m
}

func (m *Metrics) observeIssue(o Outcome, err error, d time.Duration) {
	var ref *Refusal
	switch {
	case errors.As(err, &ref):
		m.issued.WithLabelValues("refused").Inc()
	case errors.Is(err, ErrPermanent):
		m.issued.WithLabelValues("permanent_failure").Inc()
	case err != nil:
		m.issued.WithLabelValues("failed").Inc()
	default:
		m.issued.WithLabelValues(string(o)).Inc()
		if o == Issued {
			m.issueSeconds.Observe(d.Seconds())
		}
	}
}

// Issues returns the count of Issue calls with an outcome label.
func (m *Metrics) Issues(outcome string) float64 {
	return counterValue(m.issued.WithLabelValues(outcome))
}

// CacheUnavailable returns how many re-stamps fell back because the cache was down.
func (m *Metrics) CacheUnavailable() float64 { return counterValue(m.cacheDown) }

// Restamps returns the count of re-stamps with a result.
func (m *Metrics) Restamps(result string) float64 {
	return counterValue(m.restamps.WithLabelValues(result))
}

func counterValue(c prometheus.Counter) float64 {
	var pb dto.Metric
	if err := c.Write(&pb); err != nil {
		return 0
	}
	return pb.GetCounter().GetValue()
}
