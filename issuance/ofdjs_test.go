package issuance_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/internal/ofdjs"
	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing/claim"
)

// A signed OFD, original and usage copy, still opens in an independent
// reader (ofd.js in headless Chromium) with its text intact.
func TestSignedOFDOpensInIndependentReader(t *testing.T) {
	e := newEnv(t, backends{})
	ctx := context.Background()
	a := approvals(1, 51)[0]
	a.BusinessType, a.NoticeEnd = registration.Change, registration.Date{}
	a.Person.Name = "王𠮷堃"
	e.intake(t, []intake.Approval{a})
	res, err := e.svc.Issue(ctx, a.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := e.svc.Restamp(ctx, issuance.RestampRequest{Holder: a.Person.IDNumber, CertificateNo: res.Certificate.CertificateNo, Format: "ofd", Purpose: "投标"})
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string][]byte{
		"original": e.read(t, res.Certificate.OFDKey, res.Certificate.OFDSHA256),
		"copy":     e.read(t, cp.ObjectKey, cp.SHA256),
	} {
		t.Run(name, func(t *testing.T) {
			if rep := e.verify(t, doc); !rep.OK {
				t.Fatalf("does not verify: %+v", rep.Checks)
			}
			shot := filepath.Join(t.TempDir(), "page.png")
			got := ofdjs.Open(t, doc, shot)
			if got.Error != "" || got.Pages != 1 {
				t.Fatalf("ofd.js: pages=%d error=%q", got.Pages, got.Error)
			}
			// The signed claim scans from the page as ofd.js draws it.
			codes, err := exec.Command(testenv.Tool(t, "zbarimg"), "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", shot).Output()
			if err != nil {
				t.Fatalf("zbarimg on the ofd.js page: %v", err)
			}
			var signed string
			for _, c := range strings.Split(strings.TrimSpace(string(codes)), "\n") {
				if strings.HasPrefix(c, claim.Prefix) {
					signed = c
				}
			}
			copyID, ref := "", res.Certificate.StatusRef
			if name == "copy" {
				copyID, ref = cp.CopyID, cp.StatusRef
			}
			e.offlineClaim(t, signed, res.Certificate, copyID, ref)
			for _, want := range []string{a.Registration.Number, a.Registration.Employer.Name, res.Certificate.LicenceID} {
				if !strings.Contains(got.Text, want) {
					t.Errorf("ofd.js text lacks %q", want)
				}
			}
			if name == "copy" && !strings.Contains(got.Text, "使用有效期") {
				t.Errorf("ofd.js text lacks the usage validity annotation")
			}
		})
	}
}
