// Package signtest builds the inputs the signing tests need: a throwaway
// SM2 CA with an issuing-authority signer, a gopdf PDF, and a small OFD
// package. It is for tests only.
package signtest

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"image"
	"image/color"
	"image/png"
	"math/big"
	"testing"
	"time"

	"github.com/ecert/ecert/signing"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/signintech/gopdf"
	"golang.org/x/image/font/gofont/goregular"
)

// CA is a throwaway root with an issuing-authority signer.
type CA struct {
	RootKey *sm2.PrivateKey
	Root    *smx509.Certificate
	Signer  *signing.KeySigner
	Key     *sm2.PrivateKey
}

// NewCA makes a root and an issuer valid around now.
func NewCA(t testing.TB, now time.Time) *CA {
	t.Helper()
	cfg := signing.CAConfig{Now: func() time.Time { return now }}
	rk, root, err := signing.NewRootCA(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := signing.NewKeySigner(rk, []*smx509.Certificate{root})
	if err != nil {
		t.Fatal(err)
	}
	ik, icert, err := signing.IssueAuthorityCertificate(context.Background(), rs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := signing.NewKeySigner(ik, []*smx509.Certificate{icert, root})
	if err != nil {
		t.Fatal(err)
	}
	return &CA{RootKey: rk, Root: root, Signer: s, Key: ik}
}

// Issue makes another end-entity signer under this root with the given
// validity window.
func (ca *CA) Issue(t testing.TB, notBefore, notAfter time.Time) *signing.KeySigner {
	t.Helper()
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(notBefore.UnixNano()),
		Subject:      pkix.Name{CommonName: "测试签发机构", Country: []string{"CN"}},
		NotBefore:    notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, ca.Root.ToX509(), &key.PublicKey, ca.RootKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := smx509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	s, err := signing.NewKeySigner(key, []*smx509.Certificate{c, ca.Root})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// PDF renders a two-line A4 page with gopdf, as certgen does.
func PDF(t testing.TB, lines ...string) []byte {
	t.Helper()
	p := gopdf.GoPdf{}
	p.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4})
	p.SetInfo(gopdf.PdfInfo{Title: "Certificate", Author: "ecert", CreationDate: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	p.AddPage()
	if err := p.AddTTFFontData("go", goregular.TTF); err != nil {
		t.Fatal(err)
	}
	if err := p.SetFont("go", "", 14); err != nil {
		t.Fatal(err)
	}
	if len(lines) == 0 {
		lines = []string{"Registration certificate No. LN-2026-000123", "Valid until 2029-12-31"}
	}
	for i, l := range lines {
		p.SetXY(60, 80+float64(i)*24)
		if err := p.Cell(nil, l); err != nil {
			t.Fatal(err)
		}
	}
	p.AddExternalLink("https://example.org/verify", 60, 200, 120, 20)
	b, err := p.GetBytesPdfReturnErr()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// SealPNG draws a 120×120 red ring with a transparent background.
func SealPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 120, 120))
	for y := 0; y < 120; y++ {
		for x := 0; x < 120; x++ {
			dx, dy := x-60, y-60
			d := dx*dx + dy*dy
			if d < 58*58 && d > 52*52 || (dx*dx+dy*dy < 12*12) {
				img.Set(x, y, color.NRGBA{R: 220, A: 255})
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// OFDFiles are the files of the minimal one-page OFD package OFD builds.
var OFDFiles = []struct{ Name, Body string }{
	{"OFD.xml", `<?xml version="1.0" encoding="UTF-8"?>
<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" DocType="OFD" Version="1.0"><ofd:DocBody><ofd:DocInfo><ofd:DocID>0c1f6e3b8a2d4f5e9a7b6c5d4e3f2a1b</ofd:DocID><ofd:Title>二级建造师电子注册证书</ofd:Title><ofd:CreationDate>2026-01-02</ofd:CreationDate></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>`},
	{"Doc_0/Document.xml", `<?xml version="1.0" encoding="UTF-8"?>
<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"><ofd:CommonData><ofd:MaxUnitID>4</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>`},
	{"Doc_0/PublicRes.xml", `<?xml version="1.0" encoding="UTF-8"?>
<ofd:Res xmlns:ofd="http://www.ofdspec.org/2016" BaseLoc="Res"><ofd:Fonts><ofd:Font ID="2" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>`},
	{"Doc_0/Pages/Page_0/Content.xml", `<?xml version="1.0" encoding="UTF-8"?>
<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer ID="3"><ofd:TextObject ID="4" Boundary="30 40 150 10" Font="2" Size="5"><ofd:TextCode X="0" Y="4.5" DeltaX="g 11 5">注册证书编号辽230000001</ofd:TextCode></ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>`},
	{"Doc_0/Res/note.txt", "resource bytes \x00\x01\x02 that must not change"},
}

// OFD zips OFDFiles (deflated) into an unsigned OFD package.
func OFD(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range OFDFiles {
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(f.Body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
