package verify_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/ofdsig"
	"github.com/ecert/ecert/signing/pdfsig"
	"github.com/ecert/ecert/signing/signtest"
	"github.com/ecert/ecert/signing/verify"
	"github.com/emmansun/gmsm/smx509"
)

var signTime = time.Date(2026, 3, 4, 10, 30, 0, 0, time.FixedZone("CST", 8*3600))

type fixture struct {
	ca   *signtest.CA
	seal []byte
	opts verify.Options
}

func newFixture(t testing.TB) *fixture {
	ca := signtest.NewCA(t, signTime)
	return &fixture{ca: ca, seal: sealFor(t, ca, ca.Signer), opts: verify.Options{Roots: []*smx509.Certificate{ca.Root}, Now: func() time.Time { return signTime }}}
}

func sealFor(t testing.TB, ca *signtest.CA, holder signing.Signer) []byte {
	seal, err := ofdsig.MakeSeal(context.Background(), ca.Signer, ofdsig.SealSpec{
		ESID: "21000000000001", Name: "辽宁省住房和城乡建设厅电子证照专用章", PNG: signtest.SealPNG(t), WidthMM: 40, HeightMM: 40,
		Created: signTime.AddDate(-1, 0, 0), ValidStart: signTime.AddDate(-1, 0, 0), ValidEnd: signTime.AddDate(3, 0, 0),
		Holders: []*smx509.Certificate{holder.Chain()[0]},
	})
	if err != nil {
		t.Fatal(err)
	}
	return seal
}

