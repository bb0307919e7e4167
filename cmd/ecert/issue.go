package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/ecert/ecert/internal/app"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/issuance"
)

// issueSummary is the final report of a batch.
type issueSummary struct {
	Cases, Issued, Skipped, Invalidated int
	Refused                             map[string]*issuance.Refusal // case id → why its registration is no longer in force
	Failed                              map[string]string            // case id → reason
	Rejected                            int                          // bad input lines
	Elapsed                             time.Duration
	Interrupted                         bool
}

func init() {
	var from string
	var workers int
	var enqueue, quiet bool
	cmd := &cobra.Command{
		Use:   "issue --from FILE.ndjson|-",
		Short: "Issue certificates for a batch of approvals (render, sign, store, record), resumable",
		Long: `Records every approval of the file (idempotent by case id), then issues its
certificate: OFD and PDF rendered, SM2-signed, stored, recorded. Cases that
already have their certificate are skipped, so a re-run after Ctrl-C or a
crash resumes where the batch stopped.

With --enqueue the cases are only put on the shared queue (Redis) for
` + "`ecert worker`" + ` processes.

Cases whose registration has ended by the issue date (expired, or
cancelled) are refused with the reason: a certificate signed today must not
attest a registration that no longer exists.

Exit status: 0 all issued or skipped; 3 some lines were rejected or cases
were refused or failed (listed); 1 the batch could not run; 130 interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return errors.New("--from: required")
			}
			a, err := openApp(cmd.Context(), conf)
			if err != nil {
				return err
			}
			defer a.Close()
			cases, rejected, err := intakeFile(cmd.Context(), a, from, cmd.InOrStdin(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if enqueue {
				if len(conf.RedisAddrs) == 0 {
					return errors.New("--enqueue needs the shared queue: set --redis-addrs")
				}
				for _, c := range cases {
					if err := a.Queue.Enqueue(cmd.Context(), c, nil); err != nil {
						return fmt.Errorf("enqueue %s: %w", c, err)
					}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "enqueued %d cases (%d lines rejected)\n", len(cases), rejected)
				return nil
			}
			n, err := issueWorkers("--workers", workers, a)
			if err != nil {
				return err
			}
			s := issueBatch(cmd.Context(), a.Service, cases, n, !quiet, cmd.ErrOrStderr())
			s.Rejected = rejected
			printIssueSummary(cmd.OutOrStdout(), s, 0)
			switch {
			case s.Interrupted:
				return &exitError{code: 130, err: errors.New("interrupted: run the same command again to resume")}
			case len(s.Failed) > 0 || len(s.Refused) > 0 || s.Rejected > 0:
				return &exitError{code: exitRejected, err: fmt.Errorf("%d cases refused, %d failed, %d lines rejected", len(s.Refused), len(s.Failed), s.Rejected)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "NDJSON file of approved registrations (schema in the README); - for standard input")
	cmd.Flags().IntVar(&workers, "workers", 0, "certificates issued at once"+workersHelp)
	cmd.Flags().BoolVar(&enqueue, "enqueue", false, "only record and enqueue the cases for `ecert worker` processes")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	rootCmd.AddCommand(cmd)
}

// intakeFile records the file's approvals ("-": stdin) and returns the case
// ids of every good line (new or already recorded) in file order.
func intakeFile(ctx context.Context, a *app.App, path string, stdin io.Reader, stderr io.Writer) ([]string, int, error) {
	in, _, closeIn, err := openInput(path, stdin)
	if err != nil {
		return nil, 0, err
	}
	defer closeIn()
	var cases []string
	rejected := 0
	err = issuance.Ingest(ctx, a.Registry, in, issuance.IngestOptions{Batch: 500}, func(l issuance.IngestedLine) error {
		if l.Rejected() {
			rejected++
			if rejected <= maxShownRejects {
				fmt.Fprintf(stderr, "line %d: %v\n", l.No, l.Err)
			}
			return nil
		}
		cases = append(cases, l.CaseID)
		return nil
	})
	if err != nil {
		return nil, rejected, err
	}
	return cases, rejected, ctx.Err()
}

// issueBatch issues cases with n workers. Ctrl-C stops taking new cases; the
// ones under way finish, so nothing is left half-done.
func issueBatch(ctx context.Context, svc *issuance.Service, cases []string, n int, progress bool, stderr io.Writer) issueSummary {
	s := issueSummary{Cases: len(cases), Refused: map[string]*issuance.Refusal{}, Failed: map[string]string{}}
	start := time.Now()
	bar := progressbar.NewOptions(len(cases),
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetVisibility(progress),
		progressbar.OptionSetDescription("issuing"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("cert"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	work := make(chan string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	jobCtx := context.WithoutCancel(ctx) // a started certificate is finished even after Ctrl-C
	for range max(n, 1) {
		wg.Go(func() {
			for c := range work {
				res, err := svc.Issue(jobCtx, c) // retries while a backend is unavailable (--backend-retry)
				mu.Lock()
				var ref *issuance.Refusal
				switch {
				case errors.As(err, &ref):
					s.Refused[c] = ref
				case err != nil:
					s.Failed[c] = err.Error()
				case res.Outcome == issuance.AlreadyIssued:
					s.Skipped++
				case res.Outcome == issuance.Invalidated:
					s.Invalidated++
				default:
					s.Issued++
				}
				mu.Unlock()
				_ = bar.Add(1)
			}
		})
	}
feed:
	for _, c := range cases {
		select {
		case work <- c:
		case <-ctx.Done():
			s.Interrupted = true
			break feed
		}
	}
	close(work)
	wg.Wait()
	_ = bar.Finish()
	s.Elapsed = time.Since(start)
	return s
}

// printIssueSummary reports a batch: the counts, then each refused case
// (at most maxRefused of them; 0: all) and each failed case with its reason.
func printIssueSummary(w io.Writer, s issueSummary, maxRefused int) {
	done := s.Issued + s.Skipped + s.Invalidated + len(s.Refused) + len(s.Failed)
	rate := 0.0
	if secs := s.Elapsed.Seconds(); secs > 0 {
		rate = float64(s.Issued) / secs
	}
	fmt.Fprintf(w, "%d cases: %d issued, %d skipped (already issued), %d invalidated (cancellations), %d refused (registration no longer in force), %d failed, %d lines rejected — %s, %.1f certificates/s\n",
		s.Cases, s.Issued, s.Skipped, s.Invalidated, len(s.Refused), len(s.Failed), s.Rejected, s.Elapsed.Round(time.Millisecond), rate)
	if s.Interrupted {
		fmt.Fprintf(w, "interrupted after %d of %d cases; run the same command again to resume\n", done, s.Cases)
	}
	for i, id := range sortedKeys(s.Refused) {
		if maxRefused > 0 && i == maxRefused {
			fmt.Fprintf(w, "  … and %d more refused\n", len(s.Refused)-maxRefused)
			break
		}
		fmt.Fprintf(w, "  refused %s: ✘ [%s] %s\n", id, s.Refused[id].Code, s.Refused[id].Message)
	}
	for _, id := range sortedKeys(s.Failed) {
		fmt.Fprintf(w, "  failed %s\n", intake.MaskIDNumbers(id+": "+s.Failed[id]))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// issueWorkers resolves a --workers or --concurrency value: 0 means the
// default for the configured store (issuance.DefaultWorkers).
func issueWorkers(flag string, n int, a *app.App) (int, error) {
	switch {
	case n < 0:
		return 0, fmt.Errorf("%s: must be at least 1 (or 0 for the default)", flag)
	case n == 0:
		return issuance.DefaultWorkers(a.Store), nil
	}
	return n, nil
}

// workersHelp describes the default of --workers and --concurrency.
const workersHelp = " (default: 64 per core with local files, at most 512; 4 per core with MinIO)"
