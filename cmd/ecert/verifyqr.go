package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	smx509 "github.com/emmansun/gmsm/smx509"
	"github.com/spf13/cobra"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/claim"
	"github.com/ecert/ecert/signing/cose"
	"github.com/ecert/ecert/signing/offline"
	"github.com/ecert/ecert/signing/statuslist"
)

var verifyQRFlags struct {
	json        bool
	trust       []string
	issuers     []string
	statusLists []string
	allowDev    bool
}

// maxStatusListBytes bounds a status list token read from a file or URL.
const maxStatusListBytes = 4 << 20

func init() {
	cmd := &cobra.Command{
		Use:   "verify-qr CLAIM|-...",
		Short: "Verify the signed QR claim of a certificate offline; exit 0 only if it is valid",
		Long: "Verify the signed claim (EC1:…) printed in a certificate's second QR code, without asking the issuer:\n" +
			"its SM2 signature by an issuing-authority certificate (--issuers), that certificate's chain to a\n" +
			"trusted root (--trust, as for ecert verify), the claim's own dates and its entry in a signed status list\n" +
			"fetched earlier (--status-list: a file or a URL of GET /api/v1/status/{list}). A list older than 24 h\n" +
			"never gives valid. '-' reads claims from standard input, one a line (other lines are skipped), e.g.\n" +
			"  zbarimg --raw -Sdisable -Sqrcode.enable page.png | ecert verify-qr -\n" +
			"Issuers: every --issuers (PEM files, directories of them, or the URL of GET /api/v1/trust/issuers), else the\n" +
			"key store's issuers under <key-dir> or the development key directory.\n" +
			"Exit status: 0 every claim valid with a production root (or a development root with --allow-development);\n" +
			"1 a claim is not valid now; 2 the issuers, roots or status lists could not be read.",
		Args: cobra.MinimumNArgs(1),
		RunE: runVerifyQR,
	}
	f := cmd.Flags()
	f.BoolVar(&verifyQRFlags.json, "json", false, "print the reports as JSON (an array)")
	f.StringArrayVar(&verifyQRFlags.trust, "trust", nil, "trusted roots: a PEM file of one or more, or a directory of them (repeatable)")
	f.StringArrayVar(&verifyQRFlags.issuers, "issuers", nil, "issuing-authority certificates: a PEM file, a directory of them, or an https URL (repeatable)")
	f.StringArrayVar(&verifyQRFlags.statusLists, "status-list", nil, "a status list token (application/statuslist+cwt): a file or an http(s) URL (repeatable)")
	f.BoolVar(&verifyQRFlags.allowDev, "allow-development", false, "exit 0 for claims whose issuer chains to an ecert development root")
	rootCmd.AddCommand(cmd)
}

func runVerifyQR(cmd *cobra.Command, args []string) error {
	roots, _, err := trustRoots(verifyQRFlags.trust)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	issuers, err := issuerCertificates(cmd.Context(), verifyQRFlags.issuers)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	lists, err := statusLists(cmd.Context(), verifyQRFlags.statusLists, issuers)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	claims, err := claimArgs(cmd.InOrStdin(), args)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	opt := offline.Options{Issuers: issuers, Roots: roots, Lists: lists, Now: time.Now()}
	var reports []*offline.Report
	bad := 0
	for _, c := range claims {
		r := offline.Verify(c, opt)
		reports = append(reports, r)
		if r.Verdict != offline.Valid && (r.Verdict != offline.ValidDevelopment || !verifyQRFlags.allowDev) {
			bad++
		}
	}
	out := cmd.OutOrStdout()
	if verifyQRFlags.json {
		if err := writeJSON(out, reports); err != nil {
			return err
		}
	} else {
		for _, r := range reports {
			printClaimReport(out, r)
		}
	}
	if bad > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d claims not valid", bad, len(claims))}
	}
	return nil
}

