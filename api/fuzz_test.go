package api

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// FuzzRequestBodies sends arbitrary bytes as the body of every route that
// reads one: whatever arrives, the answer is a documented 2xx or 4xx
// (env.do validates it against openapi.json), never a 5xx.
func FuzzRequestBodies(f *testing.F) {
	for _, s := range []string{
		`{"business_type":"renewal","id_number":"21010219850716093X","submitted_on":"2026-12-05"}`,
		`{"reason":"以欺骗手段取得注册"}`, `{"reason":""}`, `{`, `[]`, `null`, "\x00\xff",
		`{"case_id":"A","business_type":"initial"}` + "\n{}\n",
	} {
		f.Add(s)
	}
	routes := []struct{ path, ctype string }{
		{"/api/v1/eligibility", "application/json"},
		{"/api/v1/certificates/2112025000001/revoke", "application/json"},
		{"/api/v1/approvals", "application/x-ndjson"},
	}
	f.Fuzz(func(t *testing.T, body string) {
		e := newEnv(t)
		for _, r := range routes {
			w := e.do(req{method: http.MethodPost, path: r.path, body: strings.NewReader(body),
				header: map[string]string{"X-API-Key": testAPIKey, "Content-Type": r.ctype}})
			if w.Code >= 500 {
				t.Fatalf("%s answered %d to %q: %s", r.path, w.Code, body, w.Body)
			}
		}
	})
}

// FuzzBearerToken sends arbitrary Authorization headers: none is accepted
// but a token the portal key signed, and none is answered with a 5xx or
// echoed back.
func FuzzBearerToken(f *testing.F) {
	f.Add("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIyMTAxMDIxOTg1MDcxNjA5M1gifQ.")
	f.Add("Bearer a.b.c")
	f.Add("bearer")
	f.Add("Basic dXNlcjpwYXNz")
	f.Fuzz(func(t *testing.T, header string) {
		if strings.ContainsAny(header, "\r\n\x00") {
			return // not a header a client can send
		}
		e := newEnv(t)
		w := e.get("/api/v1/me/certificates", map[string]string{"Authorization": header})
		if w.Code >= 500 || w.Code == http.StatusOK {
			t.Fatalf("Authorization %q answered %d", header, w.Code)
		}
		if tok := strings.TrimPrefix(header, "Bearer "); len(tok) > 8 && bytes.Contains(w.Body.Bytes(), []byte(tok)) {
			t.Fatalf("the token was echoed: %s", w.Body)
		}
	})
}
