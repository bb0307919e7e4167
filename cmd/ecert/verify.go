package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/emmansun/gmsm/smx509"

	"github.com/ecert/ecert/batchverify"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/verify"
	"github.com/ecert/ecert/storage/registry"
)

// verifyFlags are the flags of ecert verify.
var verifyFlags struct {
	json             bool
	trust            []string
	allowDevelopment bool
	report           string
}

// maxVerifyFile is the largest file ecert verify reads.
const maxVerifyFile = 64 << 20

func init() {
	cmd := &cobra.Command{
		Use:   "verify FILE|DIR...",
		Short: "Verify signed certificates (PDF or OFD); exit 0 only if every one is valid",
		Long: "Verify signed certificate files (PDF or OFD) and report each check by name: format, signature,\n" +
			"seal (OFD), chain, signing-time, integrity and, for a usage copy, usage-validity.\n" +
			"One FILE: the full report. Several, or a DIR (every *.pdf and *.ofd under it): one line each and a\n" +
			"summary; with --json an array of reports, each with its \"file\" (and \"error\" when unreadable).\n" +
			"Trusted roots: every --trust (a PEM file of one or more roots, or a directory of them), else\n" +
			"<key-dir>/root.pem, else the development CA's root; with none the chain is not checked.\n" +
			"--report FILE.pdf also writes a verification report (one line per file with its SM3 digest, verdict and\n" +
			"failed checks, the time, the trust list and the status source), signed with the key store's verification\n" +
			"service key (not the certificate-signing key); it verifies with ecert verify like any ecert PDF.\n" +
			"Exit status: 0 every file valid with a production root (or a development root with\n" +
			"--allow-development); 1 a file is invalid, its chain not checked, or it ends in a development root;\n" +
			"2 a file or a trust list could not be read.",
		Args: cobra.MinimumNArgs(1),
		RunE: runVerify,
	}
	cmd.Flags().BoolVar(&verifyFlags.json, "json", false, "print the report as JSON (an array for several files)")
	cmd.Flags().StringArrayVar(&verifyFlags.trust, "trust", nil, "trusted roots: a PEM file of one or more, or a directory of them (repeatable)")
	cmd.Flags().StringVar(&verifyFlags.report, "report", "", "also write a verification report: a PDF listing every file with its verdict, signed with the verification service's key")
	cmd.Flags().BoolVar(&verifyFlags.allowDevelopment, "allow-development", false, "exit 0 for documents that chain to an ecert development root")
	rootCmd.AddCommand(cmd)
}

// verified is one file's outcome: a report, or why it could not be read.
type verified struct {
	File string `json:"file"`
	// Error says why the file could not be read; Report is then nil.
	Error string `json:"error,omitempty"`
	*verify.Report
	// data is the file's content, kept for --report.
	data []byte
}

