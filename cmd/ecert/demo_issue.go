package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ecert/ecert/internal/app"

	"github.com/emmansun/gmsm/smx509"
	"github.com/spf13/cobra"

	"github.com/ecert/ecert/examples"
	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing/verify"
	"github.com/ecert/ecert/storage/registry"
)

// demoIssue issues the example approvals, re-stamps one certificate and verifies the files.
func demoIssue(cmd *cobra.Command) error {
	ctx, out := cmd.Context(), cmd.OutOrStdout()
	a, err := openApp(ctx, conf)
	if err != nil {
		return err
	}
	defer a.Close()
	var cases []string
	sc := intake.NewScanner(bytes.NewReader(examples.Approvals))
	for sc.Scan() {
		if sc.Line().Err == nil {
			cases = append(cases, sc.Line().Approval.CaseID)
		}
	}
	// The shipped examples age; a few approvals dated relative to today keep
	// the re-stamp part of the demo working in any year.
	fresh := demoFresh()
	for _, r := range a.Registry.Intake(ctx, fresh) {
		if r.Err != nil {
			return r.Err
		}
		cases = append(cases, r.CaseID)
	}
	fmt.Fprintf(out, "\n== 4. Issue certificates: render OFD + PDF, SM2-sign, store, record\n")
	s := issueBatch(ctx, a.Service, cases, 4, false, io.Discard)
	printIssueSummary(out, s, 3)
	if s.Interrupted {
		return &exitError{code: 130, err: errors.New("interrupted")}
	}

	dir := filepath.Join(conf.DataDir, "demo")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	today := registration.Today(time.Now())
	active, expired, err := demoPick(cmd, a.Registry, cases, today)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n== 5. 加注 (re-stamp) certificate %s for its holder\n", active.CertificateNo)
	req := issuance.RestampRequest{Holder: active.IDNumber, CertificateNo: active.CertificateNo, Format: "pdf", Purpose: "投标（演示）"}
	var copyFile string
	// The same request on the same day gets the same copy; another purpose gets its own.
	other := req
	other.Purpose = "资格预审（演示）"
	for press, r := range []issuance.RestampRequest{req, req, other} {
		c, err := a.Service.Restamp(ctx, r)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "press %d, 用途 %s: copy %s from %s, 使用有效期 %s 至 %s\n", press+1, r.Purpose, c.CopyID, c.Source,
			registration.Today(c.ValidFrom), registration.Today(c.ValidUntil.Add(-time.Nanosecond)))
		if press == 0 {
			copyFile = filepath.Join(dir, "usage-copy.pdf")
			if err := demoSave(cmd, a, c.ObjectKey, c.SHA256, copyFile); err != nil {
				return err
			}
		}
	}
	if expired.CertificateNo != "" {
		_, err := a.Service.Restamp(ctx, issuance.RestampRequest{Holder: expired.IDNumber, CertificateNo: expired.CertificateNo, Format: "pdf"})
		var ref *issuance.Refusal
		if errors.As(err, &ref) {
			fmt.Fprintf(out, "press for expired registration %s: ✘ [%s] %s\n", expired.RegistrationNo, ref.Code, ref.Message)
		}
	}

	fmt.Fprintf(out, "\n== 6. Verify (signature, chain, signing time, integrity, usage validity)\n")
	files := map[string][2]string{
		filepath.Join(dir, "certificate.pdf"): {active.PDFKey, active.PDFSHA256},
		filepath.Join(dir, "certificate.ofd"): {active.OFDKey, active.OFDSHA256},
	}
	for path, k := range files {
		if err := demoSave(cmd, a, k[0], k[1], path); err != nil {
			return err
		}
	}
	root, err := a.Keys.Root()
	if err != nil {
		return err
	}
	for _, path := range []string{filepath.Join(dir, "certificate.pdf"), filepath.Join(dir, "certificate.ofd"), copyFile} {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rep := verify.File(b, verify.Options{Roots: []*smx509.Certificate{root}, Status: issuance.StatusLookup(ctx, a.Registry, a.Policy)})
		verdict := map[string]string{verify.VerdictValid: "VALID", verify.VerdictValidDevelopment: "VALID (development root, not for production)",
			verify.VerdictNotCurrent: "NOT CURRENT"}[rep.Verdict]
		if verdict == "" {
			verdict = "INVALID"
		}
		fmt.Fprintf(out, "%s: %s (%d checks incl. status in the registry", verdict, path, len(rep.Checks))
		if rep.UsageValidUntil != "" {
			fmt.Fprintf(out, "; usage copy valid %s to %s", rep.UsageValidFrom, rep.UsageValidUntil)
		}
		fmt.Fprintln(out, ")")
	}
	fmt.Fprintf(out, "\nOpen the files in %s, or check one with: go run ./cmd/ecert --data-dir %s verify --allow-development %s\n", dir, conf.DataDir, copyFile)
	return nil
}

// demoPick finds an issued certificate whose registration is in force today and one whose is expired.
func demoPick(cmd *cobra.Command, reg *registry.Registry, cases []string, today registration.Date) (active, expired registry.Certificate, err error) {
	for _, id := range cases {
		c, err := reg.CertificateByCase(cmd.Context(), id)
		if err != nil {
			continue
		}
		r, err := reg.Registration(cmd.Context(), c.RegistrationNo)
		if err != nil {
			return active, expired, err
		}
		ok := r.Status == registration.RegistrationActive && !today.After(r.ValidUntil) && c.Status == registration.CertValid &&
			(c.DownloadableFrom.IsZero() || !today.Before(c.DownloadableFrom))
		switch {
		case ok && active.CertificateNo == "":
			active = c
		case !ok && today.After(r.ValidUntil) && expired.CertificateNo == "":
			expired = c
		}
	}
	if active.CertificateNo == "" {
		return active, expired, errors.New("demo: no example registration is in force today")
	}
	return active, expired, nil
}

func demoSave(cmd *cobra.Command, a *app.App, key, sha, path string) error {
	rc, _, err := a.Service.Open(cmd.Context(), key, sha)
	if err != nil {
		return err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
