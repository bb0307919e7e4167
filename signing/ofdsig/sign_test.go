package ofdsig_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/ofdsig"
	"github.com/ecert/ecert/signing/signtest"
	"github.com/emmansun/gmsm/smx509"
)

var signTime = time.Date(2026, 3, 4, 2, 30, 0, 0, time.UTC)

func makeSeal(t testing.TB, ca *signtest.CA) []byte {
	t.Helper()
	seal, err := ofdsig.MakeSeal(context.Background(), ca.Signer, ofdsig.SealSpec{
		ESID: "21000000000001", Name: "辽宁省住房和城乡建设厅电子证照专用章", PNG: signtest.SealPNG(t),
		WidthMM: 40, HeightMM: 40, Created: signTime.Add(-time.Hour), ValidStart: signTime.Add(-time.Hour), ValidEnd: signTime.AddDate(3, 0, 0),
		Holders: []*smx509.Certificate{ca.Signer.Chain()[0]},
	})
	if err != nil {
		t.Fatal(err)
	}
	return seal
}

func unzip(t testing.TB, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

func TestSignLayoutAndOpenSSL(t *testing.T) {
	ca := signtest.NewCA(t, signTime)
	seal := makeSeal(t, ca)
	out, err := ofdsig.Sign(context.Background(), signtest.OFD(t), ca.Signer, seal, ofdsig.Options{
		Time: signTime, Boundary: [4]float64{140, 230, 40, 40},
		Metadata: map[string]string{signing.MetaUsageValidFrom: "2026-03-04", signing.MetaUsageValidUntil: "2026-08-30"},
	})
	if err != nil {
		t.Fatal(err)
	}
	files := unzip(t, out)
	for _, f := range signtest.OFDFiles {
		if f.Name == "OFD.xml" {
			continue
		}
		if !bytes.Equal(files[f.Name], []byte(f.Body)) {
			t.Errorf("%s changed by signing", f.Name)
		}
	}
	ofdXML := string(files["OFD.xml"])
	for _, want := range []string{`<ofd:Signatures>/Doc_0/Signs/Signatures.xml</ofd:Signatures></ofd:DocBody>`,
		`<ofd:CustomDatas><ofd:CustomData Name="ecert.usageValidFrom">2026-03-04</ofd:CustomData><ofd:CustomData Name="ecert.usageValidUntil">2026-08-30</ofd:CustomData></ofd:CustomDatas></ofd:DocInfo>`} {
		if !strings.Contains(ofdXML, want) {
			t.Errorf("OFD.xml lacks %s:\n%s", want, ofdXML)
		}
	}
	sigXML := files["Doc_0/Signs/Sign_0/Signature.xml"]
	var sx ofdsig.SignatureXML
	if err := ofdsig.ParseXML(sigXML, &sx); err != nil {
		t.Fatal(err)
	}
	if len(sx.SignedInfo.References.Reference) != len(signtest.OFDFiles)+1 { // + Signatures.xml
		t.Errorf("%d references", len(sx.SignedInfo.References.Reference))
	}
	for _, ref := range sx.SignedInfo.References.Reference {
		b := files[strings.TrimPrefix(ref.FileRef, "/")]
		if ref.CheckValue != base64.StdEncoding.EncodeToString(signing.SM3(b)) {
			t.Errorf("reference %s: wrong digest", ref.FileRef)
		}
	}
	if a := sx.SignedInfo.StampAnnots; len(a) != 1 || a[0].PageRef != "1" || a[0].Boundary != "140 230 40 40" {
		t.Errorf("StampAnnot = %+v", a)
	}
	sv, err := ofdsig.ParseSignatureValue(files["Doc_0/Signs/Sign_0/SignedValue.dat"])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sv.Seal.Raw, seal) || sv.PropertyInfo != "/Doc_0/Signs/Sign_0/Signature.xml" || sv.Version != 4 {
		t.Errorf("signature value: version %d, property %q, seal embedded exactly: %v", sv.Version, sv.PropertyInfo, bytes.Equal(sv.Seal.Raw, seal))
	}
	if sv.Seal.Picture.Type != "png" || sv.Seal.Picture.Width != 40 {
		t.Errorf("picture %s %d", sv.Seal.Picture.Type, sv.Seal.Picture.Width)
	}

	// OpenSSL: dataHash is SM3(Signature.xml); the SM2 signature over
	// TBS_Sign and the maker's over the seal info verify with the default id.
	openssl := testenv.Tool(t, "openssl")
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	os.WriteFile(p("Signature.xml"), sigXML, 0o644)
	md, err := exec.Command(openssl, "dgst", "-sm3", "-binary", p("Signature.xml")).Output()
	if err != nil || !bytes.Equal(md, sv.DataHash) {
		t.Fatalf("openssl SM3(Signature.xml) %x != dataHash %x (%v)", md, sv.DataHash, err)
	}
	writeCert(t, p("signer.pem"), sv.Cert)
	if o, err := exec.Command(openssl, "x509", "-in", p("signer.pem"), "-pubkey", "-noout", "-out", p("pub.pem")).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, o)
	}
	for name, pair := range map[string][2][]byte{"TBS_Sign": {sv.TBSRaw, sv.Signature}, "SES_SealInfo": {sv.Seal.InfoRaw, sv.Seal.Signature}} {
		os.WriteFile(p("msg"), pair[0], 0o644)
		os.WriteFile(p("sig"), pair[1], 0o644)
		o, err := exec.Command(openssl, "pkeyutl", "-verify", "-pubin", "-inkey", p("pub.pem"), "-rawin", "-digest", "sm3",
			"-pkeyopt", "distid:1234567812345678", "-in", p("msg"), "-sigfile", p("sig")).CombinedOutput()
		if err != nil || !bytes.Contains(o, []byte("Signature Verified Successfully")) {
			t.Errorf("openssl rejects the %s signature: %v %s", name, err, o)
		}
	}
	// The whole SignedValue.dat is well-formed DER to OpenSSL's parser.
	os.WriteFile(p("SignedValue.dat"), files["Doc_0/Signs/Sign_0/SignedValue.dat"], 0o644)
	if o, err := exec.Command(openssl, "asn1parse", "-inform", "DER", "-in", p("SignedValue.dat")).CombinedOutput(); err != nil {
		t.Errorf("openssl asn1parse: %v %s", err, o)
	}
}