// claimArgs returns the claims named by args, reading '-' from stdin.
func claimArgs(stdin io.Reader, args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if a != "-" {
			out = append(out, strings.TrimSpace(a))
			continue
		}
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 0, 8<<10), claim.MaxEncodedLen+64)
		for sc.Scan() {
			// Other codes on the page (the URL code) are not claims.
			if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, claim.Prefix) {
				out = append(out, l)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("reading claims from standard input: %w", err)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no claim given")
	}
	return out, nil
}

// issuerCertificates reads the issuer certificates from srcs, or from the
// key store when there are none.
func issuerCertificates(ctx context.Context, srcs []string) ([]*smx509.Certificate, error) {
	if len(srcs) == 0 {
		for _, dir := range []string{keyDir(), devKeyDir()} {
			files, _ := filepath.Glob(filepath.Join(dir, "issuers", "*.pem"))
			if len(files) > 0 {
				srcs = []string{filepath.Join(dir, "issuers")}
				break
			}
		}
		if len(srcs) == 0 {
			return nil, errors.New("no issuer certificates: give --issuers")
		}
	}
	var out []*smx509.Certificate
	for _, src := range srcs {
		var b []byte
		var err error
		switch {
		case isURL(src):
			b, err = fetch(ctx, src, 1<<20)
		default:
			files := []string{src}
			if st, serr := os.Stat(src); serr == nil && st.IsDir() {
				if files, err = pemFiles(src); err != nil {
					return nil, err
				}
			}
			for _, f := range files {
				fb, ferr := readLimited(f, 1<<20)
				if ferr != nil {
					return nil, ferr
				}
				b = append(append(b, fb...), '\n')
			}
		}
		if err != nil {
			return nil, err
		}
		certs, err := signing.ReadCertificatesPEM(b)
		if err != nil {
			return nil, fmt.Errorf("issuers %s: %w", src, err)
		}
		out = appendNew(out, certs...)
	}
	return out, nil
}

// statusLists reads and checks the status list tokens named by srcs.
func statusLists(ctx context.Context, srcs []string, issuers []*smx509.Certificate) ([]*statuslist.Token, error) {
	key := func(kid []byte) (*ecdsa.PublicKey, error) {
		for _, c := range issuers {
			if pub, ok := c.PublicKey.(*ecdsa.PublicKey); ok && bytes.Equal(cose.KeyID(c), kid) {
				return pub, nil
			}
		}
		return nil, fmt.Errorf("status list signed by an unknown key %x", kid)
	}
	var out []*statuslist.Token
	for _, src := range srcs {
		var b []byte
		var err error
		if isURL(src) {
			b, err = fetch(ctx, src, maxStatusListBytes)
		} else {
			b, err = readLimited(src, maxStatusListBytes)
		}
		if err != nil {
			return nil, err
		}
		t, err := statuslist.Parse(b, key)
		if err != nil {
			return nil, fmt.Errorf("status list %s: %w", src, err)
		}
		out = append(out, t)
	}
	return out, nil
}

func isURL(s string) bool { return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") }

// fetch GETs url, at most max bytes, in 30 s.
func fetch(ctx context.Context, url string, max int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("GET %s: larger than %d bytes", url, max)
	}
	return b, nil
}

// printClaimReport prints r for a person.
func printClaimReport(w io.Writer, r *offline.Report) {
	fmt.Fprintf(w, "%s  %s\n", strings.ToUpper(string(r.Verdict)), r.Verdict.Chinese())
	if c := r.Claim; c != nil {
		fmt.Fprintf(w, "  证照标识 %s（第 %d 版）\n  持证人 %s  %s  注册编号 %s\n", c.LicenceID, c.Version, c.HolderName, c.MaskedID, c.RegistrationNo)
		for _, s := range c.Specialties {
			fmt.Fprintf(w, "  %s 有效期至 %s\n", s.Name, s.ValidUntil)
		}
		if cp := c.Copy; cp != nil {
			fmt.Fprintf(w, "  加注件 %s  用途 %s  使用有效期 %s 至 %s\n", cp.ID, cp.Purpose, cp.ValidFrom, cp.ValidUntil)
		}
	}
	for _, c := range r.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %-9s %s\n", mark, c.ID, c.Detail)
	}
}