func (f *fixture) pdf(t testing.TB, s signing.Signer, meta map[string]string) []byte {
	out, err := pdfsig.Sign(context.Background(), signtest.PDF(t), s, pdfsig.Options{Time: signTime, Rect: [4]float64{400, 80, 520, 200}, Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) ofd(t testing.TB, s signing.Signer, seal []byte, meta map[string]string) []byte {
	out, err := ofdsig.Sign(context.Background(), signtest.OFD(t), s, seal, ofdsig.Options{Time: signTime, Boundary: [4]float64{140, 230, 40, 40}, Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func wantFail(t *testing.T, r *verify.Report, check string) {
	t.Helper()
	if r.OK {
		t.Fatalf("report OK, want %s to fail: %+v", check, r.Checks)
	}
	c, ok := r.Check(check)
	if !ok || c.OK {
		t.Fatalf("check %s = %+v, want a failure; all: %+v", check, c, r.Checks)
	}
}

func TestValidDocumentsPass(t *testing.T) {
	f := newFixture(t)
	meta := copyMeta("2026-03-04", "2026-08-30")
	copyDoc := certificate("2026-03-04", "2026-08-30")
	for name, doc := range map[string][]byte{"pdf": f.rendered(t, "pdf", copyDoc, meta), "ofd": f.rendered(t, "ofd", copyDoc, meta)} {
		r := verify.File(doc, f.opts)
		if !r.OK {
			t.Fatalf("%s: %+v", name, r.Checks)
		}
		if r.Format != name || r.UsageValidFrom != "2026-03-04" || r.UsageValidUntil != "2026-08-30" {
			t.Errorf("%s: format %s usage %s..%s", name, r.Format, r.UsageValidFrom, r.UsageValidUntil)
		}
		for _, c := range []string{verify.CheckSignature, verify.CheckChain, verify.CheckSigningTime, verify.CheckIntegrity, verify.CheckUsage, verify.CheckPrintedUsage} {
			if ch, ok := r.Check(c); !ok || !ch.OK {
				t.Errorf("%s: check %s = %+v", name, c, ch)
			}
		}
		// The same copy after its usage validity has ended.
		late := f.opts
		late.Now = func() time.Time { return time.Date(2026, 8, 31, 0, 30, 0, 0, time.FixedZone("CST", 8*3600)) }
		wantFail(t, verify.File(doc, late), verify.CheckUsage)
	}
}

// TestTamperPDF flips each of 1,000 random bytes of the signed ranges.
func TestTamperPDF(t *testing.T) {
	f := newFixture(t)
	doc := f.pdf(t, f.ca.Signer, nil)
	sig, err := pdfsig.Extract(doc)
	if err != nil {
		t.Fatal(err)
	}
	br := sig.ByteRange
	rng := rand.New(rand.NewPCG(1, 2))
	signedLen := br[1] + br[3]
	for i := 0; i < 1000; i++ {
		k := rng.IntN(signedLen)
		if k >= br[1] {
			k = br[2] + (k - br[1])
		}
		bad := bytes.Clone(doc)
		bad[k] ^= byte(1 + rng.IntN(255))
		r := verify.PDF(bad, f.opts)
		if r.OK {
			t.Fatalf("flip at %d accepted", k)
		}
		if c, ok := r.Check(verify.CheckIntegrity); !ok || c.OK {
			t.Fatalf("flip at %d: integrity = %+v", k, c)
		}
	}
}

func TestPDFAppendedUpdateFails(t *testing.T) {
	f := newFixture(t)
	doc := f.pdf(t, f.ca.Signer, nil)
	// A harmless-looking incremental update: a new Info dictionary.
	upd := fmt.Sprintf("99 0 obj\n<< /Title (changed) >>\nendobj\nxref\n99 1\n%010d 00000 n \ntrailer\n<< /Size 100 /Root 1 0 R /Info 99 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(doc), len(doc)+30)
	wantFail(t, verify.PDF(append(bytes.Clone(doc), upd...), f.opts), verify.CheckIntegrity)
	wantFail(t, verify.PDF(append(bytes.Clone(doc), '\n'), f.opts), verify.CheckIntegrity)
}

func rezip(t testing.TB, doc []byte, edit func(name string, b []byte) ([]byte, bool), add map[string][]byte) []byte {
	zr, err := zip.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, zf := range zr.File {
		rc, _ := zf.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		nb, keep := edit(zf.Name, b)
		if !keep {
			continue
		}
		w, _ := zw.Create(zf.Name)
		w.Write(nb)
	}
	for n, b := range add {
		w, _ := zw.Create(n)
		w.Write(b)
	}
	zw.Close()
	return out.Bytes()
}

// TestTamperOFD flips 1,000 random bytes across the zip entries' contents,
// edits, removes and adds files.
func TestTamperOFD(t *testing.T) {
	f := newFixture(t)
	doc := f.ofd(t, f.ca.Signer, f.seal, nil)
	zr, _ := zip.NewReader(bytes.NewReader(doc), int64(len(doc)))
	var names []string
	sizes := map[string]int{}
	for _, zf := range zr.File {
		names = append(names, zf.Name)
		sizes[zf.Name] = int(zf.UncompressedSize64)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 1000; i++ {
		target := names[rng.IntN(len(names))]
		k := rng.IntN(sizes[target])
		x := byte(1 + rng.IntN(255))
		bad := rezip(t, doc, func(n string, b []byte) ([]byte, bool) {
			if n == target {
				b = bytes.Clone(b)
				b[k] ^= x
			}
			return b, true
		}, nil)
		r := verify.OFD(bad, f.opts)
		if r.OK {
			t.Fatalf("flip in %s at %d accepted", target, k)
		}
	}
	for _, target := range names {
		t.Run("edit "+target, func(t *testing.T) {
			bad := rezip(t, doc, func(n string, b []byte) ([]byte, bool) {
				if n == target {
					return append(bytes.Clone(b), ' '), true
				}
				return b, true
			}, nil)
			r := verify.OFD(bad, f.opts)
			if r.OK {
				t.Fatal("accepted")
			}
		})
		t.Run("remove "+target, func(t *testing.T) {
			r := verify.OFD(rezip(t, doc, func(n string, b []byte) ([]byte, bool) { return b, n != target }, nil), f.opts)
			if r.OK {
				t.Fatal("accepted")
			}
		})
	}
	same := func(n string, b []byte) ([]byte, bool) { return b, true }
	wantFail(t, verify.OFD(rezip(t, doc, same, map[string][]byte{"Doc_0/Res/extra.png": []byte("x")}), f.opts), verify.CheckIntegrity)
	// Re-zipping without changes keeps it valid: the checks are about content, not zip bytes.
	if r := verify.OFD(rezip(t, doc, same, nil), f.opts); !r.OK {
		t.Fatalf("unchanged re-zip rejected: %+v", r.Checks)
	}
	// Editing a protected file is an integrity failure specifically.
	wantFail(t, verify.OFD(rezip(t, doc, func(n string, b []byte) ([]byte, bool) {
		if n == "Doc_0/Pages/Page_0/Content.xml" {
			return bytes.Replace(b, []byte("辽230000001"), []byte("辽230000002"), 1), true
		}
		return b, true
	}, nil), f.opts), verify.CheckIntegrity)
}

func TestUntrustedRootFailsChain(t *testing.T) {
	f := newFixture(t)
	other := signtest.NewCA(t, signTime)
	wantFail(t, verify.PDF(f.pdf(t, other.Signer, nil), f.opts), verify.CheckChain)
	wantFail(t, verify.OFD(f.ofd(t, other.Signer, sealFor(t, other, other.Signer), nil), f.opts), verify.CheckChain)
	// No root configured at all.
	wantFail(t, verify.PDF(f.pdf(t, f.ca.Signer, nil), verify.Options{}), verify.CheckChain)
}

func TestExpiredSignerFailsTime(t *testing.T) {
	f := newFixture(t)
	expired := f.ca.Issue(t, signTime.AddDate(-2, 0, 0), signTime.AddDate(0, 0, -1))
	wantFail(t, verify.PDF(f.pdf(t, expired, nil), f.opts), verify.CheckSigningTime)
	wantFail(t, verify.OFD(f.ofd(t, expired, sealFor(t, f.ca, expired), nil), f.opts), verify.CheckSigningTime)
}

func TestSealChecks(t *testing.T) {
	f := newFixture(t)
	// Signer not in the seal's certificate list.
	other := f.ca.Issue(t, signTime.AddDate(0, 0, -1), signTime.AddDate(1, 0, 0))
	wantFail(t, verify.OFD(f.ofd(t, other, f.seal, nil), f.opts), verify.CheckSeal)
}

func TestRotatedKeyStillVerifies(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := signing.NewStore(dir, []byte("correct horse battery staple"), signing.CAConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Init(ctx); err != nil {
		t.Fatal(err)
	}
	old, err := st.Signer()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	doc, err := pdfsig.Sign(ctx, signtest.PDF(t), old, pdfsig.Options{Time: now, Rect: [4]float64{1, 1, 50, 50}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	cur, _ := st.Signer()
	if cur.Chain()[0].Equal(old.Chain()[0]) {
		t.Fatal("rotation kept the same issuer certificate")
	}
	root, _ := st.Root()
	if r := verify.PDF(doc, verify.Options{Roots: []*smx509.Certificate{root}}); !r.OK {
		t.Fatalf("document signed before rotation: %+v", r.Checks)
	}
	if iss, _ := st.IssuerCertificates(); len(iss) != 2 {
		t.Fatalf("%d issuer certificates kept, want 2", len(iss))
	}
}
