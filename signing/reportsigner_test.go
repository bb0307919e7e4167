package signing_test

import (
	"context"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/signing"
)

// TestReportSignerIsTheServiceNotTheAuthority: the report key is a second
// key under the same root, with its own role, and OpenSSL accepts its
// certificate under the root.
func TestReportSignerIsTheServiceNotTheAuthority(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := signing.NewStore(dir, []byte(pass), signing.CAConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Init(ctx); err != nil {
		t.Fatal(err)
	}
	auth, err := st.Signer()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := st.ReportSigner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Public().Equal(auth.Public()) {
		t.Fatal("report signer uses the authority's key")
	}
	svc, iss := rep.Chain()[0], auth.Chain()[0]
	if !signing.IsVerificationService(svc) || signing.IsVerificationService(iss) {
		t.Fatalf("roles: service %v, authority %v", svc.Subject, iss.Subject)
	}
	if svc.Subject.String() == iss.Subject.String() || !rep.Chain()[1].Equal(auth.Chain()[1]) {
		t.Fatal("service certificate must have its own subject under the same root")
	}
	if err := svc.CheckSignatureFrom(rep.Chain()[1]); err != nil {
		t.Fatalf("service certificate not signed by the root: %v", err)
	}
	msg := []byte("report")
	sig, err := rep.Sign(ctx, msg)
	if err != nil || !signing.VerifySM2(rep.Public(), msg, sig) || signing.VerifySM2(auth.Public(), msg, sig) {
		t.Fatalf("report signature: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "service.key"))
	if !strings.HasPrefix(string(b), "-----BEGIN ENCRYPTED PRIVATE KEY-----") {
		t.Fatal("service key not encrypted")
	}

	openssl := testenv.Tool(t, "openssl")
	text, err := exec.Command(openssl, "x509", "-in", filepath.Join(dir, "service.pem"), "-noout", "-text", "-nameopt", "utf8").CombinedOutput()
	if err != nil || !strings.Contains(string(text), "Digital Signature") || strings.Contains(string(text), "Non Repudiation") ||
		!strings.Contains(string(text), signing.VerificationServiceUnit) {
		t.Fatalf("openssl x509: %v\n%s", err, text)
	}
	out, err := exec.Command(openssl, "verify", "-vfyopt", "distid:1234567812345678", "-CAfile", filepath.Join(dir, "root.pem"),
		filepath.Join(dir, "service.pem")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("openssl verify service certificate: %v\n%s", err, out)
	}
}

// TestReportSignerMadeOnceForAnOldStore: a store from before the service
// key gets exactly one, even when processes race for it; without the
// passphrase, or with a wrong one, there is none.
func TestReportSignerMadeOnceForAnOldStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, _ := signing.NewStore(dir, []byte(pass), signing.CAConfig{})
	if err := st.Init(ctx); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "service.pem"))
	os.Remove(filepath.Join(dir, "service.key"))

	locked, _ := signing.NewStore(dir, nil, signing.CAConfig{})
	if _, err := locked.ReportSigner(ctx); err == nil {
		t.Fatal("a store opened without a passphrase made a report signer")
	}
	wrong, _ := signing.NewStore(dir, []byte("a wrong passphrase"), signing.CAConfig{})
	if _, err := wrong.ReportSigner(ctx); err == nil {
		t.Fatal("a wrong passphrase made a report signer")
	}
	if _, err := os.Stat(filepath.Join(dir, "service.pem")); err == nil {
		t.Fatal("a failed attempt left a service certificate")
	}

	const n = 6
	certs := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, _ := signing.NewStore(dir, []byte(pass), signing.CAConfig{})
			rs, err := s.ReportSigner(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			certs[i] = rs.Chain()[0].Raw
		})
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if string(certs[i]) != string(certs[0]) {
			t.Fatal("racing callers made different service keys")
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "service.pem"))
	if blk, _ := pem.Decode(b); blk == nil || string(blk.Bytes) != string(certs[0]) {
		t.Fatal("service.pem is not the certificate returned")
	}
}

func TestDevelopmentStoreHasAReportSigner(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := signing.OpenDevelopment(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "service.pem")); err != nil {
		t.Fatalf("development store made without a service key: %v", err)
	}
	if _, err := st.ReportSigner(ctx); err != nil {
		t.Fatal(err)
	}
}
