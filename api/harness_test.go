package api

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

const (
	testIssuer   = "https://portal.example.gov.cn"
	testAudience = "ecert"
	testAPIKey   = "s3cret-portal-key-0123456789"
)

// testKeys are the portal's keys: an SM2 and a P-256 key, both trusted.
type testKeys struct {
	sm2    *sm2.PrivateKey
	es     *ecdsa.PrivateKey
	pubPEM []byte
}

var (
	keysOnce sync.Once
	keys     testKeys
)

func portalKeys(t *testing.T) testKeys {
	t.Helper()
	keysOnce.Do(func() {
		priv, pub, err := GenerateDevPortalKey()
		if err != nil {
			panic(err)
		}
		s, err := ParsePortalPrivateKey(priv)
		if err != nil {
			panic(err)
		}
		keys.sm2 = s.(*sm2.PrivateKey)
		keys.es, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKIXPublicKey(&keys.es.PublicKey)
		keys.pubPEM = append(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})...)
	})
	return keys
}

// env is a server over fakes with captured logs.
type env struct {
	t       *testing.T
	srv     *Server
	holder  *fakeHolder
	auditor *fakeAuditor
	logs    *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T, mod ...func(*Config, *Deps)) *env {
	t.Helper()
	e := &env{t: t, holder: &fakeHolder{}, auditor: &fakeAuditor{}, logs: &syncBuffer{}}
	cfg := Config{
		APIKeys:   []APIKey{NewAPIKey("portal", testAPIKey)},
		Tokens:    TokenConfig{PublicKeysPEM: portalKeys(t).pubPEM, Issuer: testIssuer, Audience: testAudience},
		Logger:    slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:       func() time.Time { return testNow },
		RateLimit: RateLimit{PerSecond: 1000, Burst: 1000},
	}
	deps := Deps{Intake: &fakeIntake{}, Cases: fakeCases{}, Eligibility: fakeEligibility{}, Revoker: fakeRevoker{},
		Holder: e.holder, Verifier: fakeVerifier{}, Readiness: fakeReadiness{}, Auditor: e.auditor}
	for _, m := range mod {
		m(&cfg, &deps)
	}
	srv, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	return e
}

// token mints an SM2 person token for holder valid around testNow.
func token(t *testing.T, holder string) string {
	t.Helper()
	tok, err := MintDevToken(portalKeys(t).sm2, DevToken{Holder: holder, Name: "张三", Issuer: testIssuer, Audience: testAudience, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type req struct {
	method, path string
	body         io.Reader
	header       map[string]string
}

func (e *env) do(r req) *httptest.ResponseRecorder {
	e.t.Helper()
	hr := httptest.NewRequest(r.method, r.path, r.body)
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, hr)
	validateResponse(e.t, hr, w)
	return w
}

func (e *env) get(path string, header map[string]string) *httptest.ResponseRecorder {
	return e.do(req{method: http.MethodGet, path: path, header: header})
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func apiKey() map[string]string { return map[string]string{"X-API-Key": testAPIKey} }

var (
	docOnce   sync.Once
	docRouter routers.Router
	docErr    error
)

func openapiRouter(t *testing.T) routers.Router {
	t.Helper()
	docOnce.Do(func() {
		openapi3filter.RegisterBodyDecoder("application/pdf", openapi3filter.FileBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/ofd", openapi3filter.FileBodyDecoder)
		openapi3filter.RegisterBodyDecoder("image/svg+xml", openapi3filter.FileBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/x-ndjson", ndjsonDecoder)
		doc, err := openapi3.NewLoader().LoadFromData(openapiJSON)
		if err != nil {
			docErr = err
			return
		}
		if docErr = doc.Validate(context.Background()); docErr != nil {
			return
		}
		docRouter, docErr = legacy.NewRouter(doc)
	})
	if docErr != nil {
		t.Fatalf("openapi.json: %v", docErr)
	}
	return docRouter
}

// ndjsonDecoder decodes an NDJSON body into the array of its lines.
func ndjsonDecoder(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	var out []any
	dec := json.NewDecoder(body)
	for dec.More() {
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// validateResponse checks a response against openapi.json: its status must
// be documented for the route and its body match the schema. Unrouted
// paths (the 404 of NoRoute) have nothing to check.
func validateResponse(t *testing.T, r *http.Request, w *httptest.ResponseRecorder) {
	t.Helper()
	if err := checkResponse(t, r, w); err != nil {
		t.Errorf("%s %s → %d does not match openapi.json: %v\nbody: %.500s", r.Method, r.URL.Path, w.Code, err, w.Body.String())
	}
}

func checkResponse(t *testing.T, r *http.Request, w *httptest.ResponseRecorder) error {
	t.Helper()
	route, params, err := openapiRouter(t).FindRoute(r)
	if err != nil {
		if w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed {
			return fmt.Errorf("route not in openapi.json (%v)", err)
		}
		return nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route},
		Status:                 w.Code,
		Header:                 w.Header(),
		Body:                   io.NopCloser(bytes.NewReader(w.Body.Bytes())),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// problemOf decodes a problem+json response, checking its shape.
func problemOf(t *testing.T, w *httptest.ResponseRecorder) Problem {
	t.Helper()
	if mt, _, _ := mime.ParseMediaType(w.Header().Get("Content-Type")); mt != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json; body %s", w.Header().Get("Content-Type"), w.Body)
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != w.Code || p.Code == "" || p.Message == "" || !strings.HasPrefix(p.Type, problemTypeBase) || p.Title == "" || p.RequestID == "" {
		t.Errorf("problem shape: %+v (status %d)", p, w.Code)
	}
	return p
}

func httptestRequest(ctx context.Context, method, path string, header map[string]string) *http.Request {
	r := httptest.NewRequest(method, path, nil).WithContext(ctx)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	return r
}

func newDiscardRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
