package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func claims(holder string, mod func(*Claims)) Claims {
	c := Claims{RegisteredClaims: jwt.RegisteredClaims{
		Subject: holder, Issuer: testIssuer, Audience: jwt.ClaimStrings{testAudience},
		IssuedAt: jwt.NewNumericDate(testNow), NotBefore: jwt.NewNumericDate(testNow.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(testNow.Add(time.Hour)),
	}, Type: AccountPerson}
	if mod != nil {
		mod(&c)
	}
	return c
}

func signed(t *testing.T, m jwt.SigningMethod, key any, c Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTokenMatrix: only a portal-signed, current, person token for the
// right audience and issuer reaches the holder's certificates.
func TestTokenMatrix(t *testing.T) {
	e := newEnv(t)
	k := portalKeys(t)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sm2tok := signed(t, SigningMethodSM2SM3, k.sm2, claims(holderA, nil))
	forged := sm2tok[:strings.LastIndex(sm2tok, ".")+1] + base64.RawURLEncoding.EncodeToString(make([]byte, 64))
	unsigned, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims(holderA, nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	tests := []struct {
		name   string
		tok    string
		status int
		code   string
	}{
		{"sm2 happy path", sm2tok, 200, ""},
		{"es256 happy path", signed(t, jwt.SigningMethodES256, k.es, claims(holderA, nil)), 200, ""},
		{"no token", "", 401, CodeUnauthorized},
		{"enterprise", signed(t, SigningMethodSM2SM3, k.sm2, claims(holderA, func(c *Claims) { c.Type = AccountEnterprise })), 403, CodeEnterprise},
		{"typ missing", signed(t, SigningMethodSM2SM3, k.sm2, claims(holderA, func(c *Claims) { c.Type = "" })), 401, CodeUnauthorized},
		{"expired", signed(t, SigningMethodSM2SM3, k.sm2, claims(holderA, func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(testNow.Add(-2 * time.Minute)) })), 401, CodeUnauthorized},
		{"expired within leeway", signed(t, SigningMethodSM2SM3, k.sm2, claims(holderA, func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(testNow.Add(-10 * time.Second)) })), 200, ""},
		{"no exp", signed(t, SigningMethodSM2SM3, k.sm2, claims(holderA, func(c *Claims) { c.ExpiresAt = nil })), 401, CodeUnauthorized},
		{"lifetime too long", signed(t, SigningMethodSM2SM3, k.sm2, claims(holderA, func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(testNow.Add(48 * time.Hour)) })), 401, CodeUnauthorized},
		{"not yet valid", signed(t, SigningMethodSM2SM3, k.sm2, claims(holderA, func(c *Claims) { c.NotBefore = jwt.NewNumericDate(testNow.Add(5 * time.Minute)) })), 401, CodeUnauthorized},
		{"wrong audience", signed(t, SigningMethodSM2SM3, k.sm2, claims(holderA, func(c *Claims) { c.Audience = jwt.ClaimStrings{"other"} })), 401, CodeUnauthorized},
		{"wrong issuer", signed(t, SigningMethodSM2SM3, k.sm2, claims(holderA, func(c *Claims) { c.Issuer = "https://evil.example" })), 401, CodeUnauthorized},
		{"subject not an ID number", signed(t, SigningMethodSM2SM3, k.sm2, claims("91210000MA0P4X1234", nil)), 401, CodeUnauthorized},
		{"alg none", unsigned, 401, CodeUnauthorized},
		{"HS256 with the public key bytes", signed(t, jwt.SigningMethodHS256, k.pubPEM, claims(holderA, nil)), 401, CodeUnauthorized},
		{"forged signature", forged, 401, CodeUnauthorized},
		{"key of someone else", signed(t, jwt.SigningMethodES256, other, claims(holderA, nil)), 401, CodeUnauthorized},
		{"garbage", "not.a.token", 401, CodeUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := bearer(tc.tok)
			if tc.tok == "" {
				h = nil
			}
			w := e.get("/api/v1/me/certificates", h)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.code != "" {
				if p := problemOf(t, w); p.Code != tc.code {
					t.Errorf("code %q, want %q", p.Code, tc.code)
				}
				if strings.Contains(w.Body.String(), holderA) {
					t.Error("refusal body names the holder")
				}
			}
		})
	}
}

