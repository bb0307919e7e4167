package main

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/ofdsig"
	"github.com/ecert/ecert/signing/pdfsig"
	"github.com/ecert/ecert/signing/signtest"
	"github.com/ecert/ecert/signing/verify"
	"github.com/emmansun/gmsm/smx509"
)

// verifyRun runs ecert verify with a fresh set of verify flags and returns
// standard output, standard error and the exit code.
func verifyRun(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	reset := func() { verifyFlags.json, verifyFlags.trust, verifyFlags.allowDevelopment = false, nil, false }
	reset()
	defer reset()
	var out, errOut bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&errOut)
	rootCmd.SetArgs(append([]string{"--data-dir", t.TempDir(), "verify"}, args...))
	err := rootCmd.ExecuteContext(context.Background())
	code := 0
	if ee := (*exitError)(nil); errors.As(err, &ee) {
		code = ee.code
	} else if err != nil {
		t.Fatalf("verify %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// signedFiles writes into dir a PDF and an OFD signed by ca now, and the
// root as PEM; it returns the paths.
func signedFiles(t *testing.T, dir, name string, ca *signtest.CA) (pdf, ofd, root string) {
	t.Helper()
	ctx, now := context.Background(), time.Now()
	p, err := pdfsig.Sign(ctx, signtest.PDF(t), ca.Signer, pdfsig.Options{Time: now, Rect: [4]float64{1, 1, 60, 60}})
	if err != nil {
		t.Fatal(err)
	}
	seal, err := ofdsig.MakeSeal(ctx, ca.Signer, ofdsig.SealSpec{ESID: "21000000000001", Name: "测试专用章", PNG: signtest.SealPNG(t),
		WidthMM: 40, HeightMM: 40, Created: now.AddDate(0, 0, -1), ValidStart: now.AddDate(0, 0, -1), ValidEnd: now.AddDate(1, 0, 0),
		Holders: []*smx509.Certificate{ca.Signer.Chain()[0]}})
	if err != nil {
		t.Fatal(err)
	}
	o, err := ofdsig.Sign(ctx, signtest.OFD(t), ca.Signer, seal, ofdsig.Options{Time: now, Boundary: [4]float64{1, 1, 40, 40}})
	if err != nil {
		t.Fatal(err)
	}
	pdf, ofd, root = filepath.Join(dir, name+".pdf"), filepath.Join(dir, name+".ofd"), filepath.Join(t.TempDir(), name+"-root.pem")
	for path, b := range map[string][]byte{pdf: p, ofd: o, root: pemCert(ca.Root.Raw)} {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return pdf, ofd, root
}

// developmentCA is a CA whose root carries the development root's name.
func developmentCA(t *testing.T) *signtest.CA {
	t.Helper()
	cfg := signing.CAConfig{RootSubject: pkix.Name{CommonName: signing.DevelopmentRootCommonName}}
	rk, root, err := signing.NewRootCA(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := signing.NewKeySigner(rk, []*smx509.Certificate{root})
	ik, ic, err := signing.IssueAuthorityCertificate(context.Background(), rs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := signing.NewKeySigner(ik, []*smx509.Certificate{ic, root})
	return &signtest.CA{RootKey: rk, Root: root, Signer: s, Key: ik}
}

func TestVerifyCLI(t *testing.T) {
	docs, devDocs := t.TempDir(), t.TempDir()
	pdf, ofd, root := signedFiles(t, docs, "good", signtest.NewCA(t, time.Now()))
	devPDF, _, devRoot := signedFiles(t, devDocs, "dev", developmentCA(t))
	good, _ := os.ReadFile(pdf)
	bad := filepath.Join(docs, "bad.pdf")
	os.WriteFile(bad, append(good, "\n% appended\n"...), 0o644)
	os.WriteFile(filepath.Join(docs, "notes.txt"), []byte("not a certificate"), 0o644)
	trustDir := t.TempDir()
	os.WriteFile(filepath.Join(trustDir, "a.pem"), mustRead(t, root), 0o644)
	os.WriteFile(filepath.Join(trustDir, "b.crt"), mustRead(t, devRoot), 0o644)
	missing := filepath.Join(docs, "missing.pdf")

	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"production root", []string{"--trust", root, pdf}, 0,
			[]string{`root: "ecert 电子证照根证书" (SHA-256 `, "certificates validated at", "PASS chain", "VALID: all checks passed"}},
		{"OFD", []string{"--trust", root, ofd}, 0, []string{"PASS seal", `root: "ecert 电子证照根证书" (SHA-256 `, "validated at verification time", "VALID: all checks passed"}},
		{"no trusted root: every other check runs", []string{pdf}, 1,
			[]string{"no trusted root configured", "PASS signature", "PASS integrity", "SKIP chain           not checked: no trusted root configured", "INVALID: chain not checked"}},
		{"development root", []string{"--trust", devRoot, devPDF}, 1,
			[]string{"a development root — not for production", "VALID (development root — not for production): all checks passed, but"}},
		{"development root allowed", []string{"--allow-development", "--trust", devRoot, devPDF}, 0, []string{"VALID (development root"}},
		{"trust directory and repeated --trust", []string{"--trust", trustDir, "--trust", root, pdf, devPDF}, 1, []string{
			"VALID " + pdf + ": ", "VALID (development root — not for production) " + devPDF + ": ",
			"2 files: 1 valid, 1 valid with a development root (not for production), 0 invalid, 0 unreadable"}},
		{"a directory and a missing file", []string{"--trust", root, docs, missing}, 2, []string{
			"INVALID " + bad + ": integrity failed", "VALID " + ofd + ": ", "VALID " + pdf + ": ", "UNREADABLE " + missing + ": ",
			"4 files: 2 valid, 0 valid with a development root (not for production), 1 invalid, 1 unreadable"}},
		{"missing file", []string{"--trust", root, missing}, 2, nil},
		{"trust file without certificates", []string{"--trust", filepath.Join(docs, "notes.txt"), pdf}, 2, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, code := verifyRun(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "notes.txt") {
				t.Errorf("a directory's non-certificate file was verified:\n%s", out)
			}
		})
	}
}

func TestVerifyCLIJSON(t *testing.T) {
	docs := t.TempDir()
	devPDF, devOFD, devRoot := signedFiles(t, docs, "dev", developmentCA(t))

	out, _, code := verifyRun(t, "--json", "--trust", devRoot, devPDF)
	var rep verify.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if rep.Verdict != verify.VerdictValidDevelopment || rep.Trust == nil || !rep.Trust.Development || rep.Trust.Root != signing.DevelopmentRootCommonName {
		t.Errorf("verdict %q, trust %+v", rep.Verdict, rep.Trust)
	}

	out, errOut, code := verifyRun(t, "--json", "--allow-development", "--trust", devRoot, docs, filepath.Join(docs, "missing.ofd"))
	var all []struct {
		File  string `json:"file"`
		Error string `json:"error"`
		verify.Report
	}
	if err := json.Unmarshal([]byte(out), &all); err != nil || code != 2 || len(all) != 3 {
		t.Fatalf("exit %d, %d entries, %v:\n%s", code, len(all), err, out)
	}
	for i, want := range []string{devOFD, devPDF} {
		if all[i].File != want || all[i].Verdict != verify.VerdictValidDevelopment || !all[i].Trust.Development {
			t.Errorf("entry %d: %s, verdict %q", i, all[i].File, all[i].Verdict)
		}
	}
	if all[2].Error == "" || all[2].Verdict != "" {
		t.Errorf("missing file: %+v", all[2])
	}
	if !strings.Contains(errOut, "3 files: 0 valid, 2 valid with a development root (not for production), 0 invalid, 1 unreadable") {
		t.Errorf("summary on stderr: %q", errOut)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
