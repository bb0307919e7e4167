package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ecert/ecert/internal/app"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing"
)

func init() {
	var holder string
	var enterprise bool
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "token --holder ID",
		Short: "Mint a development applicant token, signed by the development portal key (embedded defaults only)",
		Long: `Prints a bearer token as the portal would issue it for the applicant with
this ID number, signed with the development portal key under
<data-dir>/dev-portal, for ` + "`ecert serve`" + ` on the embedded defaults.
Refused when production keys or backends are configured: production
tokens come from the portal only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := registration.ParseIDNumber(holder); err != nil {
				return fmt.Errorf("--holder: %w", err)
			}
			prod, err := signing.HasKeys(keyDir())
			if err != nil {
				return err
			}
			if prod || !conf.Embedded() {
				return errors.New("token: refused — production keys or backends are configured; applicants' tokens come from the portal")
			}
			dev, err := app.OpenDevPortal(conf.DataDir)
			if err != nil {
				return err
			}
			t, err := dev.Token(holder, enterprise, ttl)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), t)
			return nil
		},
	}
	cmd.Flags().StringVar(&holder, "holder", "", "the applicant's resident ID number (the token's subject)")
	cmd.Flags().BoolVar(&enterprise, "enterprise", false, "mint an enterprise account's token (the service refuses it)")
	cmd.Flags().DurationVar(&ttl, "ttl", time.Hour, "how long the token is valid")
	_ = cmd.MarkFlagRequired("holder")
	rootCmd.AddCommand(cmd)
}
