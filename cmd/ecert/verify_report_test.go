package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/storage/objectstore"
	"github.com/ecert/ecert/storage/registry"
)

// TestVerifyWritesASignedReport: issue two certificates on embedded
// defaults, tamper one, `ecert verify --report r.pdf good.pdf good.ofd
// bad.pdf`; the report verifies as a verification report (not a
// certificate) and lists each file with its verdict.
func TestVerifyWritesASignedReport(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	recs := sampledata.Generate(2, sampledata.Options{Seed: 23, Base: registration.Today(time.Now()).AddDays(-100)})
	var buf bytes.Buffer
	for _, a := range recs {
		json.NewEncoder(&buf).Encode(a)
	}
	approvals := filepath.Join(dir, "a.ndjson")
	os.WriteFile(approvals, buf.Bytes(), 0o600)
	work := t.TempDir()
	run := func(args ...string) (string, int) {
		c := exec.Command(bin, args...)
		c.Env = append(os.Environ(), "ECERT_LOG_LEVEL=error", signing.EnvPassphrase+"=", signing.EnvPassphraseFile+"=", "ECERT_DATA_DIR=", "ECERT_DATABASE=")
		c.Dir = work
		out, err := c.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	if out, code := run("--data-dir", dir, "issue", "-q", "--from", approvals); code != 0 {
		t.Fatalf("issue: %d\n%s", code, out)
	}
	good := exportDocument(t, dir, recs[0].CaseID, "pdf", filepath.Join(work, "good.pdf"))
	goodOFD := exportDocument(t, dir, recs[0].CaseID, "ofd", filepath.Join(work, "good.ofd"))
	bad := exportDocument(t, dir, recs[1].CaseID, "pdf", filepath.Join(work, "bad.pdf"))
	b, _ := os.ReadFile(bad)
	b[len(b)/2] ^= 1
	os.WriteFile(bad, b, 0o600)

	report := filepath.Join(work, "r.pdf")
	out, code := run("--data-dir", dir, "verify", "--allow-development", "--report", report, good, goodOFD, bad)
	if code != 1 || !strings.Contains(out, "verification report") {
		t.Fatalf("verify --report: exit %d (want 1: bad.pdf is invalid)\n%s", code, out)
	}
	out, code = run("--data-dir", dir, "verify", "--allow-development", report)
	if code != 0 || !strings.Contains(out, "document: verification report") || !strings.Contains(out, "PASS document-kind") ||
		!strings.Contains(out, "signer: "+signing.VerificationServiceUnit) {
		t.Fatalf("verify r.pdf: exit %d\n%s", code, out)
	}
	text, err := exec.Command(testenv.Tool(t, "pdftotext"), "-layout", report, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, text)
	}
	lines := strings.Split(string(text), "\n")
	verdictAfter := func(name string) string {
		for i, l := range lines {
			if strings.Contains(l, name) && i+1 < len(lines) {
				return lines[i+1]
			}
		}
		t.Fatalf("report does not list %s:\n%s", name, text)
		return ""
	}
	for name, want := range map[string]string{"good.pdf": "有效", "good.ofd": "有效", "bad.pdf": "无效 invalid"} {
		if l := verdictAfter(name); !strings.Contains(l, want) || (want == "有效" && strings.Contains(l, "无效")) {
			t.Errorf("%s: %q, want %q", name, l, want)
		}
	}
	for _, want := range []string{"核验报告", "完整性 integrity", "状态列表 Status list", "registry consulted", "SHA-256 "} {
		if !strings.Contains(string(text), want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	// A one-byte change of the report is caught.
	r, _ := os.ReadFile(report)
	r[len(r)/2] ^= 1
	os.WriteFile(report, r, 0o600)
	if out, code := run("--data-dir", dir, "verify", "--allow-development", report); code != 1 || !strings.Contains(out, "INVALID") {
		t.Fatalf("tampered report: exit %d\n%s", code, out)
	}
}

// exportDocument writes the certificate issued for caseID in format (pdf
// or ofd) to path.
func exportDocument(t *testing.T, dir, caseID, format, path string) string {
	t.Helper()
	ctx := context.Background()
	reg, err := registry.Open(ctx, filepath.Join(dir, "ecert.db"), registry.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	c, err := reg.CertificateByCase(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	st, err := objectstore.NewFilesystem(objectstore.FSConfig{Root: filepath.Join(dir, "objects")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key := c.PDFKey
	if format == "ofd" {
		key = c.OFDKey
	}
	rc, _, err := st.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, b, 0o600)
	return path
}
