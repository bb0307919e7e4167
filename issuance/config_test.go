package issuance_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/issuance"
)

// A copy shorter than a day would expire while presses of the same day
// still return it: refused at configuration.
func TestCopyValidityShorterThanADayRefused(t *testing.T) {
	for _, d := range []time.Duration{time.Hour, 23 * time.Hour} {
		_, err := issuance.New(context.Background(), issuance.Config{CopyValidity: d}, issuance.Deps{})
		if err == nil || !strings.Contains(err.Error(), "shorter than a day") {
			t.Fatalf("CopyValidity %v: %v", d, err)
		}
	}
}
