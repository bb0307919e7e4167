package e2e

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ecert/ecert/api"
	"github.com/ecert/ecert/intake"
)

// authorization: another applicant (approvals[2]) goes after the
// certificate and copy of approvals[1]; bad tokens of every kind.
func (s *stack) authorization(t *testing.T, w world) {
	victim, cert := w.approvals[1], w.certs[1]
	victimTok := s.token(t, victim.Person.IDNumber)
	cp := s.restamp(t, victimTok, cert.CertificateNo, "pdf", "投标")
	other := s.token(t, w.approvals[2].Person.IDNumber)
	t.Run("another person", func(t *testing.T) { s.someoneElses(t, other, victim, cert, cp) })
	t.Run("bad tokens", func(t *testing.T) { s.badTokens(t, victim) })
	t.Run("number guessing", func(t *testing.T) { s.guessNumbers(t, other, victim, cert, w.certs[2]) })
}

// someoneElses wants another holder's certificate and copy answered as
// ones that do not exist.
func (s *stack) someoneElses(t *testing.T, tok string, victim intake.Approval, cert certView, cp copyView) {
	none := problem(t, s.get(t, "/api/v1/me/certificates/0000000000/file?format=pdf", bearer(tok)), http.StatusNotFound)
	calls := map[string]call{
		"certificate pdf": {method: http.MethodGet, path: "/api/v1/me/certificates/" + url.PathEscape(cert.CertificateNo) + "/file?format=pdf"},
		"certificate ofd": {method: http.MethodGet, path: "/api/v1/me/certificates/" + url.PathEscape(cert.CertificateNo) + "/file?format=ofd"},
		"copy":            {method: http.MethodGet, path: relative(t, cp.Download)},
		"加注":              {method: http.MethodPost, path: restampPath(cert.CertificateNo, "pdf", "投标")},
	}
	for name, c := range calls {
		c.header = bearer(tok)
		r := s.do(t, c)
		p := problem(t, r, http.StatusNotFound)
		if p.Code != none.Code || p.Message != none.Message {
			t.Errorf("%s: %+v, want the 404 of a certificate that does not exist (%+v)", name, p, none)
		}
		noLeak(t, name, r.Body, victim, cert)
	}
}

// noLeak wants nothing of the victim in a refusal.
func noLeak(t *testing.T, name string, body []byte, victim intake.Approval, cert certView) {
	t.Helper()
	b := string(body)
	for _, secret := range []string{victim.Person.IDNumber, victim.Person.IDNumber[:6] + "*", victim.Person.Name,
		victim.Registration.Number, cert.LicenceID, victim.Person.Phone} {
		if strings.Contains(b, secret) {
			t.Errorf("%s: the refusal leaks %q: %s", name, secret, b)
		}
	}
}

// badTokens: each refused token on the victim's own listing.
func (s *stack) badTokens(t *testing.T, victim intake.Approval) {
	id := victim.Person.IDNumber
	now := time.Now()
	forger := &stack{}
	forger.portalKey(t)
	tests := []struct {
		name   string
		token  string
		status int
		code   string
	}{
		{"enterprise", s.token(t, id, func(d *api.DevToken) { d.Enterprise = true }), http.StatusForbidden, api.CodeEnterprise},
		{"expired", s.token(t, id, func(d *api.DevToken) { d.Now, d.TTL = now.Add(-3*time.Hour), time.Hour }), http.StatusUnauthorized, api.CodeUnauthorized},
		{"not yet valid", s.token(t, id, func(d *api.DevToken) { d.Now = now.Add(10 * time.Minute) }), http.StatusUnauthorized, api.CodeUnauthorized},
		{"wrong audience", s.token(t, id, func(d *api.DevToken) { d.Audience = "another-service" }), http.StatusUnauthorized, api.CodeUnauthorized},
		{"wrong issuer", s.token(t, id, func(d *api.DevToken) { d.Issuer = "https://evil.example" }), http.StatusUnauthorized, api.CodeUnauthorized},
		{"alg none", unsigned(t, id), http.StatusUnauthorized, api.CodeUnauthorized},
		{"HS256 with the public key", hmacWithPublicKey(t, id, s.pubPEM), http.StatusUnauthorized, api.CodeUnauthorized},
		{"forged signature", forger.token(t, id), http.StatusUnauthorized, api.CodeUnauthorized},
		{"tampered signature", tamper(t, s.token(t, id)), http.StatusUnauthorized, api.CodeUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.get(t, "/api/v1/me/certificates", bearer(tc.token))
			p := problem(t, r, tc.status)
			if p.Code != tc.code {
				t.Errorf("code %q, want %q", p.Code, tc.code)
			}
			if tc.status == http.StatusUnauthorized && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
			}
			if strings.Contains(string(r.Body), id) || strings.Contains(string(r.Body), tc.token) {
				t.Errorf("the refusal shows the ID number or the token: %s", r.Body)
			}
		})
	}
}

func claims(id string) api.Claims {
	now := time.Now()
	return api.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: id, Issuer: tokenIssuer,
		Audience: jwt.ClaimStrings{tokenAudience}, IssuedAt: jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}, Type: api.AccountPerson}
}

func unsigned(t *testing.T, id string) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(id)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func hmacWithPublicKey(t *testing.T, id string, pubPEM []byte) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(id)).SignedString(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// tamper flips one character of a signed token's signature.
func tamper(t *testing.T, tok string) string {
	t.Helper()
	i := strings.LastIndexByte(tok, '.')
	if i < 0 || i+2 >= len(tok) {
		t.Fatalf("not a JWS: %q", tok)
	}
	sig := []byte(tok[i+1:])
	if sig[2] == 'A' {
		sig[2] = 'B'
	} else {
		sig[2] = 'A'
	}
	return tok[:i+1] + string(sig)
}

// guessNumbers: a holder walking certificate numbers around the victim's
// gets only 404s, the same as for numbers never issued.
func (s *stack) guessNumbers(t *testing.T, tok string, victim intake.Approval, cert, own certView) {
	n, err := strconv.ParseInt(cert.CertificateNo, 10, 64)
	if err != nil {
		t.Fatalf("certificate number %q is not a number: %v", cert.CertificateNo, err)
	}
	width := len(cert.CertificateNo)
	for d := int64(-5); d <= 5; d++ {
		no := strconv.FormatInt(n+d, 10)
		if len(no) < width {
			no = strings.Repeat("0", width-len(no)) + no
		}
		if no == own.CertificateNo {
			continue
		}
		for _, format := range []string{"pdf", "ofd"} {
			r := s.get(t, "/api/v1/me/certificates/"+no+"/file?format="+format, bearer(tok))
			if p := problem(t, r, http.StatusNotFound); p.Code != api.CodeNotFound {
				t.Errorf("guess %s: code %q", no, p.Code)
			}
			noLeak(t, "guess "+no, r.Body, victim, cert)
		}
	}
}