func writeCert(t testing.TB, path string, c *smx509.Certificate) {
	t.Helper()
	b := "-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(c.Raw) + "\n-----END CERTIFICATE-----\n"
	// PEM lines must be at most 64 characters for some readers; OpenSSL accepts long lines.
	os.WriteFile(path, []byte(b), 0o644)
}

func TestSignRefusesSignedPackage(t *testing.T) {
	ca := signtest.NewCA(t, signTime)
	seal := makeSeal(t, ca)
	opts := ofdsig.Options{Time: signTime, Boundary: [4]float64{1, 1, 40, 40}}
	out, err := ofdsig.Sign(context.Background(), signtest.OFD(t), ca.Signer, seal, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ofdsig.Sign(context.Background(), out, ca.Signer, seal, opts); err == nil {
		t.Fatal("signing a signed package twice succeeded")
	}
}

// mapContainer is a Container over a map, for SignContainer.
type mapContainer struct {
	names []string
	files map[string][]byte
}

func (m *mapContainer) File(n string) ([]byte, bool) { b, ok := m.files[n]; return b, ok }
func (m *mapContainer) Add(n string, b []byte) error {
	if _, ok := m.files[n]; ok {
		return fmt.Errorf("%s exists", n)
	}
	m.names = append(m.names, n)
	m.files[n] = b
	return nil
}
func (m *mapContainer) Replace(n string, b []byte) error {
	if _, ok := m.files[n]; !ok {
		return fmt.Errorf("%s missing", n)
	}
	m.files[n] = b
	return nil
}

// SignContainer on the unzipped files gives the same signature files as Sign on the zip.
func TestSignContainerMatchesSign(t *testing.T) {
	ctx := context.Background()
	ca := signtest.NewCA(t, signTime)
	seal := makeSeal(t, ca)
	doc := signtest.OFD(t)
	opts := ofdsig.Options{Time: signTime, Boundary: [4]float64{10, 10, 40, 40}, Metadata: map[string]string{"ecert.kind": "original"}}
	zipped, err := ofdsig.Sign(ctx, doc, ca.Signer, seal, opts)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := ofdsig.ReadPackage(doc, ofdsig.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	c := &mapContainer{names: append([]string(nil), pkg.Names...), files: map[string][]byte{}}
	for n, b := range pkg.Files {
		c.files[n] = b
	}
	if err := ofdsig.SignContainer(ctx, c, pkg.Names, ca.Signer, seal, opts); err != nil {
		t.Fatal(err)
	}
	signed, err := ofdsig.ReadPackage(zipped, ofdsig.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(signed.Files) != len(c.files) {
		t.Fatalf("%d files after Sign, %d after SignContainer", len(signed.Files), len(c.files))
	}
	for n, b := range signed.Files {
		if n == "Doc_0/Signs/Sign_0/SignedValue.dat" {
			continue // SM2 signatures are randomised
		}
		if !bytes.Equal(b, c.files[n]) {
			t.Errorf("%s differs between Sign and SignContainer", n)
		}
	}
}

// A good seal is remembered so that it is not parsed for every signature;
// a broken one is still refused afterwards, and the good one still works.
func TestSignRefusesBrokenSealAfterGoodOne(t *testing.T) {
	ca := signtest.NewCA(t, signTime)
	seal := makeSeal(t, ca)
	opts := ofdsig.Options{Time: signTime, Boundary: [4]float64{1, 1, 40, 40}}
	if _, err := ofdsig.Sign(context.Background(), signtest.OFD(t), ca.Signer, seal, opts); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"truncated":   seal[:len(seal)/2],
		"empty":       nil,
		"not a seal":  []byte("0\x03\x02\x01\x01"),
		"extra bytes": append(bytes.Clone(seal), 0),
	} {
		if _, err := ofdsig.Sign(context.Background(), signtest.OFD(t), ca.Signer, bad, opts); err == nil {
			t.Errorf("%s seal accepted", name)
		}
	}
	if _, err := ofdsig.Sign(context.Background(), signtest.OFD(t), ca.Signer, seal, opts); err != nil {
		t.Fatal(err)
	}
}
