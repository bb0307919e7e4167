package signing_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/signing"
)

const pass = "correct horse battery staple"

func TestStoreEncryptsKeysAndOpenSSLReadsThem(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := signing.NewStore(dir, []byte(pass), signing.CAConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Init(ctx); err == nil {
		t.Fatal("second Init overwrote the store")
	}
	s, err := st.Signer()
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("message")
	sig, err := s.Sign(ctx, msg)
	if err != nil || !signing.VerifySM2(s.Public(), msg, sig) {
		t.Fatalf("store signer: %v", err)
	}
	keys, _ := filepath.Glob(filepath.Join(dir, "issuers", "*.key"))
	keys = append(keys, filepath.Join(dir, "root.key"))
	for _, k := range keys {
		b, _ := os.ReadFile(k)
		if !bytes.HasPrefix(b, []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
			t.Errorf("%s is not encrypted PKCS#8", k)
		}
		if fi, _ := os.Stat(k); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", k, fi.Mode())
		}
	}
	// OpenSSL decrypts it with the passphrase and finds the same public key.
	openssl := testenv.Tool(t, "openssl")
	cmd := exec.Command(openssl, "pkey", "-in", keys[0], "-passin", "env:PASS", "-pubout")
	cmd.Env = append(os.Environ(), "PASS="+pass)
	pub, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl pkey: %v %s", err, pub)
	}
	certPub, err := exec.Command(openssl, "x509", "-in", strings.TrimSuffix(keys[0], ".key")+".pem", "-pubkey", "-noout").CombinedOutput()
	if err != nil || !bytes.Equal(pub, certPub) {
		t.Fatalf("decrypted key does not match the certificate: %v\n%s\n%s", err, pub, certPub)
	}
	// A wrong passphrase cannot load it, and the error does not echo it.
	bad, _ := signing.NewStore(dir, []byte("wrong passphrase!!"), signing.CAConfig{})
	if _, err := bad.Signer(); err == nil || strings.Contains(err.Error(), "wrong passphrase!!") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := signing.NewStore(dir, []byte("short"), signing.CAConfig{}); err == nil {
		t.Fatal("short passphrase accepted")
	}
	ro, _ := signing.NewStore(dir, nil, signing.CAConfig{})
	if _, err := ro.Signer(); err == nil {
		t.Fatal("read-only store produced a signer")
	}
}

func TestDevelopmentStoreWarnsEveryStart(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 2; i++ {
		var logs bytes.Buffer
		st, err := signing.OpenDevelopment(context.Background(), dir, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), "NOT FOR PRODUCTION") {
			t.Fatalf("start %d: no warning in %q", i, logs.String())
		}
		if _, err := st.Signer(); err != nil {
			t.Fatal(err)
		}
		pf, _ := os.ReadFile(filepath.Join(dir, "dev.passphrase"))
		if bytes.Contains(logs.Bytes(), pf) {
			t.Fatal("development passphrase logged")
		}
	}
}

func TestPassphraseFromEnv(t *testing.T) {
	t.Setenv(signing.EnvPassphrase, "")
	f := filepath.Join(t.TempDir(), "p")
	os.WriteFile(f, []byte(pass+"\n"), 0o600)
	t.Setenv(signing.EnvPassphraseFile, f)
	p, err := signing.PassphraseFromEnv()
	if err != nil || string(p) != pass {
		t.Fatalf("%q %v", p, err)
	}
	t.Setenv(signing.EnvPassphrase, "from env variable")
	if p, _ := signing.PassphraseFromEnv(); string(p) != "from env variable" {
		t.Fatalf("%q", p)
	}
}
