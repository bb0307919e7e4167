package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ecert/ecert/api"
	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/signing/statuslist"
	"github.com/ecert/ecert/signing/verify"
)

// endToEnd follows the first applicant: list, download, re-stamp, verify
// over HTTP and with the CLI, look the certificate up by its code, then
// the portal revokes it.
func (s *stack) endToEnd(t *testing.T, w world) {
	a, cert := w.approvals[0], w.certs[0]
	tok := s.token(t, a.Person.IDNumber)
	s.listMine(t, tok, cert, a.Registration)
	files := s.downloadAll(t, tok, cert, holderName(a))
	for _, f := range files {
		r, rep := s.verifyUpload(t, f.name, f.data)
		checkValid(t, f.name, rep)
		checkMasked(t, f.name, r.Body, a.Person.IDNumber)
	}
	s.cliVerify(t, files)
	code := s.verifyCode(t, cert.CertificateNo)
	s.publicLookup(t, cert.LicenceID, code, a.Person.IDNumber, a.Person.Name, verify.StateCurrent)
	s.copyLookup(t, cert, code)
	s.lookupRefusals(t, cert.LicenceID, code)
	s.statusList(t, cert, statuslist.Valid)
	s.revoke(t, tok, cert, files[1])
	s.statusList(t, cert, statuslist.Invalid) // published at once, not after the ttl
	s.publicLookup(t, cert.LicenceID, code, a.Person.IDNumber, a.Person.Name, verify.StateRevoked)
}

// listMine checks that the holder sees exactly their certificate, with links,
// the approved specialties with their valid-until and the registration's.
func (s *stack) listMine(t *testing.T, tok string, want certView, reg intake.RegistrationRecord) {
	t.Helper()
	type specialty struct {
		Name       string `json:"name"`
		ValidUntil string `json:"valid_until"`
	}
	list := decode[struct {
		Certificates []struct {
			certView
			Specialties            []specialty `json:"specialties"`
			RegistrationValidUntil string      `json:"registration_valid_until"`
		} `json:"certificates"`
	}](t, s.get(t, "/api/v1/me/certificates", bearer(tok)), http.StatusOK)
	if len(list.Certificates) != 1 || list.Certificates[0].CertificateNo != want.CertificateNo {
		t.Fatalf("my certificates: %+v, want only %s", list.Certificates, want.CertificateNo)
	}
	c := list.Certificates[0]
	if f := c.Files; f["ofd"] == "" || f["pdf"] == "" {
		t.Fatalf("my certificate has no download links: %+v", c)
	}
	if len(c.Specialties) != len(reg.Specialties) {
		t.Fatalf("my certificate's specialties %+v, want %+v", c.Specialties, reg.Specialties)
	}
	for i, sp := range reg.Specialties {
		if got := c.Specialties[i]; got.ValidUntil != sp.ValidUntil.String() || sp.Name != "" && got.Name != sp.Name {
			t.Errorf("specialty %d: %+v, want %+v", i, got, sp)
		}
	}
	// Policy extensions may only move the registration's valid-until later.
	if u := c.RegistrationValidUntil; u == "" || u < reg.ValidUntil.String() {
		t.Errorf("registration valid until %q, want %s or later", u, reg.ValidUntil)
	}
}

// downloadAll downloads the certificate as OFD and PDF, presses 加注 and
// downloads the copies: the same purpose twice the same day is one copy,
// another purpose a new one.
func (s *stack) downloadAll(t *testing.T, tok string, cert certView, name string) []file {
	t.Helper()
	base := "/api/v1/me/certificates/" + url.PathEscape(cert.CertificateNo) + "/file?format="
	files := []file{
		s.download(t, base+"ofd", tok, "ofd", "二级建造师注册证书-"+name+".ofd"),
		s.download(t, base+"pdf", tok, "pdf", "二级建造师注册证书-"+name+".pdf"),
	}
	first := s.restamp(t, tok, cert.CertificateNo, "pdf", "投标")
	again := s.restamp(t, tok, cert.CertificateNo, "pdf", "投标")
	other := s.restamp(t, tok, cert.CertificateNo, "ofd", "资质申报")
	if again.CopyID != first.CopyID {
		t.Errorf("the same purpose the same day gave copies %s and %s, want one", first.CopyID, again.CopyID)
	}
	if other.CopyID == first.CopyID {
		t.Errorf("another purpose gave the same copy %s", other.CopyID)
	}
	for _, cp := range []copyView{first, other} {
		files = append(files, s.download(t, relative(t, cp.Download), tok, cp.Format,
			"二级建造师注册证书-"+name+"-加注件."+cp.Format))
	}
	return files
}

