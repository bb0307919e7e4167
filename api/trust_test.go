package api

import (
	"errors"
	"net/http"
	"testing"

	smx509 "github.com/emmansun/gmsm/smx509"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/signtest"
)

func init() {
	openapi3filter.RegisterBodyDecoder(pemMediaType, openapi3filter.FileBodyDecoder)
}

type fakeTrust struct {
	issuers []*smx509.Certificate
	root    *smx509.Certificate
	err     error
}

func (f fakeTrust) IssuerCertificates() ([]*smx509.Certificate, error) { return f.issuers, f.err }
func (f fakeTrust) Root() (*smx509.Certificate, error)                 { return f.root, f.err }

// TestTrustEndpoints: the PEM bundles read back as the certificates given,
// with an ETag that gives 304, and a key store that cannot be read is 500.
func TestTrustEndpoints(t *testing.T) {
	ca := signtest.NewCA(t, testNow)
	issuers := []*smx509.Certificate{ca.Signer.Chain()[0], ca.Issue(t, testNow, testNow.AddDate(1, 0, 0)).Chain()[0]}
	e := newEnv(t, func(_ *Config, d *Deps) { d.Trust = fakeTrust{issuers: issuers, root: ca.Root} })
	for _, tc := range []struct {
		path string
		want []*smx509.Certificate
	}{
		{"/api/v1/trust/issuers", issuers},
		{"/api/v1/trust/root", []*smx509.Certificate{ca.Root}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			w := e.do(req{method: "GET", path: tc.path})
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != pemMediaType {
				t.Fatalf("status %d, %s", w.Code, w.Header().Get("Content-Type"))
			}
			got, err := signing.ReadCertificatesPEM(w.Body.Bytes())
			if err != nil || len(got) != len(tc.want) {
				t.Fatalf("read back %d certificates, want %d: %v", len(got), len(tc.want), err)
			}
			for i := range got {
				if !got[i].Equal(tc.want[i]) {
					t.Errorf("certificate %d differs", i)
				}
			}
			etag := w.Header().Get("ETag")
			if etag == "" || w.Header().Get("Cache-Control") != trustMaxAge {
				t.Errorf("caching headers: ETag %q, Cache-Control %q", etag, w.Header().Get("Cache-Control"))
			}
			if w := e.do(req{method: "GET", path: tc.path, header: map[string]string{"If-None-Match": etag}}); w.Code != http.StatusNotModified {
				t.Errorf("If-None-Match with the ETag: %d, want 304", w.Code)
			}
			if w := e.do(req{method: "GET", path: tc.path, header: map[string]string{"If-None-Match": `"other"`}}); w.Code != http.StatusOK {
				t.Errorf("If-None-Match with another ETag: %d, want 200", w.Code)
			}
		})
	}
	bad := newEnv(t, func(_ *Config, d *Deps) { d.Trust = fakeTrust{err: errors.New("disk gone")} })
	if w := bad.do(req{method: "GET", path: "/api/v1/trust/issuers"}); w.Code != http.StatusInternalServerError {
		t.Errorf("unreadable key store: %d, want 500", w.Code)
	}
	none := newEnv(t)
	if w := none.do(req{method: "GET", path: "/api/v1/trust/root"}); w.Code != http.StatusServiceUnavailable {
		t.Errorf("no key store: %d, want 503", w.Code)
	}
}
