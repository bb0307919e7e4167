package main

import (
	"errors"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/ecert/ecert/issuance"
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
			if len(conf.RedisAddrs) == 0 {
				return errors.New("worker needs a shared queue: set --redis-addrs (or ECERT_REDIS_ADDRS)")
			}
			c := conf
			c.QueueConsumers = concurrency // sizes the Redis pool (0: the store's default)
			a, err := openApp(cmd.Context(), c)
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
				go issuance.RunExpiryEvery(cmd.Context(), a.Cache, a.Registry, a.Policy, expireEvery, slog.Default())
			}
			err = issuance.RunWorkers(cmd.Context(), a.Queue, a.Service, n, slog.Default(), nil)
			slog.Info("worker stopped")
			return err
		},
	}
	cmd.Flags().IntVar(&concurrency, "concurrency", 0, "jobs handled at once by this process"+workersHelp)
	cmd.Flags().DurationVar(&expireEvery, "expire-every", time.Hour, "run automatic cancellation this often (one worker at a time, via a lock in Redis); 0 disables")
	rootCmd.AddCommand(cmd)
}
