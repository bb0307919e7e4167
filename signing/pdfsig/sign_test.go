package pdfsig_test

import (
	"bytes"
	"context"
	"encoding/asn1"
	"encoding/hex"
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

// contentsPadding returns the CMS in the signature's /Contents and the
// number of bytes reserved after it.
func contentsPadding(t *testing.T, out []byte) (der []byte, pad int) {
	t.Helper()
	i := bytes.LastIndex(out, []byte("/Contents <"))
	if i < 0 {
		t.Fatal("no /Contents")
	}
	hexs := out[i+len("/Contents <"):]
	hexs = hexs[:bytes.IndexByte(hexs, '>')]
	raw := make([]byte, len(hexs)/2)
	if _, err := hex.Decode(raw, hexs); err != nil {
		t.Fatal(err)
	}
	var v asn1.RawValue
	rest, err := asn1.Unmarshal(raw, &v)
	if err != nil {
		t.Fatal(err)
	}
	return v.FullBytes, len(rest)
}

func TestSignReservesWhatTheCMSNeeds(t *testing.T) {
	ca := signtest.NewCA(t, signTime)
	for _, p := range []cms.Profile{cms.ProfilePKCS7, cms.ProfileGMT0010} {
		bound, err := cms.SignedSize(ca.Signer, cms.Options{Profile: p})
		if err != nil {
			t.Fatal(err)
		}
		// SM2 signatures vary in length (DER integers): many signatures,
		// each must fit the bound and leave at most a few bytes unused.
		for i := range 64 {
			_, out := signed(t, ca, pdfsig.Options{Profile: p, Time: signTime.Add(time.Duration(i) * time.Second)})
			der, pad := contentsPadding(t, out)
			if len(der)+pad != bound {
				t.Fatalf("reserved %d bytes, cms.SignedSize says %d", len(der)+pad, bound)
			}
			if pad > cms.MaxSignatureSize-64 {
				t.Fatalf("profile %d: %d bytes reserved but unused after a %d-byte CMS", p, pad, len(der))
			}
		}
	}
	// A larger room stays available for CMS that will grow.
	_, out := signed(t, ca, pdfsig.Options{ContentsSize: 8192})
	if der, pad := contentsPadding(t, out); len(der)+pad != 8192 {
		t.Fatalf("ContentsSize 8192 reserved %d", len(der)+pad)
	}
	// Too small a room is refused, not truncated.
	if _, err := pdfsig.Sign(context.Background(), signtest.PDF(t), ca.Signer, pdfsig.Options{Time: signTime, Rect: [4]float64{400, 80, 520, 200}, ContentsSize: 100}); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("100-byte room: err = %v", err)
	}
}

func TestPageSealStoresNoSecondPicture(t *testing.T) {
	qpdf := testenv.Tool(t, "qpdf")
	ca := signtest.NewCA(t, signTime)
	ap, err := pdfsig.NewAppearance(signtest.SealPNG(t))
	if err != nil {
		t.Fatal(err)
	}
	_, withPicture := signed(t, ca, pdfsig.Options{Appearance: ap})
	orig, out := signed(t, ca, pdfsig.Options{Appearance: pdfsig.PageSeal()})
	added := out[len(orig):]
	if bytes.Contains(added, []byte("/Subtype /Image")) {
		t.Fatal("PageSeal appended an image")
	}
	if !bytes.Contains(added, []byte("/Subtype /Widget /FT /Sig")) || !bytes.Contains(added, []byte("/AP << /N")) {
		t.Fatalf("PageSeal lost the signature widget or its appearance:\n%s", added[:min(len(added), 2000)])
	}
	if !bytes.Contains(withPicture[len(orig):], []byte("/Subtype /Image")) {
		t.Fatal("the picture appearance appended no image: the comparison below means nothing")
	}
	if len(out) >= len(withPicture)-1000 {
		t.Errorf("PageSeal %d bytes, with picture %d", len(out), len(withPicture))
	}
	rep := verify.PDF(out, verify.Options{Roots: []*smx509.Certificate{ca.Root}, Now: func() time.Time { return signTime }})
	if !rep.OK {
		t.Fatalf("report not OK: %+v", rep.Checks)
	}
	f := filepath.Join(t.TempDir(), "signed.pdf")
	if err := os.WriteFile(f, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(qpdf, "--check", f).CombinedOutput(); err != nil || !bytes.Contains(b, []byte("No syntax or stream encoding errors")) {
		t.Fatalf("qpdf --check: %v\n%s", err, b)
	}
}
