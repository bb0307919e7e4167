package verify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/ofdsig"
	"github.com/ecert/ecert/signing/pdfsig"
	"github.com/ecert/ecert/signing/verify"
)

// signedAt renders a certificate and signs it with s at time at, the way
// issuance does.
func (f *fixture) signedAt(t *testing.T, format string, s signing.Signer, at time.Time) []byte {
	t.Helper()
	ctx := context.Background()
	rnd := testRenderer(t)
	c := certificate("", "")
	if format == "pdf" {
		doc, err := rnd.PDF(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		r := rnd.SealRectPDF()
		out, err := pdfsig.Sign(ctx, doc, s, pdfsig.Options{Rect: [4]float64{r.X, r.Y, r.X + r.W, r.Y + r.H}, Time: at})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	doc, err := rnd.OFD(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	b := rnd.SealRect()
	out, err := ofdsig.Sign(ctx, doc, s, f.seal, ofdsig.Options{Time: at, Boundary: [4]float64{b.X, b.Y, b.W, b.H}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFutureSigningTimeRefused re-signs our certificates with the issuer key
// and a signing time after the verification time: beyond the clock skew
// they are refused by the signing-time check, within it they pass.
func TestFutureSigningTimeRefused(t *testing.T) {
	// The issuer certificate is valid for five years and the seal for
	// three: 2028 is inside both, so only the claim's lying in the future
	// is wrong.
	f := newFixture(t)
	tests := []struct {
		name   string
		at     time.Time
		refuse bool
	}{
		{"2028, years ahead", time.Date(2028, 1, 2, 9, 0, 0, 0, time.UTC), true},
		{"just beyond the skew", signTime.Add(verify.MaxClockSkew + time.Second), true},
		{"within the skew", signTime.Add(verify.MaxClockSkew - time.Second), false},
		{"at the verification time", signTime, false},
	}
	for _, format := range formats {
		for _, tc := range tests {
			t.Run(format+"/"+tc.name, func(t *testing.T) {
				r := verify.File(f.signedAt(t, format, f.ca.Signer, tc.at), f.opts)
				c, _ := r.Check(verify.CheckSigningTime)
				if !tc.refuse {
					if !r.OK {
						t.Fatalf("refused: %+v", r.Checks)
					}
					return
				}
				wantFail(t, r, verify.CheckSigningTime)
				if !strings.Contains(c.Reason, "in the future") || !strings.Contains(c.Reason, verify.MaxClockSkew.String()) {
					t.Errorf("reason %q does not say the signing time is in the future beyond the skew", c.Reason)
				}
				for _, name := range []string{verify.CheckSignature, verify.CheckChain, verify.CheckIntegrity} {
					if c, _ := r.Check(name); !c.OK {
						t.Errorf("%s failed too: %s", name, c.Reason)
					}
				}
			})
		}
	}
}

// TestChainValidatedAtVerificationTime: without a trusted timestamp the
// chain is validated now, so a signer certificate that has expired since
// fails the chain even though it was valid when the signer says it signed,
// and a passing chain says when it was validated.
func TestChainValidatedAtVerificationTime(t *testing.T) {
	f := newFixture(t)
	expired := f.ca.Issue(t, signTime.AddDate(-2, 0, 0), signTime.AddDate(0, 0, -1))
	sealed := &fixture{ca: f.ca, seal: sealFor(t, f.ca, expired), opts: f.opts}
	note := "validated at verification time " + signTime.UTC().Format(time.RFC3339) + "; no trusted timestamp"
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			r := verify.File(sealed.signedAt(t, format, expired, signTime.AddDate(0, 0, -30)), f.opts)
			wantFail(t, r, verify.CheckChain)
			if c, _ := r.Check(verify.CheckChain); !strings.Contains(c.Reason, note) || !strings.Contains(c.Reason, "expired") {
				t.Errorf("chain reason %q does not say it was validated at verification time and the certificate expired", c.Reason)
			}
			if c, _ := r.Check(verify.CheckSigningTime); !c.OK {
				t.Errorf("signing-time failed: %s (the signer certificate was valid when it signed)", c.Reason)
			}

			r = verify.File(f.signedAt(t, format, f.ca.Signer, signTime), f.opts)
			if c, _ := r.Check(verify.CheckChain); !r.OK || !strings.Contains(c.Reason, note) {
				t.Errorf("valid document: chain reason %q lacks %q; %+v", c.Reason, note, r.Checks)
			}
			if r.ValidatedAt == nil || !r.ValidatedAt.Equal(signTime) || r.ValidationBasis != verify.BasisVerificationTime {
				t.Errorf("validated at %v (%s), want %v (%s)", r.ValidatedAt, r.ValidationBasis, signTime, verify.BasisVerificationTime)
			}
		})
	}
}