// TestOwnership: someone else's certificate or copy is the same 404 as one
// that does not exist.
func TestOwnership(t *testing.T) {
	e := newEnv(t)
	tokB := token(t, holderB)
	paths := []struct{ method, path string }{
		{"GET", "/api/v1/me/certificates/" + certA + "/file?format=pdf"},
		{"POST", "/api/v1/me/certificates/" + certA + "/restamp?format=pdf&purpose=投标"},
		{"GET", "/api/v1/me/copies/c-1/file"},
	}
	for _, p := range paths {
		t.Run(p.method+" "+p.path, func(t *testing.T) {
			theirs := e.do(req{method: p.method, path: p.path, header: bearer(tokB)})
			unknown := e.do(req{method: p.method, path: strings.Replace(strings.Replace(p.path, certA, "2025999999", 1), "c-1", "c-404", 1), header: bearer(tokB)})
			if theirs.Code != 404 || unknown.Code != 404 {
				t.Fatalf("status %d and %d, want 404", theirs.Code, unknown.Code)
			}
			a, b := problemOf(t, theirs), problemOf(t, unknown)
			if a.Code != b.Code || a.Detail != b.Detail || a.Message != b.Message {
				t.Errorf("someone else's %+v differs from unknown %+v", a, b)
			}
		})
	}
	// The list shows only the holder's own.
	w := e.get("/api/v1/me/certificates", bearer(tokB))
	if !strings.Contains(w.Body.String(), certB) || strings.Contains(w.Body.String(), certA) {
		t.Errorf("list of B: %s", w.Body)
	}
}

func TestNewRefusesBadTokenConfig(t *testing.T) {
	k := portalKeys(t)
	tests := []struct {
		name string
		tc   TokenConfig
	}{
		{"no key", TokenConfig{Issuer: "i", Audience: "a"}},
		{"no issuer", TokenConfig{PublicKeysPEM: k.pubPEM, Audience: "a"}},
		{"no audience", TokenConfig{PublicKeysPEM: k.pubPEM, Issuer: "i"}},
		{"leeway too large", TokenConfig{PublicKeysPEM: k.pubPEM, Issuer: "i", Audience: "a", Leeway: 5 * time.Minute}},
		{"not PEM of a key", TokenConfig{PublicKeysPEM: []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"), Issuer: "i", Audience: "a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(Config{APIKeys: []APIKey{NewAPIKey("p", "k")}, Tokens: tc.tc}, Deps{}); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

func TestSM2SignatureIsRawRS(t *testing.T) {
	tok := token(t, holderA)
	sig, err := base64.RawURLEncoding.DecodeString(tok[strings.LastIndex(tok, ".")+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature of %d bytes (%v), want r‖s of 64", len(sig), err)
	}
	if hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0]); !strings.Contains(string(hdr), `"alg":"SM2SM3"`) {
		t.Errorf("header %s", hdr)
	}
}

// TestAPIKeys: the portal routes need a configured key in either header.
func TestAPIKeys(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		header map[string]string
		status int
	}{
		{"X-API-Key", apiKey(), 200},
		{"Authorization ApiKey", map[string]string{"Authorization": "ApiKey " + testAPIKey}, 200},
		{"missing", nil, 401},
		{"wrong", map[string]string{"X-API-Key": testAPIKey + "x"}, 401},
		{"bearer token is not a key", bearer(token(t, holderA)), 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.get("/api/v1/cases/BJ-1", tc.header)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.status != 200 {
				problemOf(t, w)
			}
		})
	}
}

func TestParseAPIKey(t *testing.T) {
	k := NewAPIKey("portal", "secret")
	got, err := ParseAPIKey("portal:" + strings.ToLower(hexOf(k.Hash[:])))
	if err != nil || got != k {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"", "portal", ":abcd", "portal:zz", "portal:abcd"} {
		if _, err := ParseAPIKey(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	_ = http.StatusOK
}
