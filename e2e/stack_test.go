// Package e2e holds ecert's end-to-end tests: the real composition root
// (internal/app) behind the real api handler on a loopback TCP listener,
// driven over HTTP as the portal, applicants and verifiers drive it, on the
// embedded defaults and on PostgreSQL, MinIO and Redis. Every response is
// checked against the service's own OpenAPI document.
package e2e

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/minio/minio-go/v7"

	"github.com/ecert/ecert/api"
	"github.com/ecert/ecert/internal/app"
	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/storage/objectstore"
)

const (
	tokenIssuer   = "https://portal.e2e.example.gov.cn"
	tokenAudience = "ecert-e2e"
	portalAPIKey  = "e2e-portal-secret-0123456789abcdef"
)

// stack is one running service: the app, its workers and its HTTP server
// on 127.0.0.1, with the portal's token key and the API key.
type stack struct {
	app     *app.App
	base    string
	client  *http.Client
	portal  crypto.Signer // signs applicants' tokens (SM2)
	pubPEM  []byte
	rootPEM string // the key store's root, for `ecert verify --trust`
	logs    *syncBuffer
	router  routers.Router
	// issueErrs holds the workers' failures by message.
	issueErrs sync.Map
}

// issueError is a worker's failure naming caseID, if any.
func (s *stack) issueError(caseID string) error {
	var found error
	s.issueErrs.Range(func(k, v any) bool {
		if strings.Contains(k.(string), caseID) {
			found = v.(error)
		}
		return found == nil
	})
	return found
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

// embeddedConfig is the embedded defaults in a temporary directory.
func embeddedConfig(t *testing.T) app.Config {
	return app.Config{DataDir: t.TempDir()}
}

// productionConfig is PostgreSQL (a schema), MinIO (a bucket) and Redis (a
// key prefix) of this test alone; without the servers it skips, or fails
// under CI=true.
func productionConfig(t *testing.T) app.Config {
	t.Helper()
	name := fmt.Sprintf("e2e%d", time.Now().UnixNano())
	mc := testenv.MinIOServer(t)
	redis := testenv.RedisAddr(t)
	dsn := testenv.PostgresSchema(t)
	return app.Config{
		DataDir: t.TempDir(), Database: dsn,
		MinIOEndpoint: mc.Endpoint, MinIOAccessKey: mc.AccessKey, MinIOSecretKey: mc.SecretKey,
		MinIOBucket: "ecert-" + name, RedisAddrs: []string{redis}, RedisPrefix: name + ":",
	}
}

// newStack opens the app from c, starts its issuing workers and serves the
// api on a loopback port until the test ends.
func newStack(t *testing.T, c app.Config) *stack {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	c.Logger = quiet
	c.VerifyBaseURL = "https://ecert.example.gov.cn/verify" // as `ecert serve` defaults it
	a, err := app.Open(ctx, c)
	if err != nil {
		t.Fatalf("app.Open: %v", err)
	}
	t.Cleanup(a.Close)
	if m, ok := a.Store.(*objectstore.MinIO); ok {
		t.Cleanup(func() { removeBucket(t, m) })
	}
	s := &stack{app: a, logs: &syncBuffer{}}
	s.portalKey(t)
	s.writeRoot(t)
	s.serve(t)
	s.startWorkers(t, quiet)
	s.router = loadRouter(t, s)
	return s
}

func removeBucket(t *testing.T, m *objectstore.MinIO) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.Client().RemoveBucketWithOptions(ctx, m.Bucket(), minio.RemoveBucketOptions{ForceDelete: true}); err != nil {
		t.Logf("cleanup bucket %s: %v", m.Bucket(), err)
	}
}

func (s *stack) portalKey(t *testing.T) {
	t.Helper()
	priv, pub, err := api.GenerateDevPortalKey()
	if err != nil {
		t.Fatal(err)
	}
	if s.portal, err = api.ParsePortalPrivateKey(priv); err != nil {
		t.Fatal(err)
	}
	s.pubPEM = pub
}

func (s *stack) writeRoot(t *testing.T) {
	t.Helper()
	root, err := s.app.Keys.Root()
	if err != nil {
		t.Fatal(err)
	}
	s.rootPEM = filepath.Join(t.TempDir(), "root.pem")
	if err := os.WriteFile(s.rootPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// apiConfig is the HTTP layer's configuration: the test portal's key and
// API key, a rate limit these tests never reach, short server timeouts.
func (s *stack) apiConfig() api.Config {
	return api.Config{
		APIKeys:   []api.APIKey{api.NewAPIKey("e2e-portal", portalAPIKey)},
		Tokens:    api.TokenConfig{PublicKeysPEM: s.pubPEM, Issuer: tokenIssuer, Audience: tokenAudience},
		RateLimit: api.RateLimit{PerSecond: 1000, Burst: 1000},
		Server:    api.ServerTimeouts{ReadTimeout: 20 * time.Second, WriteTimeout: 20 * time.Second},
		Logger:    slog.New(slog.NewJSONHandler(s.logs, nil)),
	}
}

func (s *stack) serve(t *testing.T) {
	t.Helper()
	cfg := s.apiConfig()
	srv, err := api.New(cfg, s.app.APIDeps())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := api.NewHTTPServer(ln.Addr().String(), srv.Handler(), cfg)
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hs.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != http.ErrServerClosed {
			t.Errorf("serve: %v", err)
		}
	})
	s.base = "http://" + ln.Addr().String()
	s.client = &http.Client{Timeout: 60 * time.Second}
}

