package issuance_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing/claim"
	"github.com/ecert/ecert/signing/offline"
	"github.com/ecert/ecert/signing/verify"
	"github.com/ecert/ecert/storage/registry"
)

// pdfTextAndQR returns the text pdftotext reads from a PDF, and the URL and
// the signed claim zbarimg reads from its two QR codes on the page rendered
// at dpi.
func pdfTextAndQR(t *testing.T, pdf []byte, dpi int) (text, qr, signed string) {
	t.Helper()
	pdftotext, pdftoppm, zbarimg := testenv.Tool(t, "pdftotext"), testenv.Tool(t, "pdftoppm"), testenv.Tool(t, "zbarimg")
	dir := t.TempDir()
	fn := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(fn, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-enc", "UTF-8", fn, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	if msg, err := exec.Command(pdftoppm, "-r", strconv.Itoa(dpi), "-png", "-singlefile", fn, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, msg)
	}
	code, err := exec.Command(zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", filepath.Join(dir, "page.png")).Output()
	if err != nil {
		t.Fatalf("zbarimg found no QR code: %v", err)
	}
	for _, c := range strings.Split(strings.TrimSpace(string(code)), "\n") {
		if strings.HasPrefix(c, claim.Prefix) {
			signed = c
		} else {
			qr = c
		}
	}
	return string(out), qr, signed
}

// offlineClaim verifies the signed claim read from a page the way an
// inspector without signal does, and checks that it names what was issued.
func (e *env) offlineClaim(t *testing.T, signed string, c registry.Certificate, copyID string, ref registry.StatusRef) *claim.Claim {
	t.Helper()
	issuers, err := e.keys.IssuerCertificates()
	if err != nil {
		t.Fatal(err)
	}
	r := offline.Verify(signed, offline.Options{Issuers: issuers, Now: e.clock.Now()})
	if r.Claim == nil || r.Checks[0].ID != "signature" || !r.Checks[0].OK {
		t.Fatalf("claim from the page does not verify: %s %+v", r.Verdict, r.Checks)
	}
	got := r.Claim
	if got.LicenceID != c.LicenceID || got.Version != c.Version || got.MaskedID != registration.MaskID(c.IDNumber) ||
		ref.IsZero() || got.Status == nil || got.Status.Index != uint64(ref.Index) || got.Status.List != strconv.FormatInt(ref.List, 10) {
		t.Errorf("claim %+v does not name certificate %s v%d (status entry %s)", got, c.LicenceID, c.Version, ref)
	}
	if (got.Copy == nil) != (copyID == "") || (got.Copy != nil && got.Copy.ID != copyID) {
		t.Errorf("claim copy %+v, want %q", got.Copy, copyID)
	}
	return got
}

// An issued certificate carries a fresh verification code: recorded in its
// row, printed on the PDF and in its QR URL; a usage copy prints the same
// code and its QR URL names the code and the copy.
func TestIssuedCertificateCarriesVerifyCode(t *testing.T) {
	e := newEnv(t, backends{})
	ctx := context.Background()
	as := approvals(2, 61)
	for i := range as {
		as[i].BusinessType, as[i].NoticeEnd = registration.Change, registration.Date{}
	}
	e.intake(t, as)
	var codes []string
	for _, a := range as {
		res, err := e.svc.Issue(ctx, a.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		c := res.Certificate
		if !registration.ValidVerifyCode(c.VerifyCode) {
			t.Fatalf("issued certificate has code %q", c.VerifyCode)
		}
		row, err := e.reg.CertificateByLicenceID(ctx, c.LicenceID)
		if err != nil || row.VerifyCode != c.VerifyCode {
			t.Fatalf("recorded code %q %v, want %q", row.VerifyCode, err, c.VerifyCode)
		}
		codes = append(codes, c.VerifyCode)
		text, qr, signed := pdfTextAndQR(t, e.read(t, c.PDFKey, c.PDFSHA256), 150)
		e.offlineClaim(t, signed, c, "", c.StatusRef)
		if !strings.Contains(text, "核验码") || !strings.Contains(text, c.VerifyCode) {
			t.Errorf("PDF text lacks 核验码 %s:\n%s", c.VerifyCode, text)
		}
		if want := "https://ecert.example.gov.cn/v/" + c.LicenceID + "?code=" + c.VerifyCode; qr != want {
			t.Errorf("QR URL %q, want %q", qr, want)
		}

		cp, err := e.svc.Restamp(ctx, issuance.RestampRequest{Holder: a.Person.IDNumber, CertificateNo: c.CertificateNo, Format: "pdf", Purpose: "投标"})
		if err != nil {
			t.Fatal(err)
		}
		text, qr, signed = pdfTextAndQR(t, e.read(t, cp.ObjectKey, cp.SHA256), 100)
		if cl := e.offlineClaim(t, signed, c, cp.CopyID, cp.StatusRef); cl.Copy == nil || cl.Copy.Purpose != "投标" {
			t.Errorf("copy claim %+v, want purpose 投标", cl.Copy)
		}
		if !strings.Contains(text, c.VerifyCode) || !strings.Contains(text, cp.CopyID) {
			t.Errorf("copy text lacks the parent's code %s or its id %s:\n%s", c.VerifyCode, cp.CopyID, text)
		}
		if want := "https://ecert.example.gov.cn/v/" + c.LicenceID + "?code=" + c.VerifyCode + "&copy=" + cp.CopyID; qr != want {
			t.Errorf("copy QR URL %q, want %q", qr, want)
		}
	}
	if codes[0] == codes[1] {
		t.Errorf("two certificates got the same code %s", codes[0])
	}
}

func TestPublicStatus(t *testing.T) {
	e := newEnv(t, backends{})
	ctx := context.Background()
	policy := registration.DefaultPolicy()
	today := registration.Today(e.clock.Now())
	as := approvals(2, 62)
	for i := range as {
		as[i].BusinessType, as[i].NoticeEnd = registration.Change, registration.Date{}
	}
	as[0].Person.Name = "张三丰"
	e.intake(t, as)
	var certs []registry.Certificate
	for _, a := range as {
		res, err := e.svc.Issue(ctx, a.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, res.Certificate)
	}
	c, other := certs[0], certs[1]
	cp, err := e.svc.Restamp(ctx, issuance.RestampRequest{Holder: as[0].Person.IDNumber, CertificateNo: c.CertificateNo, Format: "pdf"})
	if err != nil {
		t.Fatal(err)
	}
	id := as[0].Person.IDNumber
	tests := []struct {
		name, licence, code, copyID string
		found                       bool
	}{
		{"right code", c.LicenceID, c.VerifyCode, "", true},
		{"typed in lower case with a hyphen", c.LicenceID, strings.ToLower(c.VerifyCode[:5] + "-" + c.VerifyCode[5:]), "", true},
		{"with its copy", c.LicenceID, c.VerifyCode, cp.CopyID, true},
		{"wrong code", c.LicenceID, "23456789AB", "", false},
		{"empty code", c.LicenceID, "", "", false},
		{"other certificate's code", c.LicenceID, other.VerifyCode, "", false},
		{"unknown licence id", "1.2.156.3005.2.11100000000013338W001.11210000MB0000000J.999.001.X", c.VerifyCode, "", false},
		{"garbage code", c.LicenceID, strings.Repeat("Z", 1000), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := issuance.PublicCopyStatus(ctx, e.reg, policy, today, tt.licence, tt.code, tt.copyID)
			if !tt.found {
				if !errors.Is(err, issuance.ErrNoPublicMatch) || !errors.Is(err, registry.ErrNotFound) || !errors.Is(err, issuance.ErrNotFound) {
					t.Fatalf("err = %v, want ErrNoPublicMatch", err)
				}
				if got.LicenceID != "" || got.IDNumber != "" || got.HolderName != "" {
					t.Fatalf("a refused lookup returned data: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantID := id[:4] + "**********" + id[14:]
			if got.LicenceID != c.LicenceID || got.Version != 1 || got.HolderName != "张*丰" || got.IDNumber != wantID ||
				got.RegistrationNo != as[0].Registration.Number || got.Employer != as[0].Registration.Employer.Name ||
				got.IssueDate != today || len(got.Specialties) != len(as[0].Registration.Specialties) {
				t.Fatalf("public data: %+v", got)
			}
			for i, sp := range as[0].Registration.Specialties {
				if got.Specialties[i] != (issuance.PublicSpecialty{Name: sp.Name, ValidUntil: sp.ValidUntil}) {
					t.Errorf("specialty %d: %+v, want %+v", i, got.Specialties[i], sp)
				}
			}
			if got.Status.Certificate != verify.StateCurrent || got.Status.Registration != verify.RegistrationActive {
				t.Errorf("status: %+v", got.Status)
			}
			if tt.copyID == "" && (got.Copy != nil || got.Status.CopyKnown != nil) {
				t.Errorf("copy reported without a copy id: %+v", got)
			}
			if tt.copyID != "" && (got.Copy == nil || got.Copy.ID != cp.CopyID || !got.Copy.InValidity ||
				got.Copy.ValidFrom != today || got.Status.CopyKnown == nil || !*got.Status.CopyKnown) {
				t.Errorf("copy: %+v %+v", got.Copy, got.Status)
			}
			b, _ := json.Marshal(got)
			for _, secret := range []string{id, id[4:14], as[0].Person.Phone, c.VerifyCode, "张三丰"} {
				if secret != "" && strings.Contains(string(b), secret) {
					t.Errorf("public answer contains %q: %s", secret, b)
				}
			}
		})
	}

	// The code keeps opening the lookup after the certificate has been
	// superseded; the status then says so.
	renew := as[0]
	renew.CaseID, renew.BusinessType = as[0].CaseID+"-R", registration.Renewal
	renew.Registration.ValidFrom = as[0].Registration.ValidUntil.AddDays(1)
	renew.Registration.ValidUntil = as[0].Registration.ValidUntil.AddYears(3)
	e.intake(t, []intake.Approval{renew})
	second, err := e.svc.Issue(ctx, renew.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	if second.Certificate.VerifyCode == c.VerifyCode {
		t.Errorf("a new version kept the old code")
	}
	got, err := issuance.PublicStatus(ctx, e.reg, policy, today, c.LicenceID, c.VerifyCode)
	if err != nil || got.Status.Certificate != verify.StateSuperseded || got.Status.CurrentLicenceID != second.Certificate.LicenceID {
		t.Fatalf("superseded version: %+v %v", got.Status, err)
	}
	if _, err := issuance.PublicStatus(ctx, e.reg, policy, today, second.Certificate.LicenceID, c.VerifyCode); !errors.Is(err, issuance.ErrNoPublicMatch) {
		t.Errorf("the old version's code opened the new version: %v", err)
	}
}
