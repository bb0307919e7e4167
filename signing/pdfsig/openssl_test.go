package pdfsig_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/cms"
	"github.com/ecert/ecert/signing/pdfsig"
	"github.com/ecert/ecert/signing/signtest"
	"github.com/ecert/ecert/signing/verify"
	"github.com/emmansun/gmsm/smx509"
)

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(name), args, err, out)
	}
	return string(out)
}

// TestOpenSSLAcceptsOurSignature checks what we produce with an
// implementation we did not write: the certificates (x509 -text, verify
// with the SM2 distinguishing id), the raw SM2 signature over the signed
// attributes (pkeyutl -verify) and the messageDigest (dgst -sm3).
func TestOpenSSLAcceptsOurSignature(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	ca := signtest.NewCA(t, time.Now())
	_, out := signed(t, ca, pdfsig.Options{Time: time.Now()})
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	issuer := ca.Signer.Chain()[0]
	writePEM(t, p("root.pem"), "CERTIFICATE", ca.Root.Raw)
	writePEM(t, p("issuer.pem"), "CERTIFICATE", issuer.Raw)

	// Certificates.
	text := run(t, openssl, "x509", "-in", p("issuer.pem"), "-noout", "-text", "-nameopt", "utf8")
	for _, want := range []string{"SM2-with-SM3", "Digital Signature, Non Repudiation", "CN=" + signing.DefaultAuthorityName, "C=CN"} {
		if !bytes.Contains([]byte(text), []byte(want)) {
			t.Errorf("openssl x509 -text lacks %q:\n%s", want, text)
		}
	}
	rootText := run(t, openssl, "x509", "-in", p("root.pem"), "-noout", "-text")
	for _, want := range []string{"CA:TRUE", "Certificate Sign, CRL Sign"} {
		if !bytes.Contains([]byte(rootText), []byte(want)) {
			t.Errorf("root lacks %q:\n%s", want, rootText)
		}
	}
	// Each link: root self-signature, then issuer under root.
	run(t, openssl, "verify", "-vfyopt", "distid:1234567812345678", "-CAfile", p("root.pem"), p("root.pem"))
	if o := run(t, openssl, "verify", "-vfyopt", "distid:1234567812345678", "-CAfile", p("root.pem"), p("issuer.pem")); !bytes.Contains([]byte(o), []byte("OK")) {
		t.Fatalf("openssl verify: %s", o)
	}
	// Without the distinguishing id OpenSSL must reject it: proves the id is what makes it pass.
	if o, err := exec.Command(openssl, "verify", "-CAfile", p("root.pem"), p("issuer.pem")).CombinedOutput(); err == nil {
		t.Fatalf("openssl verify without distid unexpectedly passed: %s", o)
	}

	// Raw signature over the signed attributes as a SET.
	sig, err := pdfsig.Extract(out)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := cms.Parse(sig.Contents)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p("attrs.der"), sd.SignedAttrs, 0o644)
	os.WriteFile(p("sig.der"), sd.Signature, 0o644)
	os.WriteFile(p("cms.der"), sig.Contents, 0o644)
	run(t, openssl, "x509", "-in", p("issuer.pem"), "-pubkey", "-noout", "-out", p("pub.pem"))
	o := run(t, openssl, "pkeyutl", "-verify", "-pubin", "-inkey", p("pub.pem"), "-rawin", "-digest", "sm3",
		"-pkeyopt", "distid:1234567812345678", "-in", p("attrs.der"), "-sigfile", p("sig.der"))
	if !bytes.Contains([]byte(o), []byte("Signature Verified Successfully")) {
		t.Fatalf("pkeyutl: %s", o)
	}
	// The signature does not verify over the [0]-tagged form: guards the SET re-tagging.
	implicit := append([]byte{0xA0}, sd.SignedAttrs[1:]...)
	os.WriteFile(p("attrs-implicit.der"), implicit, 0o644)
	if o, err := exec.Command(openssl, "pkeyutl", "-verify", "-pubin", "-inkey", p("pub.pem"), "-rawin", "-digest", "sm3",
		"-pkeyopt", "distid:1234567812345678", "-in", p("attrs-implicit.der"), "-sigfile", p("sig.der")).CombinedOutput(); err == nil {
		t.Fatalf("signature verified over the [0] form: %s", o)
	}

	// messageDigest = SM3 of the two byte ranges.
	parts := sig.SignedParts(out)
	os.WriteFile(p("signed-content"), append(append([]byte{}, parts[0]...), parts[1]...), 0o644)
	run(t, openssl, "dgst", "-sm3", "-binary", "-out", p("md.bin"), p("signed-content"))
	md, _ := os.ReadFile(p("md.bin"))
	if !bytes.Equal(md, sd.MessageDigest) || len(md) != 32 {
		t.Fatalf("openssl SM3 %x != messageDigest %x", md, sd.MessageDigest)
	}
	// Structure: OpenSSL's CMS parser reads it and names the algorithms.
	cmsText := run(t, openssl, "cms", "-cmsout", "-print", "-inform", "DER", "-in", p("cms.der"))
	for _, want := range []string{"pkcs7-signedData", "sm3", "SM2-with-SM3", "messageDigest", "signingTime"} {
		if !bytes.Contains([]byte(cmsText), []byte(want)) {
			t.Errorf("openssl cms -print lacks %q", want)
		}
	}
}

