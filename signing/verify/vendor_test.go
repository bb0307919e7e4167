package verify_test

import (
	"bytes"
	"context"
	"encoding/asn1"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/signtest"
	"github.com/ecert/ecert/signing/verify"
)

// vendorCorpus lists the real third-party sealed OFDs in testdata/vendor
// (sources and licences in its README).
var vendorCorpus = []struct {
	file       string
	signatures int
	notCovered []string
}{
	{"ofdrw-v4signed.ofd", 1, nil},
	{"ofdrw-signedFile.ofd", 1, nil},
	{"ofdrw-converter-1.ofd", 1, nil},
	{"ofdrw-SignScaleError.ofd", 1, nil},
	{"ofdrw-draw_param_ref.ofd", 1, []string{"Doc_0/TPLS/TPL_0/Content.xml", "Doc_0/TPLS/TPL_1/Content.xml"}},
	{"ofdjs-999.ofd", 1, []string{"OFD.xml"}},
	{"ofdjs-h.ofd", 2, nil},
}

var vendorOpts = verify.Options{Now: func() time.Time { return signTime }}

func vendorFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "vendor", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVendorCorpus: every check but the chain (foreign roots) passes on
// each real vendor file; each signature is reported with what it covers;
// files a seal leaves out are a warning, listed in NotCovered.
func TestVendorCorpus(t *testing.T) {
	for _, c := range vendorCorpus {
		t.Run(c.file, func(t *testing.T) {
			r := verify.OFD(vendorFile(t, c.file), vendorOpts)
			for _, ch := range r.Checks {
				if ch.Name != verify.CheckChain && !ch.OK {
					t.Errorf("%s failed: %s", ch.Name, ch.Reason)
				}
			}
			if ch, ok := r.Check(verify.CheckChain); !ok || ch.OK || ch.Status != verify.StatusNotChecked {
				t.Errorf("chain = %+v, want not checked (no trusted root)", ch)
			}
			if len(r.Signatures) != c.signatures {
				t.Fatalf("%d signature reports, want %d", len(r.Signatures), c.signatures)
			}
			for i, s := range r.Signatures {
				if s.Index != i+1 || s.ID == "" || s.File == "" || len(s.Files) == 0 || s.Signer == "" || s.Seal == "" {
					t.Errorf("signature report %d incomplete: %+v", i+1, s)
				}
			}
			if !slices.Equal(r.NotCovered, c.notCovered) {
				t.Errorf("not covered %q, want %q", r.NotCovered, c.notCovered)
			}
			if len(c.notCovered) > 0 && !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, "not covered by any signature") }) {
				t.Errorf("no warning about uncovered files: %q", r.Warnings)
			}
		})
	}
}

// TestVendorCorpusTamper: one changed byte in a file each vendor seal
// lists fails integrity, named as changed.
func TestVendorCorpusTamper(t *testing.T) {
	for _, c := range vendorCorpus {
		t.Run(c.file, func(t *testing.T) {
			doc := vendorFile(t, c.file)
			r := verify.OFD(doc, vendorOpts)
			for _, s := range r.Signatures {
				target := s.Files[len(s.Files)/2]
				if strings.HasSuffix(target, "Signatures.xml") {
					target = s.Files[0]
				}
				bad := rezip(t, doc, func(n string, b []byte) ([]byte, bool) {
					if n == target {
						b = bytes.Clone(b)
						b[len(b)/2] ^= 0x01
					}
					return b, true
				}, nil)
				r := verify.OFD(bad, vendorOpts)
				wantFail(t, r, verify.CheckIntegrity)
				if ch, _ := r.Check(verify.CheckIntegrity); !strings.Contains(ch.Reason, "changed") || !strings.Contains(ch.Reason, target) {
					t.Errorf("signature %d, %s flipped: integrity says %q", s.Index, target, ch.Reason)
				}
			}
		})
	}
}

// SES_Seal v4 as a vendor writes it, for seals ofdsig.MakeSeal does not make.
type (
	vendorHeader struct {
		ID      string `asn1:"ia5"`
		Version int
		VID     string `asn1:"ia5"`
	}
	vendorProperty struct {
		Type                             int
		Name                             string `asn1:"utf8"`
		CertListType                     int
		CertList                         [][]byte
		CreateDate, ValidStart, ValidEnd time.Time `asn1:"generalized"`
	}
	vendorPicture struct {
		Type          string `asn1:"ia5"`
		Data          []byte
		Width, Height int
	}
	vendorSealInfo struct {
		Header   vendorHeader
		ESID     string `asn1:"ia5"`
		Property vendorProperty
		Picture  vendorPicture
	}
	vendorSeal struct {
		SealInfo    asn1.RawValue
		Cert        []byte
		SignAlgID   asn1.ObjectIdentifier
		SignedValue asn1.BitString
	}
)

