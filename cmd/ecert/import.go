package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/storage/registry"
)

// importSummary is what `ecert import` reports at the end.
type importSummary struct {
	Lines     int           `json:"lines"`
	Inserted  int           `json:"inserted"`
	Duplicate int           `json:"already_present"`
	Rejected  int           `json:"rejected"`
	Elapsed   time.Duration `json:"-"`
	Rate      float64       `json:"records_per_second"`
}

// rejectedLine is one line of the --rejects file.
type rejectedLine struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

const exitRejected = 3

func init() {
	var batch int
	var rejects string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "import FILE.ndjson|-",
		Short: "Record approved registrations from NDJSON into the registry (idempotent by case id)",
		Long: `Reads approved registrations, one JSON object per line (schema in the README),
and records them in the registry; "-" reads standard input. Bad lines are
reported with their line number and reason (ID numbers masked) and never stop
the good ones; re-running the same file adds nothing.

Exit status: 0 all lines recorded or already present; 3 some lines were
rejected (the rest are recorded); 1 the import could not run.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := openRegistry(cmd.Context())
			if err != nil {
				return err
			}
			defer reg.Close()
			var rej io.Writer = io.Discard
			if rejects != "" {
				f, err := os.Create(rejects)
				if err != nil {
					return fmt.Errorf("--rejects: %w", err)
				}
				defer f.Close()
				rej = f
			}
			in, size, closeIn, err := openInput(args[0], cmd.InOrStdin())
			if err != nil {
				return err
			}
			defer closeIn()
			s, err := runImport(cmd.Context(), reg, in, size, importOptions{batch: batch, progress: !quiet, stderr: cmd.ErrOrStderr(), rejects: rej})
			fmt.Fprintf(cmd.OutOrStdout(), "imported %s: %d lines, %d new, %d already present, %d rejected in %s (%.0f records/s)\n",
				args[0], s.Lines, s.Inserted, s.Duplicate, s.Rejected, s.Elapsed.Round(time.Millisecond), s.Rate)
			if err != nil {
				return err
			}
			if s.Rejected > 0 {
				return &exitError{code: exitRejected, err: fmt.Errorf("%d lines rejected", s.Rejected)}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&batch, "batch", 500, "records per database transaction")
	cmd.Flags().StringVar(&rejects, "rejects", "", "also write rejected lines as NDJSON {line, reason} to this file")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	rootCmd.AddCommand(cmd)
}

type importOptions struct {
	batch    int
	progress bool
	stderr   io.Writer
	rejects  io.Writer
}

// maxShownRejects bounds how many rejected lines are printed; all go to --rejects.
const maxShownRejects = 50

// runImport records the approvals read from r (size bytes, -1 if unknown).
func runImport(ctx context.Context, reg *registry.Registry, r io.Reader, size int64, opt importOptions) (s importSummary, err error) {
	start := time.Now()
	defer func() {
		s.Elapsed = time.Since(start)
		if secs := s.Elapsed.Seconds(); secs > 0 {
			s.Rate = float64(s.Inserted+s.Duplicate) / secs
		}
	}()
	bar := progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(opt.stderr),
		progressbar.OptionSetVisibility(opt.progress),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetDescription("importing"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
	)
	if opt.batch <= 0 {
		opt.batch = 500
	}
	rejEnc := json.NewEncoder(opt.rejects)
	reject := func(line int, reason string) {
		s.Rejected++
		if s.Rejected <= maxShownRejects {
			_ = bar.Clear()
			fmt.Fprintf(opt.stderr, "line %d: %s\n", line, reason)
		} else if s.Rejected == maxShownRejects+1 {
			_ = bar.Clear()
			fmt.Fprintf(opt.stderr, "(more rejected lines are not shown; use --rejects FILE to keep them all)\n")
		}
		_ = rejEnc.Encode(rejectedLine{Line: line, Reason: reason})
	}
	err = issuance.Ingest(ctx, reg, r, issuance.IngestOptions{Batch: opt.batch}, func(l issuance.IngestedLine) error {
		s.Lines++
		_ = bar.Add(l.Bytes)
		switch {
		case l.Outcome == registry.Inserted:
			s.Inserted++
		case l.Outcome == registry.Duplicate:
			s.Duplicate++
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			reject(l.No, l.Err.Error())
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		return s, err
	}
	_ = bar.Finish()
	if err := ctx.Err(); err != nil {
		return s, errors.New("interrupted: records up to the last completed batch are recorded; run again to resume")
	}
	return s, nil
}
