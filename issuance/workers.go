package issuance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"golang.org/x/sync/errgroup"

	"github.com/ecert/ecert/issuance/queue"
)

// Issuer is what a worker runs for each queued case.
type Issuer interface {
	Issue(ctx context.Context, caseID string) (Result, error)
}

// ConsumerName is unique per process and worker goroutine.
func ConsumerName(i int) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%d", host, os.Getpid(), i)
}

// RunWorkers consumes q with n consumers, issuing each queued case, until
// ctx ends or the queue is closed; done, if set, is called after every
// handled job with its outcome. A job whose case fails is returned to the
// queue (or dead-lettered when the failure is permanent) by the queue.
func RunWorkers(ctx context.Context, q queue.Queue, svc Issuer, n int, log *slog.Logger, done func(Result, error)) error {
	if n < 1 {
		return fmt.Errorf("issuance: %d workers: must be at least 1", n)
	}
	if log == nil {
		log = slog.Default()
	}
	g, ctx := errgroup.WithContext(ctx)
	for i := range n {
		g.Go(func() error {
			err := q.Consume(ctx, ConsumerName(i), func(jctx context.Context, job queue.Job) error {
				res, err := svc.Issue(jctx, job.CaseID)
				var ref *Refusal
				switch {
				case errors.As(err, &ref): // the domain's answer, not a fault
					log.Info("issue refused", "case", job.CaseID, "code", ref.Code, "reason", ref.Message)
				case err != nil:
					log.Warn("issue failed", "case", job.CaseID, "attempt", job.Attempt, "err", err)
				}
				if done != nil {
					done(res, err)
				}
				return err
			})
			if errors.Is(err, queue.ErrClosed) {
				return nil
			}
			return err
		})
	}
	return g.Wait()
}
