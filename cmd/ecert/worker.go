package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/issuance/queue"
)

func init() {
	var concurrency int
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
			a, err := openApp(cmd.Context(), cmd)
			if err != nil {
				return err
			}
			defer a.Close()
			slog.Info("worker started", "concurrency", concurrency)
			err = runWorkers(cmd.Context(), a.queue, a.svc, concurrency, nil)
			slog.Info("worker stopped")
			return err
		},
	}
	cmd.Flags().IntVar(&concurrency, "concurrency", runtime.GOMAXPROCS(0), "jobs handled at once by this process")
	rootCmd.AddCommand(cmd)
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
