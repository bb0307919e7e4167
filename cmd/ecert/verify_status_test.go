package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/signing"
)

// With --data-dir the verifier asks the registry whether a certificate is
// still in force: current → VALID with a passing status check; after
// automatic cancellation → NOT CURRENT, exit 1. Without a registry the
// report says status was not checked.
func TestVerifyChecksStatusWithTheRegistry(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	a := sampledata.Generate(1, sampledata.Options{Seed: 17, Base: registration.Today(time.Now()).AddDays(-100)})[0]
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(a)
	approvals := filepath.Join(dir, "a.ndjson")
	os.WriteFile(approvals, buf.Bytes(), 0o600)
	run := func(args ...string) (string, int) {
		c := exec.Command(bin, args...)
		c.Env = append(os.Environ(), "ECERT_LOG_LEVEL=error", signing.EnvPassphrase+"=", signing.EnvPassphraseFile+"=", "ECERT_DATA_DIR=", "ECERT_DATABASE=")
		c.Dir = t.TempDir() // no ./data here
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
	pdf := exportCertificate(t, dir, a.CaseID)
	out, code := run("--data-dir", dir, "verify", "--allow-development", pdf)
	if code != 0 || !strings.Contains(out, "PASS status") {
		t.Fatalf("current certificate: exit %d\n%s", code, out)
	}
	out, code = run("--trust", filepath.Join(dir, "dev-keys", "root.pem"), "verify", "--allow-development", pdf)
	if code != 0 || !strings.Contains(out, "status not checked: no registry configured") {
		t.Fatalf("without a registry: exit %d\n%s", code, out)
	}
	later := a.Registration.ValidUntil.AddYears(2).String()
	if out, code := run("--data-dir", dir, "expire", "--on", later); code != 0 {
		t.Fatalf("expire: %d\n%s", code, out)
	}
	out, code = run("--data-dir", dir, "verify", "--allow-development", pdf)
	if code != 1 || !strings.Contains(out, "NOT CURRENT") || !strings.Contains(out, "cancelled") {
		t.Fatalf("cancelled certificate: exit %d\n%s", code, out)
	}
}

// exportCertificate writes the PDF issued for caseID to a file and returns its path.
func exportCertificate(t *testing.T, dir, caseID string) string {
	t.Helper()
	return exportDocument(t, dir, caseID, "pdf", filepath.Join(t.TempDir(), "certificate.pdf"))
}
