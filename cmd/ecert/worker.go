package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/issuance/queue"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/storage/cache"
)

func init() {
	var concurrency int
	var expireEvery time.Duration
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Issue certificates for queued approvals (Redis Streams consumer group; run as many as you like)",
		Long: `Consumes the issue queue: each job is an approved case that becomes a signed
certificate (OFD and PDF). Several worker processes share the work through one
Redis Streams consumer group; a job held by a worker that died is reclaimed by
another, and a job that keeps failing is dead-lettered with its reason.
Without --redis-addrs the queue is in-process, which only makes sense inside
` + "`ecert issue`" + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(backends.RedisAddrs) == 0 {
				return errors.New("worker needs a shared queue: set --redis-addrs (or ECERT_REDIS_ADDRS)")
			}
			queueConsumers = concurrency // sizes the Redis pool (0: the store's default)
			a, err := openApp(cmd.Context(), cmd)
			if err != nil {
				return err
			}
			defer a.Close()
			n, err := issueWorkers("--concurrency", concurrency, a)
			if err != nil {
				return err
			}
			slog.Info("worker started", "concurrency", n)
			if expireEvery > 0 {
				go runExpiryEvery(cmd.Context(), a, expireEvery)
			}
			err = runWorkers(cmd.Context(), a.queue, a.svc, n, nil)
			slog.Info("worker stopped")
			return err
		},
	}
	cmd.Flags().IntVar(&concurrency, "concurrency", 0, "jobs handled at once by this process"+workersHelp)
	cmd.Flags().DurationVar(&expireEvery, "expire-every", time.Hour, "run automatic cancellation this often (one worker at a time, via a lock in Redis); 0 disables")
	rootCmd.AddCommand(cmd)
}

// runExpiryEvery runs the automatic-cancellation job periodically; a lock in
// the cache keeps several workers from running it at the same moment.
func runExpiryEvery(ctx context.Context, a *app, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		lock, err := cache.TryLock(ctx, a.cache, "expire-lock", every/2)
		if err == nil {
			due, done, err := runExpiry(ctx, a.reg, registration.Today(time.Now()), false, io.Discard)
			if err != nil {
				slog.Warn("automatic cancellation failed", "err", err)
			} else if due > 0 {
				slog.Info("automatic cancellation", "due", due, "cancelled", done)
			}
			_ = lock // held until it expires: one run per interval across workers
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runWorkers consumes q with n consumers until ctx ends; done, if set, is
// called after every handled job with its outcome.
func runWorkers(ctx context.Context, q queue.Queue, svc *issuance.Service, n int, done func(issuance.Result, error)) error {
	if n < 1 {
		return fmt.Errorf("--concurrency: must be at least 1")
	}
	g, ctx := errgroup.WithContext(ctx)
	for i := range n {
		g.Go(func() error {
			err := q.Consume(ctx, consumerName(i), func(jctx context.Context, job queue.Job) error {
				res, err := svc.Issue(jctx, job.CaseID)
				if err != nil {
					slog.Warn("issue failed", "case", job.CaseID, "attempt", job.Attempt, "err", err)
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
