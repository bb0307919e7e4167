package pdfsig_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

var signTime = time.Date(2026, 3, 4, 10, 30, 0, 0, time.FixedZone("CST", 8*3600))

func signed(t testing.TB, ca *signtest.CA, opts pdfsig.Options) (orig, out []byte) {
	t.Helper()
	orig = signtest.PDF(t)
	if opts.Time.IsZero() {
		opts.Time = signTime
	}
	if opts.Rect == [4]float64{} {
		opts.Rect = [4]float64{400, 80, 520, 200}
	}
	out, err := pdfsig.Sign(context.Background(), orig, ca.Signer, opts)
	if err != nil {
		t.Fatal(err)
	}
	return orig, out
}

func TestSignAppendsOnlyAndVerifies(t *testing.T) {
	ca := signtest.NewCA(t, signTime)
	ap, err := pdfsig.NewAppearance(signtest.SealPNG(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []cms.Profile{cms.ProfilePKCS7, cms.ProfileGMT0010} {
		orig, out := signed(t, ca, pdfsig.Options{Appearance: ap, Reason: "电子证照签发", Location: "沈阳", Profile: p,
			Metadata: map[string]string{signing.MetaCertificateNo: "辽1232026000123"}})
		if !bytes.HasPrefix(out, orig) {
			t.Fatal("signed file does not start with the original bytes")
		}
		rep := verify.PDF(out, verify.Options{Roots: []*smx509.Certificate{ca.Root}, Now: func() time.Time { return signTime }})
		if !rep.OK {
			t.Fatalf("profile %d: report not OK: %+v", p, rep.Checks)
		}
		if rep.Metadata[signing.MetaCertificateNo] != "辽1232026000123" {
			t.Errorf("metadata = %v", rep.Metadata)
		}
		if rep.Signer == "" || !strings.Contains(rep.Signer, signing.DefaultAuthorityName) {
			t.Errorf("signer = %q", rep.Signer)
		}
	}
}

func TestSignedPDFPassesQPDFAndPdftotext(t *testing.T) {
	qpdf := testenv.Tool(t, "qpdf")
	pdftotext := testenv.Tool(t, "pdftotext")
	ca := signtest.NewCA(t, signTime)
	ap, _ := pdfsig.NewAppearance(signtest.SealPNG(t))
	_, out := signed(t, ca, pdfsig.Options{Appearance: ap})
	dir := t.TempDir()
	f := filepath.Join(dir, "signed.pdf")
	os.WriteFile(f, out, 0o644)
	if b, err := exec.Command(qpdf, "--check", f).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, b)
	} else if !bytes.Contains(b, []byte("No syntax or stream encoding errors")) {
		t.Fatalf("qpdf --check output:\n%s", b)
	}
	txt, err := exec.Command(pdftotext, f, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, txt)
	}
	for _, want := range []string{"Registration certificate No. LN-2026-000123", "Valid until 2029-12-31"} {
		if !bytes.Contains(txt, []byte(want)) {
			t.Errorf("pdftotext lost %q:\n%s", want, txt)
		}
	}
	// poppler's pdfsig has no SM2 but checks the byte range covers the file.
	if pdfsigTool, err := exec.LookPath("pdfsig"); err == nil {
		b, _ := exec.Command(pdfsigTool, f).CombinedOutput()
		if bytes.Contains(b, []byte("Not total document signed")) {
			t.Errorf("poppler pdfsig: %s", b)
		}
		if !bytes.Contains(b, []byte("Signature #1")) {
			t.Errorf("poppler pdfsig found no signature:\n%s", b)
		}
	}
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}
