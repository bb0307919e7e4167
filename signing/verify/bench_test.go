package verify_test

import (
	"context"
	"crypto/rand"
	"math/big"
	"testing"

	"github.com/ecert/ecert/certgen"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/ofdsig"
	"github.com/ecert/ecert/signing/pdfsig"
	"github.com/ecert/ecert/signing/signtest"
	"github.com/ecert/ecert/signing/verify"
	tjsm2 "github.com/tjfoc/gmsm/sm2"
)

func signers(b *testing.B, ca *signtest.CA) map[string]signing.Signer {
	return map[string]signing.Signer{
		"emmansun": ca.Signer,
		"tjfoc":    signing.NewTjfocSigner(ca.Key, ca.Signer.Chain()),
	}
}

// BenchmarkSM2 compares the two SM2 libraries on the raw operation, with a
// message the size of CMS signed attributes.
func BenchmarkSM2(b *testing.B) {
	ca := signtest.NewCA(b, signTime)
	msg := make([]byte, 110)
	rand.Read(msg)
	for name, s := range signers(b, ca) {
		b.Run("sign/"+name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Sign(context.Background(), msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	sig, _ := ca.Signer.Sign(context.Background(), msg)
	b.Run("verify/emmansun", func(b *testing.B) {
		for b.Loop() {
			if !signing.VerifySM2(ca.Signer.Public(), msg, sig) {
				b.Fatal("verify failed")
			}
		}
	})
	pub := &tjsm2.PublicKey{Curve: tjsm2.P256Sm2(), X: ca.Key.X, Y: ca.Key.Y}
	r, s, _ := tjsm2.SignDataToSignDigit(sig)
	b.Run("verify/tjfoc", func(b *testing.B) {
		for b.Loop() {
			if !tjsm2.Sm2Verify(pub, msg, signing.DefaultUID, new(big.Int).Set(r), new(big.Int).Set(s)) {
				b.Fatal("verify failed")
			}
		}
	})
}

func BenchmarkSignPDF(b *testing.B) {
	ca := signtest.NewCA(b, signTime)
	doc := signtest.PDF(b)
	ap, _ := pdfsig.NewAppearance(signtest.SealPNG(b))
	for name, s := range signers(b, ca) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if _, err := pdfsig.Sign(context.Background(), doc, s, pdfsig.Options{Time: signTime, Rect: [4]float64{400, 80, 520, 200}, Appearance: ap}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifyPDF(b *testing.B) {
	f := newFixture(b)
	doc := f.pdf(b, f.ca.Signer, nil)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if r := verify.PDF(doc, f.opts); !r.OK {
			b.Fatal(r.Checks)
		}
	}
}

func BenchmarkSignOFD(b *testing.B) {
	f := newFixture(b)
	doc := signtest.OFD(b)
	for name, s := range signers(b, f.ca) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := ofdsig.Sign(context.Background(), doc, s, f.seal, ofdsig.Options{Time: signTime, Boundary: [4]float64{1, 1, 40, 40}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifyOFD(b *testing.B) {
	f := newFixture(b)
	doc := f.ofd(b, f.ca.Signer, f.seal, nil)
	for b.Loop() {
		if r := verify.OFD(doc, f.opts); !r.OK {
			b.Fatal(r.Checks)
		}
	}
}

// BenchmarkVerifyCopy verifies real rendered and signed certificates: a
// usage copy (with the printed-usage-validity check) and an original.
func BenchmarkVerifyCopy(b *testing.B) {
	f := newFixture(b)
	docs := []struct {
		name string
		c    *certgen.Certificate
		meta map[string]string
	}{
		{"copy", certificate("2026-03-04", "2026-08-30"), copyMeta("2026-03-04", "2026-08-30")},
		{"original", certificate("", ""), map[string]string{signing.MetaKind: "original"}},
	}
	for _, format := range formats {
		for _, d := range docs {
			doc := f.rendered(b, format, d.c, d.meta)
			b.Run(format+"/"+d.name, func(b *testing.B) {
				b.SetBytes(int64(len(doc)))
				for b.Loop() {
					if r := verify.File(doc, f.opts); !r.OK {
						b.Fatal(r.Checks)
					}
				}
			})
		}
	}
}
