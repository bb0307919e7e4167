package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
)

func init() {
	openapi3filter.RegisterBodyDecoder(statusListMediaType, openapi3filter.FileBodyDecoder)
}

// fakeStatusLists serves list 1 only.
type fakeStatusLists struct{ tok StatusListToken }

func (f fakeStatusLists) StatusList(id int64) (StatusListToken, bool) {
	if id != 1 {
		return StatusListToken{}, false
	}
	return f.tok, true
}

func withStatusLists(f StatusLists) func(*Config, *Deps) {
	return func(_ *Config, d *Deps) { d.StatusLists = f }
}

func TestGetStatusList(t *testing.T) {
	issued := testNow.Add(-time.Hour).Truncate(time.Second)
	tok := StatusListToken{Token: []byte("\xd2\x84signed"), ETag: `"abc123"`, IssuedAt: issued, TTL: 6 * time.Hour}
	e := newEnv(t, withStatusLists(fakeStatusLists{tok}))
	cases := []struct {
		name   string
		path   string
		header map[string]string
		status int
		body   string
	}{
		{"fetch", "/api/v1/status/1", nil, http.StatusOK, string(tok.Token)},
		{"if-none-match", "/api/v1/status/1", map[string]string{"If-None-Match": `"abc123"`}, http.StatusNotModified, ""},
		{"if-none-match among others, weak", "/api/v1/status/1", map[string]string{"If-None-Match": `"x", W/"abc123"`}, http.StatusNotModified, ""},
		{"if-none-match stale", "/api/v1/status/1", map[string]string{"If-None-Match": `"old"`}, http.StatusOK, string(tok.Token)},
		{"if-modified-since at iat", "/api/v1/status/1", map[string]string{"If-Modified-Since": issued.Format(http.TimeFormat)}, http.StatusNotModified, ""},
		{"if-modified-since before iat", "/api/v1/status/1", map[string]string{"If-Modified-Since": issued.Add(-time.Second).Format(http.TimeFormat)}, http.StatusOK, string(tok.Token)},
		{"unknown list", "/api/v1/status/2", nil, http.StatusNotFound, ""},
		{"not a number", "/api/v1/status/abc", nil, http.StatusNotFound, ""},
		{"leading zero", "/api/v1/status/01", nil, http.StatusNotFound, ""},
		{"zero", "/api/v1/status/0", nil, http.StatusNotFound, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := e.get(tc.path, tc.header)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tc.status, w.Body)
			}
			switch tc.status {
			case http.StatusNotFound:
				if p := problemOf(t, w); p.Code != CodeNotFound {
					t.Errorf("problem code %q", p.Code)
				}
				return
			case http.StatusOK:
				if ct := w.Header().Get("Content-Type"); ct != statusListMediaType {
					t.Errorf("Content-Type %q", ct)
				}
			}
			if w.Body.String() != tc.body {
				t.Errorf("body %q, want %q", w.Body, tc.body)
			}
			// 5 h of the 6 h ttl are left.
			if got := w.Header().Get("Cache-Control"); got != "public, max-age=18000" {
				t.Errorf("Cache-Control %q", got)
			}
			if w.Header().Get("ETag") != tok.ETag || w.Header().Get("Last-Modified") != issued.Format(http.TimeFormat) {
				t.Errorf("ETag %q Last-Modified %q", w.Header().Get("ETag"), w.Header().Get("Last-Modified"))
			}
		})
	}
}

// max-age never exceeds the ttl, nor goes below zero for an old token.
func TestStatusListMaxAgeBoundedByTTL(t *testing.T) {
	cases := []struct {
		issued time.Time
		want   string
	}{
		{testNow.Add(-7 * time.Hour), "public, max-age=0"},
		{testNow.Add(time.Hour), "public, max-age=21600"}, // a clock ahead of ours
		{testNow, "public, max-age=21600"},
	}
	for _, tc := range cases {
		tok := StatusListToken{Token: []byte("t"), ETag: `"e"`, IssuedAt: tc.issued, TTL: 6 * time.Hour}
		w := newEnv(t, withStatusLists(fakeStatusLists{tok})).get("/api/v1/status/1", nil)
		if got := w.Header().Get("Cache-Control"); w.Code != http.StatusOK || got != tc.want {
			t.Errorf("issued %s: %d %q, want %q", tc.issued, w.Code, got, tc.want)
		}
	}
}

func TestStatusListNotConfigured(t *testing.T) {
	w := newEnv(t).get("/api/v1/status/1", nil)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Header().Get("Content-Type"), "problem+json") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

// BenchmarkGetStatusList serves a token of the size a list of 2^20 entries
// with 1 % set compresses to (16 KiB) through the whole handler chain
// (request id, access log, rate limit, caching headers), and reports the
// 99th percentile.
func BenchmarkGetStatusList(b *testing.B) {
	tok := StatusListToken{Token: make([]byte, 16<<10), ETag: `"e"`, IssuedAt: testNow, TTL: 6 * time.Hour}
	_, pub, err := GenerateDevPortalKey()
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(Config{
		APIKeys: []APIKey{NewAPIKey("portal", testAPIKey)}, Tokens: TokenConfig{PublicKeysPEM: pub, Issuer: testIssuer, Audience: testAudience},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: func() time.Time { return testNow },
		RateLimit: RateLimit{PerSecond: 1e9, Burst: 1e9},
	}, Deps{StatusLists: fakeStatusLists{tok}})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	var lat []time.Duration
	for b.Loop() {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/status/1", nil)
		w := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(w, r)
		lat = append(lat, time.Since(start))
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
