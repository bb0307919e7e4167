package registration

import (
	"strings"
	"testing"
)

func TestDueForCancellation(t *testing.T) {
	reg := func(no, until string, st RegistrationStatus) Registration {
		r := *testReg(until)
		r.Number, r.Status = no, st
		return r
	}
	regs := []Registration{
		reg("A", "2025-06-01", RegistrationActive),    // valid-until yesterday: cancel on 06-02
		reg("B", "2025-06-02", RegistrationActive),    // last valid day today: keep
		reg("C", "2025-05-01", RegistrationCancelled), // already cancelled
		reg("D", "2022-03-11", RegistrationActive),    // not extended, long expired
		reg("E", "2022-06-30", RegistrationActive),    // extended to 2022-07-31
		{Number: "F", Status: RegistrationActive},     // no valid-until at all: skipped
	}
	got := DueForCancellation(regs, MustDate("2025-06-02"), DefaultExtensions())
	var nos []string
	for _, c := range got {
		nos = append(nos, c.Number)
	}
	if strings.Join(nos, ",") != "A,D,E" {
		t.Fatalf("cancelled %v, want A,D,E", nos)
	}
	if got[0].CancelOn != MustDate("2025-06-02") || got[0].Reason != "注册有效期届满未办理延续注册，自动注销（注册有效期至 2025-06-01）" {
		t.Errorf("A: %+v", got[0])
	}
	if got[2].CancelOn != MustDate("2022-08-01") || got[2].EffectiveValidUntil != MustDate("2022-07-31") ||
		!strings.Contains(got[2].Reason, "原有效期至 2022-06-30，已按政策延期") {
		t.Errorf("E: %+v", got[2])
	}

	// Extension boundaries: on 2022-07-31 the extended ones are still active,
	// on 2022-08-01 they are due; 2022-03-11 and 2022-07-01 are never extended.
	boundary := []Registration{
		reg("0311", "2022-03-11", RegistrationActive),
		reg("0312", "2022-03-12", RegistrationActive),
		reg("0630", "2022-06-30", RegistrationActive),
		reg("0701", "2022-07-01", RegistrationActive),
	}
	for _, tc := range []struct{ today, want string }{
		{"2022-03-12", "0311"},
		{"2022-07-01", "0311"},
		{"2022-07-02", "0311,0701"},
		{"2022-07-31", "0311,0701"},
		{"2022-08-01", "0311,0312,0630,0701"},
	} {
		var nos []string
		for _, c := range DueForCancellation(boundary, MustDate(tc.today), DefaultExtensions()) {
			nos = append(nos, c.Number)
		}
		if strings.Join(nos, ",") != tc.want {
			t.Errorf("today %s: cancelled %v, want %s", tc.today, nos, tc.want)
		}
	}

	r := regs[0]
	got[0].Apply(&r)
	if r.Status != RegistrationCancelled || r.CancelledOn != MustDate("2025-06-02") || r.CancelReason == "" {
		t.Errorf("Apply: %+v", r)
	}
	if len(DueForCancellation([]Registration{r}, MustDate("2025-07-01"), nil)) != 0 {
		t.Error("a cancelled registration is cancelled again")
	}
}
