//go:build js && wasm

package main

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"image"
	"image/draw"
	_ "image/png"
	"os"
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

// Run with node on PATH:
//
//	GOOS=js GOARCH=wasm go test -exec="$(go env GOROOT)/lib/wasm/go_js_wasm_exec" ./cmd/ecert-wasm

var now = time.Date(2026, 12, 5, 10, 0, 0, 0, registration.ChinaTZ)

func pemOf(certs ...*smx509.Certificate) string {
	var b strings.Builder
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.String()
}

// token signs status list "1" with entry 7 set to s, as base64 the page passes.
func token(t *testing.T, ca *signtest.CA, s statuslist.Status, issued time.Time) string {
	t.Helper()
	l, err := statuslist.New(statuslist.MinSize)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Set(7, s); err != nil {
		t.Fatal(err)
	}
	tok := statuslist.Token{Subject: "https://ecert.example/api/v1/status/1", IssuedAt: issued,
		ExpiresAt: issued.Add(30 * time.Hour), TTL: 6 * time.Hour, List: l}
	b, err := tok.Sign(context.Background(), ca.Signer, cose.KeyID(ca.Signer.Chain()[0]))
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// TestVerify runs what ecertVerifyClaim runs, from the page's strings.
func TestVerify(t *testing.T) {
	ca, other := signtest.NewCA(t, now), signtest.NewCA(t, now)
	today := registration.Today(now)
	text, err := claim.Encode(context.Background(), ca.Signer, ca.Signer.Chain()[0], claim.Claim{
		IssuedAt: now.Add(-time.Hour), LicenceID: "1.2.156.3005.2.11100000000013338W001.11210000MB0000000J.2162025000001.001.9",
		Version: 1, HolderName: "王奕喆", MaskedID: registration.MaskID("110105199002280047"),
		RegistrationNo: "辽2212025000124", IssueDate: today.AddDays(-30),
		Specialties: []claim.Specialty{{Name: "公路工程", ValidUntil: today.AddYears(2)}},
		Status:      &claim.StatusRef{List: "1", Index: 7},
	})
	if err != nil {
		t.Fatal(err)
	}
	issuers, root := pemOf(ca.Signer.Chain()[0]), pemOf(ca.Root)
	for _, tc := range []struct {
		name            string
		issuers, root   string
		lists           []string
		want            offline.Verdict
		problemContains string
	}{
		{"fresh list", issuers, root, []string{token(t, ca, statuslist.Valid, now.Add(-time.Hour))}, offline.Valid, ""},
		{"list of 25 h ago", issuers, root, []string{token(t, ca, statuslist.Valid, now.Add(-25*time.Hour))}, offline.StatusStale, ""},
		{"revoked", issuers, root, []string{token(t, ca, statuslist.Invalid, now.Add(-time.Hour))}, offline.Revoked, ""},
		{"superseded", issuers, root, []string{token(t, ca, statuslist.Suspended, now.Add(-time.Hour))}, offline.Superseded, ""},
		{"no list", issuers, root, nil, offline.StatusUnknown, ""},
		{"list signed by someone else", issuers, root, []string{token(t, other, statuslist.Valid, now.Add(-time.Hour))}, offline.StatusUnknown, "unknown key"},
		{"list not base64", issuers, root, []string{"%%%"}, offline.StatusUnknown, "status list 1"},
		{"root not held", issuers, "", []string{token(t, ca, statuslist.Valid, now.Add(-time.Hour))}, offline.Invalid, ""},
		{"another root", issuers, pemOf(other.Root), []string{token(t, ca, statuslist.Valid, now.Add(-time.Hour))}, offline.Invalid, ""},
		{"issuer not held", pemOf(other.Signer.Chain()[0]), root, nil, offline.Invalid, ""},
		{"issuers not PEM", "garbage", root, nil, offline.Invalid, "issuers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := verify(text, tc.issuers, tc.root, tc.lists, now)
			if r.Verdict != tc.want {
				t.Errorf("verdict %s, want %s; checks %+v, problems %q", r.Verdict, tc.want, r.Checks, r.Problems)
			}
			if got := strings.Join(r.Problems, "; "); tc.problemContains == "" && got != "" || !strings.Contains(got, tc.problemContains) {
				t.Errorf("problems %q, want one with %q", got, tc.problemContains)
			}
		})
	}
}

// TestClaimsIn reads the claim from a certificate page rendered at 150 dpi
// (pdftoppm), where the claim's code has under 3 pixels a module, and
// leaves the verification link's code out.
func TestClaimsIn(t *testing.T) {
	f, err := os.Open("testdata/page.png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	got := claimsIn(rgba)
	if len(got) != 1 || !strings.HasPrefix(got[0], claim.Prefix) {
		t.Fatalf("claims found %q, want one", got)
	}
	if _, _, err := claim.Decode(got[0], claim.KeySetFromCertificates(), now); err == nil || strings.Contains(err.Error(), "base45") {
		t.Errorf("the decoded text is not a well-formed claim: %v", err)
	}
}
