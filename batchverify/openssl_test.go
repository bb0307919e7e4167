package batchverify_test

import (
	"bytes"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecert/ecert/batchverify"
	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/signing/cms"
	"github.com/ecert/ecert/signing/pdfsig"
)

// TestOpenSSLAcceptsTheReportSignature checks a signed report with an
// implementation we did not write: the service certificate under the root
// (openssl verify with the SM2 id), the raw SM2 signature over the signed
// attributes (pkeyutl -verify) with the service's public key, not the
// authority's, and the messageDigest (dgst -sm3 over the byte ranges).
func TestOpenSSLAcceptsTheReportSignature(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	k := testKeys(t)
	_, rep := report(t, k, []batchverify.File{{Name: "good.pdf", Data: certificate(t, k)}})
	sig, err := pdfsig.Extract(rep)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := cms.Parse(sig.Contents)
	if err != nil {
		t.Fatal(err)
	}
	if !sd.Signer.Equal(k.report.Chain()[0]) {
		t.Fatalf("the report's signer is %q, not the verification service", sd.Signer.Subject.CommonName)
	}
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	write := func(name string, b []byte) {
		if err := os.WriteFile(p(name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	certPEM := func(der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}) }
	write("root.pem", certPEM(k.roots[0].Raw))
	write("service.pem", certPEM(sd.Signer.Raw))
	write("authority.pem", certPEM(k.auth.Chain()[0].Raw))
	write("attrs.der", sd.SignedAttrs)
	write("sig.der", sd.Signature)
	write("content", bytes.Join(sig.SignedParts(rep), nil))
	run := func(args ...string) (string, error) {
		out, err := exec.Command(openssl, args...).CombinedOutput()
		return string(out), err
	}
	if out, err := run("verify", "-vfyopt", "distid:1234567812345678", "-CAfile", p("root.pem"), p("service.pem")); err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("openssl verify: %v %s", err, out)
	}
	for _, who := range []string{"service", "authority"} {
		if out, err := run("x509", "-in", p(who+".pem"), "-pubkey", "-noout", "-out", p(who+"-pub.pem")); err != nil {
			t.Fatalf("openssl x509: %v %s", err, out)
		}
	}
	verifyWith := func(who string) (string, error) {
		return run("pkeyutl", "-verify", "-pubin", "-inkey", p(who+"-pub.pem"), "-rawin", "-digest", "sm3",
			"-pkeyopt", "distid:1234567812345678", "-in", p("attrs.der"), "-sigfile", p("sig.der"))
	}
	if out, err := verifyWith("service"); err != nil || !strings.Contains(out, "Signature Verified Successfully") {
		t.Fatalf("pkeyutl with the service key: %v %s", err, out)
	}
	if out, err := verifyWith("authority"); err == nil {
		t.Fatalf("the report's signature verified with the authority's key: %s", out)
	}
	md, err := run("dgst", "-sm3", "-binary", p("content"))
	if err != nil || !bytes.Equal([]byte(md), sd.MessageDigest) {
		t.Fatalf("openssl SM3 of the byte ranges differs from the signed messageDigest: %v", err)
	}
}
