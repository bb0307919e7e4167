package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/ecert/ecert/registration"
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
			p, err := global.policy()
			if err != nil {
				return err
			}
			reg, err := openRegistry(cmd.Context())
			if err != nil {
				return err
			}
			defer reg.Close()
			cands, err := reg.ActiveExpiredBefore(cmd.Context(), today)
			if err != nil {
				return err
			}
			due := registration.DueForCancellation(cands, today, p.Extensions)
			done := 0
			for _, c := range due {
				if dryRun {
					fmt.Fprintf(cmd.OutOrStdout(), "would cancel %s as of %s (valid until %s)\n", c.Number, c.CancelOn, c.EffectiveValidUntil)
					continue
				}
				changed, err := reg.CancelRegistration(cmd.Context(), c.Number, c.Reason, c.CancelOn, "scheduler")
				if err != nil {
					return err
				}
				if changed {
					done++
					slog.Info("registration cancelled automatically", "registration", c.Number, "valid_until", c.EffectiveValidUntil.String())
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d registrations due for automatic cancellation, %d cancelled\n", today, len(due), done)
			return nil
		},
	}
	cmd.Flags().StringVar(&on, "on", "", "treat this date (YYYY-MM-DD) as today")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list, change nothing")
	rootCmd.AddCommand(cmd)
}
