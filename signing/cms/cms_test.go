package cms_test

import (
	"context"
	"testing"
	"time"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/cms"
	"github.com/ecert/ecert/signing/signtest"
)

func sample(t testing.TB, p cms.Profile) []byte {
	ca := signtest.NewCA(t, time.Now())
	der, err := cms.SignDetached(context.Background(), ca.Signer, signing.SM3([]byte("content")), cms.Options{SigningTime: time.Now(), Profile: p})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestRoundTripAndRefusals(t *testing.T) {
	for _, p := range []cms.Profile{cms.ProfilePKCS7, cms.ProfileGMT0010} {
		der := sample(t, p)
		sd, err := cms.Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		if err := sd.VerifySignature(); err != nil {
			t.Fatal(err)
		}
		if string(sd.MessageDigest) != string(signing.SM3([]byte("content"))) || len(sd.Certificates) != 2 {
			t.Fatalf("digest/certs wrong")
		}
		if _, err := cms.Parse(append(der, 0)); err == nil {
			t.Error("trailing byte accepted")
		}
		bad := append([]byte{}, der...)
		bad[len(bad)-5] ^= 1 // inside the signature value
		if sd, err := cms.Parse(bad); err == nil && sd.VerifySignature() == nil {
			t.Error("changed signature verified")
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample(f, cms.ProfilePKCS7))
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		if sd, err := cms.Parse(b); err == nil {
			_ = sd.VerifySignature()
		}
	})
}
