package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/ecert/ecert/issuance"
)

func init() {
	var opt issuance.SweepOptions
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Remove what crashes left behind: stored files no registry row refers to, and stale temporary files",
		Long: `A process killed between storing a certificate's (or copy's) files and recording
its registry row leaves those files behind, and a write killed part-way leaves a
temporary file (filesystem store). Neither is ever served. sweep removes the
files under certificates/ and copies/ that no row refers to and that are older
than --grace, and temporary files older than --grace. It needs no signing key.

Files of an issue in flight are young: keep --grace far above the longest
issue (the default is a day). With --grace 0 the sweep also takes files
written a moment ago: use it only when no ecert process is writing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			reg, err := openRegistry(ctx)
			if err != nil {
				return err
			}
			defer reg.Close()
			store, closeStore, err := openStore(ctx)
			if err != nil {
				return err
			}
			defer closeStore()
			opt.NoGrace = cmd.Flags().Changed("grace") && opt.Grace == 0
			opt.Logger = slog.Default()
			rep, err := issuance.Sweep(ctx, reg, store, opt)
			verb, n := "removed", rep.Removed
			if opt.DryRun {
				verb, n = "would remove", rep.Orphans
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d stored files under certificates/ and copies/: %d younger than the grace, %d referenced, %d unreferenced (%s %d, %d bytes); %d stale temporary files removed (%d bytes)\n",
				rep.Listed, rep.Young, rep.Referenced, rep.Orphans, verb, n, rep.RemovedBytes, rep.TempFiles, rep.TempBytes)
			return err
		},
	}
	cmd.Flags().DurationVar(&opt.Grace, "grace", issuance.DefaultSweepGrace, "leave files younger than this alone")
	cmd.Flags().BoolVar(&opt.DryRun, "dry-run", false, "report, remove nothing")
	rootCmd.AddCommand(cmd)
}
