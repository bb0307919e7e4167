package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/verify"
	"github.com/emmansun/gmsm/smx509"
)

func init() {
	var asJSON bool
	var trust string
	cmd := &cobra.Command{
		Use:   "verify FILE",
		Short: "Verify a signed certificate (PDF or OFD); exit 0 only if every check passes",
		Long: "Verify a signed certificate file (PDF or OFD) and report each check by name: format, signature,\n" +
			"seal (OFD), chain, signing-time, integrity and, for a usage copy, usage-validity.\n" +
			"Exit status: 0 all checks pass, 1 a check failed, 2 the file or trust root could not be read.\n" +
			"Trusted root: --trust ROOT.pem, else <key-dir>/root.pem, else the development CA's root.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			roots, src, err := trustRoots(trust)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			data, err := readLimited(args[0], 64<<20)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			rep := verify.File(data, verify.Options{Roots: roots})
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				printReport(out, args[0], src, rep)
			}
			if !rep.OK {
				return &exitError{code: 1, err: errors.New("")}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().StringVar(&trust, "trust", "", "PEM file of trusted root certificates")
	rootCmd.AddCommand(cmd)
}

func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return b, nil
}

func trustRoots(trust string) ([]*smx509.Certificate, string, error) {
	candidates := []string{trust}
	if trust == "" {
		candidates = []string{filepath.Join(keyDir(), "root.pem"), filepath.Join(devKeyDir(), "root.pem")}
	}
	for _, p := range candidates {
		b, err := os.ReadFile(p)
		if err != nil {
			if trust == "" && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, "", fmt.Errorf("trusted root: %w", err)
		}
		certs, err := signing.ReadCertificatesPEM(b)
		if err != nil {
			return nil, "", fmt.Errorf("trusted root %s: %w", p, err)
		}
		return certs, p, nil
	}
	return nil, "", errors.New("no trusted root: pass --trust ROOT.pem or run `ecert keys init`")
}

func printReport(w io.Writer, file, trustSrc string, r *verify.Report) {
	fmt.Fprintf(w, "%s (%s), trusted root from %s\n", file, r.Format, trustSrc)
	if r.Signer != "" {
		fmt.Fprintf(w, "  signer: %s (serial %s)\n", r.Signer, r.SignerSN)
	}
	if r.SigningTime != nil {
		fmt.Fprintf(w, "  signed: %s\n", r.SigningTime.Format(time.RFC3339))
	}
	if r.UsageValidFrom != "" || r.UsageValidUntil != "" {
		fmt.Fprintf(w, "  usage copy valid: %s to %s\n", r.UsageValidFrom, r.UsageValidUntil)
	}
	for _, c := range r.Checks {
		mark := "PASS"
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %-15s %s\n", mark, c.Name, c.Reason)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
	if r.OK {
		fmt.Fprintln(w, "VALID: all checks passed")
	} else {
		fmt.Fprintln(w, "INVALID: at least one check failed")
	}
}
