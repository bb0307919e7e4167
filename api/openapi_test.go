package api

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestRoutesMatchDocument: every gin route is in openapi.json and every
// documented operation is a gin route.
func TestRoutesMatchDocument(t *testing.T) {
	e := newEnv(t)
	doc, err := openapi3.NewLoader().LoadFromData(openapiJSON)
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	var gin, documented []string
	for _, r := range e.srv.Routes() {
		if isPageRoute(r.Path) {
			continue // the HTML pages (web.go) are not API operations
		}
		gin = append(gin, r.Method+" "+param.ReplaceAllString(r.Path, "{$1}"))
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	sort.Strings(gin)
	sort.Strings(documented)
	if strings.Join(gin, "\n") != strings.Join(documented, "\n") {
		t.Errorf("routes:\n%s\n\nopenapi.json:\n%s", strings.Join(gin, "\n"), strings.Join(documented, "\n"))
	}
}

// TestValidatorCatchesDrift: the response check used by every test fails
// on an undocumented status and on a body that breaks the schema.
func TestValidatorCatchesDrift(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"undocumented status", http.StatusTeapot, `{"status":"ok"}`},
		{"body off schema", http.StatusOK, `{"status":"fine"}`},
		{"problem without code", http.StatusNotFound, `{"type":"x","title":"Not Found","status":404}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := "/healthz"
			ct := "application/json"
			if tc.status == http.StatusNotFound {
				path, ct = "/api/v1/cases/x", "application/problem+json"
			}
			r := httptest.NewRequest(http.MethodGet, path, nil)
			w := httptest.NewRecorder()
			w.Header().Set("Content-Type", ct)
			w.WriteHeader(tc.status)
			w.WriteString(tc.body)
			if err := checkResponse(t, r, w); err == nil {
				t.Error("accepted")
			}
		})
	}
}