func runVerify(cmd *cobra.Command, args []string) error {
	roots, src, err := trustRoots(verifyFlags.trust)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	files, err := verifyTargets(args)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	opts := verify.Options{Roots: roots}
	status, closeStatus, err := registryStatus(cmd)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer closeStatus()
	opts.Status = status
	var batch *batchverify.Batch
	if verifyFlags.report != "" {
		var bo batchverify.Options
		batch, bo = batchverify.New(batchverify.Options{Verify: opts})
		opts = bo.Verify
	}
	out := cmd.OutOrStdout()
	single := len(args) == 1 && len(files) == 1 && files[0] == args[0]
	var all []verified
	for _, f := range files {
		v := verifyOne(f, opts)
		all = append(all, v)
		if !verifyFlags.json && !single {
			printLine(out, v)
		}
	}
	switch {
	case verifyFlags.json && single && all[0].Report != nil:
		err = writeJSON(out, all[0].Report)
	case verifyFlags.json:
		err = writeJSON(out, all)
	case single && all[0].Report != nil:
		printReport(out, all[0].File, src, all[0].Report)
	}
	if err != nil {
		return err
	}
	if batch != nil {
		if err := writeVerificationReport(cmd, batch, all); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	sum := summarize(all)
	if !single {
		w := out
		if verifyFlags.json {
			w = cmd.ErrOrStderr()
		}
		fmt.Fprintln(w, sum)
	}
	return sum.exit(all)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func verifyOne(path string, opts verify.Options) verified {
	data, err := readLimited(path, maxVerifyFile)
	if err != nil {
		return verified{File: path, Error: err.Error()}
	}
	return verified{File: path, Report: verify.File(data, opts), data: data}
}

// writeVerificationReport signs the run's outcome as a verification report
// with the key store's verification-service key and writes it to --report.
func writeVerificationReport(cmd *cobra.Command, b *batchverify.Batch, all []verified) error {
	for _, v := range all {
		if v.Report == nil {
			b.AddUnreadable(v.File, v.Error)
			continue
		}
		b.Add(v.File, v.data, v.Report)
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	st, err := signing.Open(cmd.Context(), keyDir(), devKeyDir(), log)
	if err != nil {
		return fmt.Errorf("verification report: %w", err)
	}
	signer, err := st.ReportSigner(cmd.Context())
	if err != nil {
		return fmt.Errorf("verification report: %w", err)
	}
	pdf, err := batchverify.Sign(cmd.Context(), b, signer)
	if err != nil {
		return err
	}
	if err := os.WriteFile(verifyFlags.report, pdf, 0o644); err != nil {
		return fmt.Errorf("verification report: %w", err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "verification report %s written to %s (%d files, signed by %s)\n",
		b.ID, verifyFlags.report, len(b.Items), signer.Chain()[0].Subject.CommonName)
	return nil
}

// verifyTargets expands the arguments: a file as it is, a directory into
// every .pdf and .ofd file under it, in lexical order.
func verifyTargets(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			files = append(files, a) // unreadable files are reported with the rest
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if ext := strings.ToLower(filepath.Ext(p)); d.Type().IsRegular() && (ext == ".pdf" || ext == ".ofd") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read directory %s: %w", a, err)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no .pdf or .ofd file in %s", strings.Join(args, ", "))
	}
	return files, nil
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

// trustRoots reads the trusted roots: every path in trust (a PEM file or a
// directory of PEM files), else the key store's root, else the development
// CA's. With no trust given and no key store it returns no roots: the
// chain is then reported as not checked.
func trustRoots(trust []string) ([]*smx509.Certificate, string, error) {
	if len(trust) == 0 {
		for _, p := range []string{filepath.Join(keyDir(), "root.pem"), filepath.Join(devKeyDir(), "root.pem")} {
			certs, err := readRoots(p)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return certs, p, err
		}
		return nil, "", nil
	}
	var roots []*smx509.Certificate
	for _, p := range trust {
		files := []string{p}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			if files, err = pemFiles(p); err != nil {
				return nil, "", err
			}
		}
		for _, f := range files {
			certs, err := readRoots(f)
			if err != nil {
				return nil, "", err
			}
			roots = appendNew(roots, certs...)
		}
	}
	return roots, strings.Join(trust, ", "), nil
}

// pemFiles lists the .pem, .crt and .cer files in dir.
func pemFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("trusted roots: %w", err)
	}
	var files []string
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".pem", ".crt", ".cer":
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("trusted roots: no .pem, .crt or .cer file in %s", dir)
	}
	return files, nil
}

func readRoots(path string) ([]*smx509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trusted root: %w", err)
	}
	certs, err := signing.ReadCertificatesPEM(b)
	if err != nil {
		return nil, fmt.Errorf("trusted root %s: %w", path, err)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("trusted root %s: no PEM CERTIFICATE in it", path)
	}
	return certs, nil
}

// appendNew appends the certificates not already in roots.
func appendNew(roots []*smx509.Certificate, certs ...*smx509.Certificate) []*smx509.Certificate {
	for _, c := range certs {
		if !slices.ContainsFunc(roots, func(r *smx509.Certificate) bool { return r.Equal(c) }) {
			roots = append(roots, c)
		}
	}
	return roots
}

// verifySummary counts the outcomes of a run.
type verifySummary struct {
	valid, development, invalid, unreadable int
}

func summarize(all []verified) verifySummary {
	var s verifySummary
	for _, v := range all {
		switch {
		case v.Report == nil:
			s.unreadable++
		case v.Verdict == verify.VerdictValid:
			s.valid++
		case v.Verdict == verify.VerdictValidDevelopment:
			s.development++
		default:
			s.invalid++
		}
	}
	return s
}

func (s verifySummary) String() string {
	return fmt.Sprintf("%d files: %d valid, %d valid with a development root (not for production), %d invalid, %d unreadable",
		s.valid+s.development+s.invalid+s.unreadable, s.valid, s.development, s.invalid, s.unreadable)
}

// exit is the run's exit status: 2 when a file could not be read, 1 when one
// is invalid or (without --allow-development) ends in a development root.
func (s verifySummary) exit(all []verified) error {
	switch {
	case s.unreadable > 0:
		msg := ""
		if len(all) == 1 {
			msg = all[0].Error
		}
		return &exitError{code: 2, err: errors.New(msg)}
	case s.invalid > 0 || (s.development > 0 && !verifyFlags.allowDevelopment):
		return &exitError{code: 1, err: errors.New("")}
	}
	return nil
}

// verdictWords is the report's verdict as a line ends it.
func verdictWords(r *verify.Report) string {
	switch r.Verdict {
	case verify.VerdictValid:
		return "VALID"
	case verify.VerdictValidDevelopment:
		return "VALID (development root — not for production)"
	}
	return "INVALID"
}

// failures names the checks that did not pass, e.g. "integrity failed,
// chain not checked".
func failures(r *verify.Report) string {
	var s []string
	for _, c := range r.Checks {
		switch c.Status {
		case verify.StatusFail:
			s = append(s, c.Name+" failed")
		case verify.StatusNotChecked:
			s = append(s, c.Name+" not checked")
		}
	}
	return strings.Join(s, ", ")
}

