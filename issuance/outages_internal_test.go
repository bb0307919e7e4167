package issuance

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// One outage is one "unavailable" and one "available again", even when a
// case that ran just before the first failure succeeds a moment after it.
func TestOutagesSayOncePerOutage(t *testing.T) {
	var buf bytes.Buffer
	o := newOutages(slog.New(slog.NewTextHandler(&buf, nil)), 30*time.Second)
	err := errors.New("connection reset by peer")
	o.failed(backendRegistry, err)
	o.recovered() // a case whose statements ran before the outage
	o.failed(backendRegistry, err)
	time.Sleep(settleOutage + 50*time.Millisecond)
	o.recovered()
	o.recovered()
	log := buf.String()
	if n := strings.Count(log, "registry unavailable"); n != 1 {
		t.Errorf("%d unavailable lines, want 1:\n%s", n, log)
	}
	if n := strings.Count(log, "registry available again"); n != 1 {
		t.Errorf("%d available-again lines, want 1:\n%s", n, log)
	}
}