// relative is the path and query of a link the API gave.
func relative(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

// checkValid wants every check passed, the registry's status among them.
func checkValid(t *testing.T, name string, rep verify.Report) {
	t.Helper()
	if !rep.OK || rep.Verdict != verify.VerdictValidDevelopment {
		t.Errorf("%s: ok %v verdict %q, want valid (development root): %+v", name, rep.OK, rep.Verdict, rep.Checks)
	}
	status := false
	for _, c := range rep.Checks {
		if c.Status != verify.StatusPass || !c.OK {
			t.Errorf("%s: check %s %s: %s", name, c.Name, c.Status, c.Reason)
		}
		status = status || c.Name == verify.CheckStatus
	}
	if !status {
		t.Errorf("%s: no %q check in %+v", name, verify.CheckStatus, rep.Checks)
	}
}

// checkMasked wants no full ID number in the body.
func checkMasked(t *testing.T, name string, body []byte, id string) {
	t.Helper()
	if strings.Contains(string(body), id) {
		t.Errorf("%s: the response holds the full ID number", name)
	}
}

// verifyCode is the code printed on the certificate, from the registry.
func (s *stack) verifyCode(t *testing.T, no string) string {
	t.Helper()
	c, err := s.app.Registry.CurrentCertificate(context.Background(), no)
	if err != nil {
		t.Fatal(err)
	}
	if c.VerifyCode == "" {
		t.Fatalf("certificate %s has no verification code", no)
	}
	return c.VerifyCode
}

type publicView struct {
	LicenceID  string        `json:"licence_id"`
	HolderName string        `json:"holder_name"`
	IDNumber   string        `json:"id_number"`
	Status     verify.Status `json:"status"`
}

func lookupPath(licence, code string) string {
	return "/api/v1/verify/" + url.PathEscape(licence) + "?code=" + url.QueryEscape(code)
}

// publicLookup wants the certificate's status and masked holder data.
func (s *stack) publicLookup(t *testing.T, licence, code, id, name, state string) {
	t.Helper()
	r := s.get(t, lookupPath(licence, code), nil)
	v := decode[publicView](t, r, http.StatusOK)
	if v.LicenceID != licence || v.Status.Certificate != state {
		t.Errorf("lookup %s: licence %s status %+v, want %s", licence, v.LicenceID, v.Status, state)
	}
	if strings.Contains(string(r.Body), id) || !strings.Contains(v.IDNumber, "*") {
		t.Errorf("lookup %s: ID number %q not masked", licence, v.IDNumber)
	}
	if len([]rune(name)) > 1 && (strings.Contains(string(r.Body), name) || !strings.Contains(v.HolderName, "*")) {
		t.Errorf("lookup %s: holder name %q not masked", licence, v.HolderName)
	}
}

// copyLookup follows a usage copy's QR link: the answer carries that
// copy's usage validity; a copy id the registry does not know adds none.
func (s *stack) copyLookup(t *testing.T, cert certView, code string) {
	t.Helper()
	var copyID string
	// certificate_no is digits only (registry.CertificateNo), so it is quoted as it is.
	err := s.app.Registry.DB().QueryRowContext(context.Background(),
		`SELECT copy_id FROM usage_copies WHERE certificate_no = '`+cert.CertificateNo+`' LIMIT 1`).Scan(&copyID)
	if err != nil {
		t.Fatal(err)
	}
	type withCopy struct {
		Copy *struct {
			ID         string `json:"id"`
			InValidity bool   `json:"in_validity"`
		} `json:"copy"`
	}
	v := decode[withCopy](t, s.get(t, lookupPath(cert.LicenceID, code)+"&copy="+url.QueryEscape(copyID), nil), http.StatusOK)
	if v.Copy == nil || v.Copy.ID != copyID || !v.Copy.InValidity {
		t.Errorf("copy QR link: %+v, want copy %s in validity", v.Copy, copyID)
	}
	v = decode[withCopy](t, s.get(t, lookupPath(cert.LicenceID, code)+"&copy=C00000000000000000000", nil), http.StatusOK)
	if v.Copy != nil {
		t.Errorf("an unknown copy id was shown: %+v", v.Copy)
	}
}

// lookupRefusals wants a wrong, an empty and a missing code answered as an
// unknown licence id is: the same 404.
func (s *stack) lookupRefusals(t *testing.T, licence, code string) {
	t.Helper()
	unknown := problem(t, s.get(t, lookupPath(flipLast(licence), code), nil), http.StatusNotFound)
	paths := map[string]string{
		"wrong code": lookupPath(licence, flipLast(code)),
		"empty code": lookupPath(licence, ""),
		"no code":    "/api/v1/verify/" + url.PathEscape(licence),
	}
	for name, p := range paths {
		r := s.get(t, p, nil)
		got := problem(t, r, http.StatusNotFound)
		if !sameProblem(got, unknown) {
			t.Errorf("%s: %+v differs from the unknown licence's %+v", name, got, unknown)
		}
		if strings.Contains(string(r.Body), "**") {
			t.Errorf("%s: the 404 shows holder data: %s", name, r.Body)
		}
	}
}

// sameProblem compares problems but for the request's own id and path.
func sameProblem(a, b api.Problem) bool {
	a.RequestID, b.RequestID, a.Instance, b.Instance = "", "", "", ""
	return a.Type == b.Type && a.Title == b.Title && a.Status == b.Status && a.Detail == b.Detail &&
		a.Code == b.Code && a.Message == b.Message && len(a.Refusals) == 0 && len(b.Refusals) == 0
}

// revoke revokes the certificate as the portal and wants the file no
// longer current and 加注 refused.
func (s *stack) revoke(t *testing.T, tok string, cert certView, pdf file) {
	t.Helper()
	path := "/api/v1/certificates/" + url.PathEscape(cert.CertificateNo) + "/revoke"
	noReason := s.do(t, call{method: http.MethodPost, path: path, body: []byte(`{"reason":"  "}`), header: portal("application/json")})
	problem(t, noReason, http.StatusBadRequest)
	r := s.do(t, call{method: http.MethodPost, path: path, body: []byte(`{"reason":"以欺骗手段取得注册证书"}`), header: portal("application/json")})
	got := decode[certView](t, r, http.StatusOK)
	if got.CertificateNo != cert.CertificateNo || got.Status == cert.Status {
		t.Errorf("revoke: %+v, want %s with a new status (was %s)", got, cert.CertificateNo, cert.Status)
	}
	_, rep := s.verifyUpload(t, pdf.name, pdf.data)
	if rep.Verdict != verify.VerdictNotCurrent || rep.OK {
		t.Errorf("revoked %s: verdict %q ok %v, want %q", pdf.name, rep.Verdict, rep.OK, verify.VerdictNotCurrent)
	}
	for _, c := range rep.Checks {
		if c.Name == verify.CheckStatus && c.Status != verify.StatusFail {
			t.Errorf("revoked %s: status check %s: %s", pdf.name, c.Status, c.Reason)
		}
	}
	p := problem(t, s.do(t, call{method: http.MethodPost, path: restampPath(cert.CertificateNo, "pdf", "投标"), header: bearer(tok)}), http.StatusConflict)
	if !refusalCodes[p.Code] {
		t.Errorf("加注 of a revoked certificate: code %q (%s)", p.Code, p.Message)
	}
}
