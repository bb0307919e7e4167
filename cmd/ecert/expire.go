package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/storage/registry"
)

func init() {
	var on string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "expire",
		Short: "Cancel registrations whose (extended) validity has passed without renewal (automatic 注销)",
		Long: `Rule 2: a registration whose effective valid-until (after policy extensions)
has passed without an approved renewal is cancelled the next day. Run it daily
(cron, a Kubernetes CronJob, or the scheduler in ` + "`ecert serve`" + `). Idempotent.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			today := registration.Today(time.Now())
			if on != "" {
				d, err := registration.ParseDate(on)
				if err != nil {
					return fmt.Errorf("--on: %w", err)
				}
				today = d
			}
			reg, err := openRegistry(cmd.Context())
			if err != nil {
				return err
			}
			defer reg.Close()
			due, done, err := runExpiry(cmd.Context(), reg, today, dryRun, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d registrations due for automatic cancellation, %d cancelled\n", today, due, done)
			return nil
		},
	}
	cmd.Flags().StringVar(&on, "on", "", "treat this date (YYYY-MM-DD) as today")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list, change nothing")
	rootCmd.AddCommand(cmd)
}

// runExpiry runs automatic cancellation on today and prints what a dry run
// would do; it returns how many registrations were due and how many it
// cancelled.
func runExpiry(ctx context.Context, reg *registry.Registry, today registration.Date, dryRun bool, out io.Writer) (due, done int, err error) {
	p, err := conf.Policy()
	if err != nil {
		return 0, 0, err
	}
	list, done, err := issuance.Expire(ctx, reg, p, today, dryRun, slog.Default())
	if dryRun {
		for _, c := range list {
			fmt.Fprintf(out, "would cancel %s as of %s (valid until %s)\n", c.Number, c.CancelOn, c.EffectiveValidUntil)
		}
	}
	return len(list), done, err
}
