package verify_test

import (
	"context"
	"crypto/x509/pkix"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/signtest"
	"github.com/ecert/ecert/signing/verify"
	"github.com/emmansun/gmsm/smx509"
)

// developmentCA makes a CA whose root is named like ecert's development root.
func developmentCA(t *testing.T) *signtest.CA {
	t.Helper()
	cfg := signing.CAConfig{RootSubject: pkix.Name{CommonName: signing.DevelopmentRootCommonName}, Now: func() time.Time { return signTime }}
	rk, root, err := signing.NewRootCA(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := signing.NewKeySigner(rk, []*smx509.Certificate{root})
	if err != nil {
		t.Fatal(err)
	}
	ik, ic, err := signing.IssueAuthorityCertificate(context.Background(), rs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := signing.NewKeySigner(ik, []*smx509.Certificate{ic, root})
	if err != nil {
		t.Fatal(err)
	}
	return &signtest.CA{RootKey: rk, Root: root, Signer: s, Key: ik}
}

func TestTrustReport(t *testing.T) {
	f := newFixture(t)
	devCA := developmentCA(t)
	dev := &fixture{ca: devCA, seal: sealFor(t, devCA, devCA.Signer), opts: verify.Options{Roots: []*smx509.Certificate{devCA.Root}, Now: f.opts.Now}}
	for _, format := range formats {
		t.Run(format+"/production root", func(t *testing.T) {
			r := verify.File(f.signedAt(t, format, f.ca.Signer, signTime), f.opts)
			if !r.OK || r.Verdict != verify.VerdictValid || r.Trust == nil || r.Trust.Development || r.Trust.Root != f.ca.Root.Subject.CommonName || len(r.Trust.SHA256) != 64 {
				t.Fatalf("verdict %s, trust %+v: %+v", r.Verdict, r.Trust, r.Checks)
			}
			if c, _ := r.Check(verify.CheckChain); !strings.Contains(c.Reason, r.Trust.SHA256) {
				t.Errorf("chain reason %q does not name the root's fingerprint", c.Reason)
			}
		})
		t.Run(format+"/development root", func(t *testing.T) {
			r := verify.File(dev.signedAt(t, format, devCA.Signer, signTime), dev.opts)
			if !r.OK || r.Verdict != verify.VerdictValidDevelopment || r.Trust == nil || !r.Trust.Development {
				t.Fatalf("verdict %s, trust %+v: %+v", r.Verdict, r.Trust, r.Checks)
			}
			if c, _ := r.Check(verify.CheckChain); !strings.Contains(c.Reason, "development root — not for production") {
				t.Errorf("chain reason %q does not say development root", c.Reason)
			}
		})
		t.Run(format+"/no trusted root", func(t *testing.T) {
			r := verify.File(f.signedAt(t, format, f.ca.Signer, signTime), verify.Options{Now: f.opts.Now})
			if r.OK || r.Verdict != verify.VerdictInvalid || r.Trust != nil {
				t.Fatalf("verdict %s, trust %+v", r.Verdict, r.Trust)
			}
			for _, c := range r.Checks {
				want := verify.StatusPass
				if c.Name == verify.CheckChain {
					want = verify.StatusNotChecked
					if !strings.Contains(c.Reason, "not checked: no trusted root configured") {
						t.Errorf("chain reason %q", c.Reason)
					}
				}
				if c.Status != want {
					t.Errorf("%s: status %s (%s), want %s", c.Name, c.Status, c.Reason, want)
				}
			}
		})
	}
}