func (s *stack) startWorkers(t *testing.T, log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	record := func(_ issuance.Result, err error) {
		if err != nil {
			s.issueErrs.Store(err.Error(), err)
		}
	}
	go func() { done <- issuance.RunWorkers(ctx, s.app.Queue, s.app.Service, 2, log, record) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && ctx.Err() == nil {
			t.Errorf("workers: %v", err)
		}
	})
}

// token mints an applicant's token as the portal does.
func (s *stack) token(t *testing.T, holder string, mod ...func(*api.DevToken)) string {
	t.Helper()
	d := api.DevToken{Holder: holder, Issuer: tokenIssuer, Audience: tokenAudience, TTL: time.Hour}
	for _, m := range mod {
		m(&d)
	}
	tok, err := api.MintDevToken(s.portal, d)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// call is one request; response is what came back, read whole.
type call struct {
	method, path string
	body         []byte
	header       map[string]string
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func portal(contentType string) map[string]string {
	h := map[string]string{"X-API-Key": portalAPIKey}
	if contentType != "" {
		h["Content-Type"] = contentType
	}
	return h
}

// do sends c over the loopback connection and checks the response against
// openapi.json.
func (s *stack) do(t *testing.T, c call) response {
	t.Helper()
	req, err := http.NewRequest(c.method, s.base+c.path, bytes.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", c.method, c.path, err)
	}
	r := response{Status: res.StatusCode, Header: res.Header, Body: body}
	if s.router != nil {
		s.validate(t, req, r)
	}
	return r
}

func (s *stack) get(t *testing.T, path string, header map[string]string) response {
	t.Helper()
	return s.do(t, call{method: http.MethodGet, path: path, header: header})
}

// decode unmarshals a JSON response of the wanted status.
func decode[T any](t *testing.T, r response, status int) T {
	t.Helper()
	var v T
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %.600s", r.Status, status, r.Body)
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decode %T: %v; body %.600s", v, err, r.Body)
	}
	return v
}

// problem checks that r is an application/problem+json of status and
// returns it.
func problem(t *testing.T, r response, status int) api.Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("status %d Content-Type %q, want a problem; body %.600s", r.Status, ct, r.Body)
	}
	p := decode[api.Problem](t, r, status)
	if p.Status != status || p.Code == "" || p.Message == "" || p.RequestID == "" {
		t.Errorf("problem shape: %+v", p)
	}
	return p
}

var registerDecoders sync.Once

// loadRouter reads the OpenAPI document the service serves.
func loadRouter(t *testing.T, s *stack) routers.Router {
	t.Helper()
	registerDecoders.Do(func() {
		openapi3filter.RegisterBodyDecoder("application/pdf", openapi3filter.FileBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/ofd", openapi3filter.FileBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/x-ndjson", ndjsonDecoder)
	})
	r := s.get(t, "/api/v1/openapi.json", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("openapi.json: %d", r.Status)
	}
	doc, err := openapi3.NewLoader().LoadFromData(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return router
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

// validate checks a response against openapi.json: its status documented
// for the route and its body matching the schema. Unrouted paths (the 404
// of NoRoute) have nothing to check.
func (s *stack) validate(t *testing.T, req *http.Request, r response) {
	t.Helper()
	// The document's server is "/": route by path and query alone.
	route, params, err := s.router.FindRoute(httptest.NewRequest(req.Method, req.URL.RequestURI(), nil))
	if err != nil {
		if r.Status != http.StatusNotFound && r.Status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s → %d: route not in openapi.json (%v)", req.Method, req.URL.Path, r.Status, err)
		}
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 r.Status,
		Header:                 r.Header,
		Body:                   io.NopCloser(bytes.NewReader(r.Body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s → %d does not match openapi.json: %v\nbody: %.500s", req.Method, req.URL.Path, r.Status, err, r.Body)
	}
}

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// cli builds the ecert command once for the package.
func cli(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ecert-e2e-cli")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "ecert")
		out, err := exec.Command("go", "build", "-o", cliPath, "github.com/ecert/ecert/cmd/ecert").CombinedOutput()
		if err != nil {
			cliErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cliPath != "" {
		os.RemoveAll(filepath.Dir(cliPath))
	}
	os.Exit(code)
}