// vendorSealDER is a seal by ca for ca's signer with the given certListType.
func vendorSealDER(t *testing.T, ca *signtest.CA, certListType int) []byte {
	info, err := asn1.Marshal(vendorSealInfo{
		Header: vendorHeader{"ES", 4, "OES"}, ESID: "91110000000000000X",
		Property: vendorProperty{Type: 1, Name: "百望测试章", CertListType: certListType, CertList: [][]byte{ca.Signer.Chain()[0].Raw},
			CreateDate: signTime.AddDate(-1, 0, 0).UTC(), ValidStart: signTime.AddDate(-1, 0, 0).UTC(), ValidEnd: signTime.AddDate(1, 0, 0).UTC()},
		Picture: vendorPicture{"png", signtest.SealPNG(t), 40, 40},
	})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := ca.Signer.Sign(context.Background(), info)
	if err != nil {
		t.Fatal(err)
	}
	seal, err := asn1.Marshal(vendorSeal{asn1.RawValue{FullBytes: info}, ca.Signer.Chain()[0].Raw, signing.OIDSM2WithSM3, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
	if err != nil {
		t.Fatal(err)
	}
	return seal
}

// trimSignature re-signs the SES_Signature in doc until its DER signature
// ends in a zero byte, and stores it with that byte trimmed from the BIT
// STRING, as some vendor encoders do.
func trimSignature(t *testing.T, f *fixture, doc []byte) []byte {
	const name = "Doc_0/Signs/Sign_0/SignedValue.dat"
	var orig []byte
	rezip(t, doc, func(n string, b []byte) ([]byte, bool) {
		if n == name {
			orig = b
		}
		return b, true
	}, nil)
	var outer asn1.RawValue
	if _, err := asn1.Unmarshal(orig, &outer); err != nil {
		t.Fatal(err)
	}
	var els []asn1.RawValue
	for rest := outer.Bytes; len(rest) > 0; {
		var e asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &e); err != nil {
			t.Fatal(err)
		}
		els = append(els, e)
	}
	var sig []byte
	for i := 0; len(sig) == 0 || sig[len(sig)-1] != 0; i++ {
		if i > 20000 {
			t.Fatal("no signature ending in a zero byte")
		}
		sig, _ = f.ca.Signer.Sign(context.Background(), els[0].FullBytes)
	}
	els[3] = asn1.RawValue{Tag: asn1.TagBitString, Bytes: append([]byte{0}, sig[:len(sig)-1]...)}
	var body []byte
	for _, e := range els[:3] {
		body = append(body, e.FullBytes...)
	}
	bs, _ := asn1.Marshal(els[3])
	value, _ := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: append(body, bs...)})
	return rezip(t, doc, func(n string, b []byte) ([]byte, bool) {
		if n == name {
			return value, true
		}
		return b, true
	}, nil)
}

// TestVendorVariations: seal variations of §11 seen in vendor files,
// built on our own signatures, verify as the originals would.
func TestVendorVariations(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name string
		doc  func(t *testing.T) []byte
	}{
		{"certListType 3 (BaiWang OES)", func(t *testing.T) []byte { return f.ofd(t, f.ca.Signer, vendorSealDER(t, f.ca, 3), nil) }},
		{"signature BIT STRING with a trailing zero byte trimmed (Suwell)", func(t *testing.T) []byte {
			return trimSignature(t, f, f.ofd(t, f.ca.Signer, f.seal, nil))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r := verify.OFD(c.doc(t), f.opts); !r.OK {
				t.Fatalf("%+v", r.Checks)
			}
		})
	}
}

// TestOFDSignatureReport: our own OFD reports its one signature with every
// file it covers; a file added after signing fails integrity as not
// covered, a changed one as changed.
func TestOFDSignatureReport(t *testing.T) {
	f := newFixture(t)
	doc := f.ofd(t, f.ca.Signer, f.seal, nil)
	r := verify.OFD(doc, f.opts)
	if !r.OK || len(r.Signatures) != 1 {
		t.Fatalf("%+v", r)
	}
	s := r.Signatures[0]
	if s.ID != "1" || s.File != "Doc_0/Signs/Sign_0/Signature.xml" || !s.OK || s.Trust == nil ||
		!slices.Contains(s.Files, "OFD.xml") || !slices.Contains(s.Files, "Doc_0/Pages/Page_0/Content.xml") {
		t.Fatalf("signature report %+v", s)
	}
	same := func(n string, b []byte) ([]byte, bool) { return b, true }
	added := verify.OFD(rezip(t, doc, same, map[string][]byte{"Doc_0/Res/extra.png": []byte("x")}), f.opts)
	wantFail(t, added, verify.CheckIntegrity)
	if c, _ := added.Check(verify.CheckIntegrity); !strings.Contains(c.Reason, "not covered by any signature: Doc_0/Res/extra.png") {
		t.Fatalf("integrity %q", c.Reason)
	}
	changed := verify.OFD(rezip(t, doc, func(n string, b []byte) ([]byte, bool) {
		if n == "OFD.xml" {
			return append(bytes.Clone(b), ' '), true
		}
		return b, true
	}, nil), f.opts)
	if c, _ := changed.Check(verify.CheckIntegrity); c.OK || !strings.Contains(c.Reason, "changed (SM3 differs from the signed digest): OFD.xml") {
		t.Fatalf("integrity %q", c.Reason)
	}
}
