package main

import (
	"bytes"
	"encoding/json"
	"errors"
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

// TestIssueFailsClosedBesideProductionKeys: with production keys made by
// `ecert keys init`, `ecert issue` with a missing, empty or wrong
// passphrase (or none) exits non-zero, makes no development CA and
// records nothing.
func TestIssueFailsClosedBesideProductionKeys(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	const good = "production passphrase, long enough"
	run := func(env []string, args ...string) ([]byte, error) {
		c := exec.Command(bin, args...)
		c.Env = append(os.Environ(), append([]string{"ECERT_DATA_DIR=" + dir, "ECERT_DATABASE=",
			signing.EnvPassphrase + "=", signing.EnvPassphraseFile + "="}, env...)...)
		return c.CombinedOutput()
	}
	if out, err := run([]string{signing.EnvPassphrase + "=" + good}, "keys", "init"); err != nil {
		t.Fatalf("keys init: %v\n%s", err, out)
	}
	approvals := filepath.Join(dir, "approvals.ndjson")
	var buf bytes.Buffer
	for _, a := range sampledata.Generate(3, sampledata.Options{Seed: 5, Base: registration.Today(time.Now()).AddDays(-60)}) {
		json.NewEncoder(&buf).Encode(a)
	}
	os.WriteFile(approvals, buf.Bytes(), 0o600)
	empty, wrong := filepath.Join(dir, "empty"), filepath.Join(dir, "wrong")
	os.WriteFile(empty, nil, 0o600)
	os.WriteFile(wrong, []byte("not the passphrase at all\n"), 0o600)
	for _, tc := range []struct{ name, env, want string }{
		{"missing passphrase file", signing.EnvPassphraseFile + "=" + filepath.Join(dir, "nonexistent"), "passphrase file"},
		{"no passphrase", "", "need their passphrase"},
		{"empty passphrase file", signing.EnvPassphraseFile + "=" + empty, "empty"},
		{"wrong passphrase", signing.EnvPassphraseFile + "=" + wrong, "wrong passphrase"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run([]string{tc.env}, "issue", "--from", approvals)
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Fatalf("issue: %v, want a failure saying %q:\n%s", err, tc.want, out)
			}
			if _, err := os.Stat(filepath.Join(dir, "dev-keys")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a development key store appeared beside production keys: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "objects", "certificates")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("certificates were stored: %v", err)
			}
		})
	}
	if out, err := run([]string{signing.EnvPassphrase + "=" + good}, "issue", "--from", approvals); err != nil {
		t.Fatalf("issue with the right passphrase: %v\n%s", err, out)
	}
}
