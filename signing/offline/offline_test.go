package offline_test

import (
	"context"
	"crypto/ecdsa"
	"strings"
	"testing"
	"time"

	smx509 "github.com/emmansun/gmsm/smx509"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing/claim"
	"github.com/ecert/ecert/signing/cose"
	"github.com/ecert/ecert/signing/offline"
	"github.com/ecert/ecert/signing/signtest"
	"github.com/ecert/ecert/signing/statuslist"
)

var now = time.Date(2026, 12, 5, 10, 0, 0, 0, registration.ChinaTZ)

func sampleClaim() claim.Claim {
	today := registration.Today(now)
	return claim.Claim{
		IssuedAt: now.Add(-time.Hour), LicenceID: "1.2.156.3005.2.11100000000013338W001.11210000MB0000000J.2162025000001.001.9",
		Version: 1, HolderName: "王奕喆", MaskedID: registration.MaskID("110105199002280047"),
		RegistrationNo: "辽2212025000124", IssueDate: today.AddDays(-30),
		Specialties: []claim.Specialty{{Name: "公路工程", ValidUntil: today.AddYears(2)}},
		Copy:        &claim.UsageCopy{ID: "C00112233445566778899", Purpose: "投标", ValidFrom: today.AddDays(-1), ValidUntil: today.AddDays(178)},
		Status:      &claim.StatusRef{List: "1", Index: 4242},
	}
}

// list signs a status list "1" whose entry 4242 is s, signed at issued.
func list(t testing.TB, ca *signtest.CA, s statuslist.Status, issued time.Time) *statuslist.Token {
	t.Helper()
	l, err := statuslist.New(statuslist.MinSize)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Set(4242, s); err != nil {
		t.Fatal(err)
	}
	tok := statuslist.Token{Subject: "https://ecert.example/api/v1/status/1", IssuedAt: issued,
		ExpiresAt: issued.Add(30 * time.Hour), TTL: 6 * time.Hour, List: l}
	b, err := tok.Sign(context.Background(), ca.Signer, cose.KeyID(ca.Signer.Chain()[0]))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := statuslist.Parse(b, func([]byte) (*ecdsa.PublicKey, error) { return ca.Signer.Public(), nil })
	if err != nil {
		t.Fatal(err)
	}
	return parsed
}

func TestVerify(t *testing.T) {
	ca := signtest.NewCA(t, now)
	other := signtest.NewCA(t, now)
	encode := func(c claim.Claim) string {
		s, err := claim.Encode(context.Background(), ca.Signer, ca.Signer.Chain()[0], c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := encode(sampleClaim())
	expired := sampleClaim()
	expired.Copy.ValidFrom, expired.Copy.ValidUntil = registration.Today(now).AddDays(-200), registration.Today(now).AddDays(-20)
	issuers := []*smx509.Certificate{ca.Signer.Chain()[0]}
	roots := []*smx509.Certificate{ca.Root}
	fresh := func(s statuslist.Status) []*statuslist.Token {
		return []*statuslist.Token{list(t, ca, s, now.Add(-time.Hour))}
	}
	tamper := []byte(good)
	tamper[len(tamper)/2] ^= 'A' ^ 'B'
	for _, tc := range []struct {
		name   string
		text   string
		opt    offline.Options
		want   offline.Verdict
		failed string // the check that fails, if any
	}{
		{"valid", good, offline.Options{Issuers: issuers, Roots: roots, Lists: fresh(statuslist.Valid)}, offline.Valid, ""},
		{"revoked", good, offline.Options{Issuers: issuers, Roots: roots, Lists: fresh(statuslist.Invalid)}, offline.Revoked, "status"},
		{"superseded", good, offline.Options{Issuers: issuers, Roots: roots, Lists: fresh(statuslist.Suspended)}, offline.Superseded, "status"},
		{"list 25 h old", good, offline.Options{Issuers: issuers, Roots: roots,
			Lists: []*statuslist.Token{list(t, ca, statuslist.Valid, now.Add(-25*time.Hour))}}, offline.StatusStale, "status"},
		{"newest list wins", good, offline.Options{Issuers: issuers, Roots: roots, Lists: []*statuslist.Token{
			list(t, ca, statuslist.Valid, now.Add(-3*time.Hour)), list(t, ca, statuslist.Invalid, now.Add(-time.Hour))}}, offline.Revoked, "status"},
		{"no list", good, offline.Options{Issuers: issuers, Roots: roots}, offline.StatusUnknown, "status"},
		{"expired copy", encode(expired), offline.Options{Issuers: issuers, Roots: roots, Lists: fresh(statuslist.Valid)}, offline.Expired, "dates"},
		{"no trusted root", good, offline.Options{Issuers: issuers, Lists: fresh(statuslist.Valid)}, offline.Invalid, "chain"},
		{"another root", good, offline.Options{Issuers: issuers, Roots: []*smx509.Certificate{other.Root}, Lists: fresh(statuslist.Valid)}, offline.Invalid, "chain"},
		{"unknown issuer", good, offline.Options{Issuers: []*smx509.Certificate{other.Signer.Chain()[0]}, Roots: roots}, offline.Invalid, "signature"},
		{"tampered", string(tamper), offline.Options{Issuers: issuers, Roots: roots, Lists: fresh(statuslist.Valid)}, offline.Invalid, "signature"},
		{"not a claim", "https://ecert.example/v/1", offline.Options{Issuers: issuers, Roots: roots}, offline.Invalid, "signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.Now = now
			r := offline.Verify(tc.text, tc.opt)
			if r.Verdict != tc.want {
				t.Fatalf("verdict %s, want %s; checks %+v", r.Verdict, tc.want, r.Checks)
			}
			var failed []string
			for _, c := range r.Checks {
				if !c.OK {
					failed = append(failed, c.ID)
				}
			}
			if got := strings.Join(failed, ","); got != tc.failed {
				t.Errorf("failed checks %q, want %q (%+v)", got, tc.failed, r.Checks)
			}
			if r.Verdict != offline.Invalid && (r.Claim == nil || r.Claim.HolderName != "王奕喆") {
				t.Errorf("claim not reported: %+v", r.Claim)
			}
		})
	}
}

// BenchmarkVerify is an offline verification as an inspector's device makes
// it: the claim decoded and its signature checked, the chain checked, the
// entry read from a status list parsed earlier.
func BenchmarkVerify(b *testing.B) {
	ca := signtest.NewCA(b, now)
	s, err := claim.Encode(context.Background(), ca.Signer, ca.Signer.Chain()[0], sampleClaim())
	if err != nil {
		b.Fatal(err)
	}
	opt := offline.Options{Issuers: []*smx509.Certificate{ca.Signer.Chain()[0]}, Roots: []*smx509.Certificate{ca.Root},
		Lists: []*statuslist.Token{list(b, ca, statuslist.Valid, now.Add(-time.Hour))}, Now: now}
	b.ReportAllocs()
	for b.Loop() {
		if r := offline.Verify(s, opt); r.Verdict != offline.Valid {
			b.Fatal(r.Verdict, r.Checks)
		}
	}
}
