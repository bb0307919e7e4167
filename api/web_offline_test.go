package api

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestOfflineVerifierAssets: only the verification page may compile wasm;
// ecert.wasm is served gzipped to browsers and inflated to others; the
// service worker may control /verify.
func TestOfflineVerifierAssets(t *testing.T) {
	e := newEnv(t)
	get := func(path string, header map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		for k, v := range header {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(w, r) // pages are not in openapi.json: not e.do
		return w
	}
	for _, tc := range []struct{ path, want string }{
		{"/verify", "script-src 'self' 'wasm-unsafe-eval';"},
		{"/verify/1.2.3?code=X", "script-src 'self' 'wasm-unsafe-eval';"},
		{"/me", "script-src 'self';"},
		{"/assets/verify.js", "script-src 'self';"},
	} {
		w := get(tc.path, nil)
		if csp := w.Header().Get("Content-Security-Policy"); w.Code != http.StatusOK || !strings.Contains(csp, tc.want) {
			t.Errorf("%s: %d, CSP %q, want %q", tc.path, w.Code, csp, tc.want)
		}
	}

	gz, _ := wasmGz()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("\x00asm")) {
		t.Fatalf("embedded ecert.wasm.gz does not hold a WebAssembly module")
	}
	w := get("/assets/ecert.wasm", map[string]string{"Accept-Encoding": "gzip, deflate, br"})
	if w.Code != http.StatusOK || w.Header().Get("Content-Encoding") != "gzip" || w.Header().Get("Content-Type") != "application/wasm" || !bytes.Equal(w.Body.Bytes(), gz) {
		t.Errorf("gzip client: %d, encoding %q, type %q, %d bytes", w.Code, w.Header().Get("Content-Encoding"), w.Header().Get("Content-Type"), w.Body.Len())
	}
	etag := w.Header().Get("ETag")
	if w := get("/assets/ecert.wasm", map[string]string{"If-None-Match": etag}); w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", w.Code)
	}
	w = get("/assets/ecert.wasm", nil)
	if w.Code != http.StatusOK || w.Header().Get("Content-Encoding") != "" || !bytes.Equal(w.Body.Bytes(), raw) {
		t.Errorf("client without gzip: %d, encoding %q, %d bytes, want %d inflated", w.Code, w.Header().Get("Content-Encoding"), w.Body.Len(), len(raw))
	}

	w = get("/assets/sw.js", nil)
	if w.Code != http.StatusOK || w.Header().Get("Service-Worker-Allowed") != "/verify" {
		t.Errorf("sw.js: %d, Service-Worker-Allowed %q", w.Code, w.Header().Get("Service-Worker-Allowed"))
	}
}
