package issuance

import (
	"context"
	"log/slog"
	"time"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/storage/cache"
)

// ExpiryRegistry is the part of the registry automatic cancellation uses.
type ExpiryRegistry interface {
	ActiveExpiredBefore(ctx context.Context, day registration.Date) ([]registration.Registration, error)
	CancelRegistration(ctx context.Context, number, reason string, on registration.Date, actor string) (bool, error)
}

// Expire is automatic cancellation (rule 2): it cancels the registrations
// whose effective valid-until passed before today (their certificates
// become 04 注销 with them), and returns those due and how many it
// cancelled now (a registration cancelled by a concurrent run is due but
// not counted). With dryRun it only lists them. Idempotent.
func Expire(ctx context.Context, reg ExpiryRegistry, policy registration.Policy, today registration.Date, dryRun bool, log *slog.Logger) (due []registration.AutoCancellation, done int, err error) {
	if log == nil {
		log = slog.Default()
	}
	cands, err := reg.ActiveExpiredBefore(ctx, today)
	if err != nil {
		return nil, 0, err
	}
	due = registration.DueForCancellation(cands, today, policy.Extensions)
	if dryRun {
		return due, 0, nil
	}
	for _, c := range due {
		changed, err := reg.CancelRegistration(ctx, c.Number, c.Reason, c.CancelOn, "scheduler")
		if err != nil {
			return due, done, err
		}
		if changed {
			done++
			log.Info("registration cancelled automatically", "registration", c.Number, "valid_until", c.EffectiveValidUntil.String())
		}
	}
	return due, done, nil
}

// RunExpiryEvery runs Expire every interval until ctx ends. A lock in the
// cache, held for half the interval, keeps the processes that share the
// cache from running it at the same moment.
func RunExpiryEvery(ctx context.Context, c cache.Cache, reg ExpiryRegistry, policy registration.Policy, every time.Duration, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := cache.TryLock(ctx, c, "expire-lock", every/2); err == nil {
			due, done, err := Expire(ctx, reg, policy, registration.Today(time.Now()), false, log)
			if err != nil {
				log.Warn("automatic cancellation failed", "err", err)
			} else if len(due) > 0 {
				log.Info("automatic cancellation", "due", len(due), "cancelled", done)
			}
			// The lock is left to expire: one run per interval across processes.
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
