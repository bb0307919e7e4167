package signing_test

import (
	"bytes"
	"context"
	"errors"
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

// TestOpenNeverFallsBackBesideProductionKeys: any passphrase problem with
// production keys present (or a passphrase configured without them) stops
// Open; a development CA is made only where no keys and no passphrase are.
func TestOpenNeverFallsBackBesideProductionKeys(t *testing.T) {
	ctx := context.Background()
	prod := t.TempDir()
	st, _ := signing.NewStore(prod, []byte(pass), signing.CAConfig{})
	if err := st.Init(ctx); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, nil, 0o600)
	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrong, []byte("a wrong passphrase, long enough\n"), 0o600)
	short := filepath.Join(t.TempDir(), "short")
	os.WriteFile(short, []byte("short\n"), 0o600)
	noKeys := t.TempDir()
	for _, tc := range []struct {
		name, keyDir, passEnv, fileEnv, want string
	}{
		{"missing passphrase file", prod, "", "/nonexistent/passphrase", "passphrase file"},
		{"no passphrase at all", prod, "", "", "production keys"},
		{"empty passphrase file", prod, "", empty, "empty"},
		{"short passphrase", prod, "", short, "at least"},
		{"wrong passphrase", prod, "", wrong, "wrong passphrase"},
		{"passphrase file missing, no keys", noKeys, "", "/nonexistent/passphrase", "passphrase file"},
		{"passphrase, no keys", noKeys, pass, "", "no keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(signing.EnvPassphrase, tc.passEnv)
			t.Setenv(signing.EnvPassphraseFile, tc.fileEnv)
			dev := filepath.Join(t.TempDir(), "dev-keys")
			_, err := signing.Open(ctx, tc.keyDir, dev, slog.New(slog.DiscardHandler))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open: %v, want an error saying %q", err, tc.want)
			}
			if _, err := os.Stat(dev); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("development key store created beside the failure: %v", err)
			}
		})
	}
	t.Run("production keys open with the right passphrase", func(t *testing.T) {
		t.Setenv(signing.EnvPassphrase, pass)
		t.Setenv(signing.EnvPassphraseFile, "")
		s, err := signing.Open(ctx, prod, filepath.Join(t.TempDir(), "dev"), nil)
		if err != nil || s.Dir() != prod {
			t.Fatalf("%v %v", s, err)
		}
	})
	t.Run("development CA only where nothing is configured", func(t *testing.T) {
		t.Setenv(signing.EnvPassphrase, "")
		t.Setenv(signing.EnvPassphraseFile, "")
		dev := filepath.Join(t.TempDir(), "dev")
		s, err := signing.Open(ctx, noKeys, dev, slog.New(slog.DiscardHandler))
		if err != nil || s.Dir() != dev {
			t.Fatalf("%v %v", s, err)
		}
	})
}
