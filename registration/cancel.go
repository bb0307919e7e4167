package registration

import "fmt"

// AutoCancellation is an automatic cancellation (自动注销) due for a registration
// whose effective valid-until has passed without an approved renewal.
type AutoCancellation struct {
	Number     string `json:"number"`    // registration number
	IDNumber   string `json:"id_number"` // holder; mask it (MaskID) before logging
	ValidUntil Date   `json:"valid_until"`
	// EffectiveValidUntil is ValidUntil after policy extensions.
	EffectiveValidUntil Date `json:"effective_valid_until"`
	// CancelOn is the day after EffectiveValidUntil: the cancellation date to record.
	CancelOn Date   `json:"cancel_on"`
	Reason   string `json:"reason"`
}

// ReasonExpired is the start of the reason text of an automatic cancellation.
const ReasonExpired = "注册有效期届满未办理延续注册，自动注销"

// DueForCancellation lists the active registrations whose effective
// valid-until (after extensions) is before today: each is cancelled as of the
// day after its effective valid-until. Registrations already cancelled, or
// without any valid-until, are skipped. The order of regs is kept.
func DueForCancellation(regs []Registration, today Date, exts []Extension) []AutoCancellation {
	var out []AutoCancellation
	for _, r := range regs {
		if r.Status == RegistrationCancelled {
			continue
		}
		base := BaseValidUntil(r)
		if base.IsZero() {
			continue
		}
		eff := EffectiveValidUntil(r, exts)
		if !eff.Before(today) {
			continue
		}
		reason := fmt.Sprintf("%s（注册有效期至 %s）", ReasonExpired, eff)
		if eff != base {
			reason = fmt.Sprintf("%s（注册有效期至 %s，原有效期至 %s，已按政策延期）", ReasonExpired, eff, base)
		}
		out = append(out, AutoCancellation{
			Number: r.Number, IDNumber: r.IDNumber, ValidUntil: base, EffectiveValidUntil: eff,
			CancelOn: eff.AddDays(1), Reason: reason,
		})
	}
	return out
}

// Apply marks reg as cancelled according to c (status, date, reason).
func (c AutoCancellation) Apply(reg *Registration) {
	reg.Status = RegistrationCancelled
	reg.CancelledOn = c.CancelOn
	reg.CancelReason = c.Reason
}
