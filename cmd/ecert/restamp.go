package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
)

func init() {
	var holder, certNo, format, purpose, out string
	cmd := &cobra.Command{
		Use:   "restamp",
		Short: "Press 加注: get a usage copy of a holder's certificate with a fresh usage validity (使用有效期)",
		Long: `Returns a signed usage copy of the holder's current certificate, valid for
--copy-validity (180 days) from now but never past the registration itself.
Presses for the same certificate, format and purpose on the same day (China
time) return the same copy; nothing is re-signed. Another purpose or a later
day makes a new copy; earlier copies stay valid until their own end.
Refused, with the reason, when the registration is expired or cancelled, the
certificate was superseded or revoked, or its public notice has not ended.

Exit status: 0 a copy was written; 4 refused; 1 error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openApp(cmd.Context(), conf)
			if err != nil {
				return err
			}
			defer a.Close()
			if err := waitAtStartBarrier(); err != nil {
				return err
			}
			c, err := a.Service.Restamp(cmd.Context(), issuance.RestampRequest{Holder: holder, CertificateNo: certNo, Format: format, Purpose: purpose, Actor: "cli"})
			var ref *issuance.Refusal
			if errors.As(err, &ref) {
				fmt.Fprintf(cmd.OutOrStdout(), "✘ [%s] %s\n", ref.Code, ref.Message)
				return &exitError{code: exitRefused}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "usage copy %s (%s): 使用有效期 %s 至 %s, %s\n", c.CopyID, c.Source,
				registration.Today(c.ValidFrom), registration.Today(c.ValidUntil.Add(-time.Nanosecond)), c.ObjectKey)
			if out == "" {
				return nil
			}
			rc, _, err := a.Service.Open(cmd.Context(), c.ObjectKey, c.SHA256)
			if err != nil {
				return err
			}
			defer rc.Close()
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, rc); err != nil {
				f.Close()
				os.Remove(out)
				return fmt.Errorf("write %s: %w", out, err)
			}
			return f.Close()
		},
	}
	f := cmd.Flags()
	f.StringVar(&holder, "holder", "", "holder's resident ID number (the portal's authenticated applicant)")
	f.StringVar(&certNo, "certificate", "", "certificate number")
	f.StringVar(&format, "format", "pdf", "ofd or pdf")
	f.StringVar(&purpose, "purpose", "", "用途 printed on the copy (optional, ≤ 40 characters)")
	f.StringVarP(&out, "out", "o", "", "write the copy to this file")
	_ = cmd.MarkFlagRequired("holder")
	_ = cmd.MarkFlagRequired("certificate")
	rootCmd.AddCommand(cmd)
}