// printLine prints one file's outcome on one line.
func printLine(w io.Writer, v verified) {
	r := v.Report
	switch {
	case r == nil:
		fmt.Fprintf(w, "UNREADABLE %s: %s\n", v.File, v.Error)
	case r.Verdict == verify.VerdictInvalid:
		fmt.Fprintf(w, "INVALID %s: %s\n", v.File, failures(r))
	case r.Document == verify.DocumentVerificationReport:
		fmt.Fprintf(w, "%s %s: verification report (not a certificate) by %s, signed %s, root %s\n", verdictWords(r), v.File, r.Signer, sigTime(r.SigningTime), r.Trust)
	default:
		fmt.Fprintf(w, "%s %s: %s, signed %s, root %s\n", verdictWords(r), v.File, r.Signer, sigTime(r.SigningTime), r.Trust)
	}
}

// printReport prints one file's full report.
func printReport(w io.Writer, file, trustSrc string, r *verify.Report) {
	if trustSrc == "" {
		fmt.Fprintf(w, "%s (%s), no trusted root configured (pass --trust ROOT.pem): the chain is not checked\n", file, r.Format)
	} else {
		fmt.Fprintf(w, "%s (%s), trusted root from %s\n", file, r.Format, trustSrc)
	}
	if r.Document == verify.DocumentVerificationReport {
		fmt.Fprintf(w, "  document: verification report of ecert's verification service (not a certificate): report %s, %s files, verified %s\n",
			r.Metadata[batchverify.MetaReportID], r.Metadata[batchverify.MetaFiles], r.Metadata[batchverify.MetaVerifiedAt])
	}
	if r.Signer != "" {
		fmt.Fprintf(w, "  signer: %s (serial %s)\n", r.Signer, r.SignerSN)
	}
	if r.SigningTime != nil {
		fmt.Fprintf(w, "  signed: %s\n", r.SigningTime.Format(time.RFC3339))
	}
	if r.Trust != nil {
		fmt.Fprintf(w, "  root: %s\n", r.Trust)
	}
	if r.ValidatedAt != nil {
		fmt.Fprintf(w, "  certificates validated at %s, the time of verification (no trusted timestamp)\n", r.ValidatedAt.Format(time.RFC3339))
	}
	if r.UsageValidFrom != "" || r.UsageValidUntil != "" {
		fmt.Fprintf(w, "  usage copy valid: %s to %s\n", r.UsageValidFrom, r.UsageValidUntil)
	}
	printChecks(w, "  ", r.Checks)
	if len(r.Signatures) > 1 {
		for _, s := range r.Signatures {
			fmt.Fprintf(w, "  signature %d of %d by %s, signed %s: %s\n", s.Index, len(r.Signatures), s.Signer, sigTime(s.SigningTime), s.Covers)
			printChecks(w, "    ", s.Checks)
		}
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
	if r.Status != nil && !r.Status.Checked {
		fmt.Fprintf(w, "  %s\n", r.Status.Reason)
	}
	switch r.Verdict {
	case verify.VerdictValid:
		fmt.Fprintln(w, "VALID: all checks passed")
	case verify.VerdictValidDevelopment:
		fmt.Fprintln(w, "VALID (development root — not for production): all checks passed, but the chain ends in an ecert development root, which certifies nothing")
	case verify.VerdictNotCurrent:
		fmt.Fprintf(w, "NOT CURRENT: genuine and intact, but no longer in force: %s\n", failures(r))
	default:
		fmt.Fprintf(w, "INVALID: %s\n", failures(r))
	}
}

func sigTime(t *time.Time) string {
	if t == nil {
		return "at no stated time"
	}
	return t.Format(time.RFC3339)
}

func printChecks(w io.Writer, indent string, checks []verify.Check) {
	for _, c := range checks {
		mark := "PASS"
		switch c.Status {
		case verify.StatusFail:
			mark = "FAIL"
		case verify.StatusNotChecked:
			mark = "SKIP"
		}
		fmt.Fprintf(w, "%s%s %-15s %s\n", indent, mark, c.Name, c.Reason)
	}
}

// registryStatus returns the registry lookup for the status check when the
// command names a registry (--data-dir or --database, on the command line
// or in the environment), opened read-only. Without one the reports say
// that status was not checked.
func registryStatus(cmd *cobra.Command) (verify.StatusFunc, func(), error) {
	none := func() {}
	if !cmd.Flags().Changed("data-dir") && !cmd.Flags().Changed("database") {
		return nil, none, nil
	}
	dsn := conf.DSN()
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, none, nil // a data directory with keys only: status is not checked
		}
	}
	policy, err := conf.Policy()
	if err != nil {
		return nil, none, err
	}
	ctx := cmd.Context()
	reg, err := registry.Open(ctx, dsn, registry.Options{SkipMigrate: true})
	if err != nil {
		return nil, none, fmt.Errorf("registry for the status check: %w", err)
	}
	return issuance.StatusLookup(ctx, reg, policy), func() { reg.Close() }, nil
}
