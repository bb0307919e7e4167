package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/pdfsig"
	"github.com/ecert/ecert/signing/signtest"
	"github.com/ecert/ecert/signing/verify"
)

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	rootCmd.SetArgs(args)
	err := rootCmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestKeysAndVerifyCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(signing.EnvPassphrase, "correct horse battery staple")
	if out, err := runCLI(t, "--data-dir", dir, "keys", "init"); err != nil {
		t.Fatalf("keys init: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "--data-dir", dir, "keys", "rotate"); err != nil {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	out, err := runCLI(t, "--data-dir", dir, "keys", "show")
	if err != nil || !bytes.Contains([]byte(out), []byte("retired")) || !bytes.Contains([]byte(out), []byte("current")) {
		t.Fatalf("keys show: %v\n%s", err, out)
	}
	st, _ := signing.NewStore(filepath.Join(dir, "keys"), []byte("correct horse battery staple"), signing.CAConfig{})
	s, err := st.Signer()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := pdfsig.Sign(context.Background(), signtest.PDF(t), s, pdfsig.Options{Time: time.Now(), Rect: [4]float64{1, 1, 60, 60}})
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.pdf")
	os.WriteFile(good, doc, 0o644)
	if out, err := runCLI(t, "--data-dir", dir, "verify", good); err != nil {
		t.Fatalf("verify good: %v\n%s", err, out)
	}
	out, err = runCLI(t, "--data-dir", dir, "verify", "--json", good)
	var rep verify.Report
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || !rep.OK || len(rep.Checks) < 5 {
		t.Fatalf("verify --json: %v\n%s", err, out)
	}
	bad := filepath.Join(dir, "bad.pdf")
	os.WriteFile(bad, append(doc, "\n% appended\n"...), 0o644)
	_, err = runCLI(t, "--data-dir", dir, "verify", bad)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("verify tampered: err %v, want exit code 1", err)
	}
	// Another CA's root: chain fails.
	other := signtest.NewCA(t, time.Now())
	otherRoot := filepath.Join(dir, "other.pem")
	os.WriteFile(otherRoot, pemCert(other.Root.Raw), 0o644)
	if _, err := runCLI(t, "--data-dir", dir, "verify", "--trust", otherRoot, good); !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("verify with foreign root: %v", err)
	}
	if _, err := runCLI(t, "--data-dir", dir, "verify", filepath.Join(dir, "missing.pdf")); !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("verify missing file: %v", err)
	}
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