// opensslSigner is a Signer whose key and certificate OpenSSL made and
// whose signatures OpenSSL computes (pkeyutl -sign).
type opensslSigner struct {
	t       testing.TB
	openssl string
	dir     string
	cert    *smx509.Certificate
}

func (s *opensslSigner) Public() *ecdsa.PublicKey     { return s.cert.PublicKey.(*ecdsa.PublicKey) }
func (s *opensslSigner) Chain() []*smx509.Certificate { return []*smx509.Certificate{s.cert} }
func (s *opensslSigner) Sign(_ context.Context, msg []byte) ([]byte, error) {
	in := filepath.Join(s.dir, "msg")
	outf := filepath.Join(s.dir, "msg.sig")
	if err := os.WriteFile(in, msg, 0o600); err != nil {
		return nil, err
	}
	run(s.t, s.openssl, "pkeyutl", "-sign", "-inkey", filepath.Join(s.dir, "key.pem"), "-rawin", "-digest", "sm3",
		"-pkeyopt", "distid:1234567812345678", "-in", in, "-out", outf)
	return os.ReadFile(outf)
}

// TestVerifierAcceptsOpenSSLSignature: key, self-signed certificate and
// every signature value made by OpenSSL; our verifier must accept them.
func TestVerifierAcceptsOpenSSLSignature(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	dir := t.TempDir()
	run(t, openssl, "genpkey", "-algorithm", "SM2", "-out", filepath.Join(dir, "key.pem"))
	run(t, openssl, "req", "-x509", "-new", "-key", filepath.Join(dir, "key.pem"), "-sm3", "-sigopt", "distid:1234567812345678",
		"-subj", "/CN=OpenSSL SM2 Test/O=Interop/C=CN", "-days", "30",
		"-addext", "keyUsage=critical,digitalSignature,nonRepudiation,keyCertSign",
		"-out", filepath.Join(dir, "cert.pem"))
	pemBytes, _ := os.ReadFile(filepath.Join(dir, "cert.pem"))
	certs, err := signing.ReadCertificatesPEM(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	cert := certs[0]
	// The certificate's own SM2 self-signature (made by OpenSSL) verifies.
	if err := cert.CheckSignatureFrom(cert); err != nil {
		t.Fatalf("OpenSSL self-signed SM2 certificate: %v", err)
	}
	s := &opensslSigner{t: t, openssl: openssl, dir: dir, cert: cert}
	// A bare message signed by OpenSSL.
	msg := []byte("签名互操作 interop message")
	sigv, _ := s.Sign(context.Background(), msg)
	if !signing.VerifySM2(s.Public(), msg, sigv) {
		t.Fatal("VerifySM2 rejects an OpenSSL SM2 signature")
	}
	if signing.VerifySM2(s.Public(), append(msg, '!'), sigv) {
		t.Fatal("VerifySM2 accepts a signature over a different message")
	}
	// A whole signed PDF whose signature value OpenSSL computed.
	orig := signtest.PDF(t)
	now := time.Now()
	out, err := pdfsig.Sign(context.Background(), orig, s, pdfsig.Options{Time: now, Rect: [4]float64{400, 80, 520, 200}})
	if err != nil {
		t.Fatal(err)
	}
	rep := verify.PDF(out, verify.Options{Roots: []*smx509.Certificate{cert}, Now: func() time.Time { return now }})
	if !rep.OK {
		t.Fatalf("our verifier rejects an OpenSSL-made signature: %+v", rep.Checks)
	}
}
