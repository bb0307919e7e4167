package api

import (
	"context"
	_ "embed"
	"net/http"
	"sort"
	"time"

	"github.com/gin-gonic/gin"
)

//go:embed openapi.json
var openapiJSON []byte

// OpenAPI returns the embedded OpenAPI 3.0 document of the API.
func OpenAPI() []byte { return append([]byte(nil), openapiJSON...) }

func (s *Server) getOpenAPI(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/json", openapiJSON)
}

func getHealthz(c *gin.Context) {
	writeJSON(c, http.StatusOK, "application/json", gin.H{"status": "ok"})
}

// readiness is the /readyz answer: every backend by name, "ok" or its error.
type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// readyTimeout bounds one /readyz probe of all backends.
const readyTimeout = 5 * time.Second

func (s *Server) getReadyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	res := s.deps.Readiness.Ready(ctx)
	out := readiness{Status: "ready", Checks: map[string]string{}}
	names := make([]string, 0, len(res))
	for n := range res {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out.Checks[n] = "ok"
		if err := res[n]; err != nil {
			out.Checks[n] = maskText(err.Error())
			out.Status = "not ready"
		}
	}
	status := http.StatusOK
	if out.Status != "ready" {
		status = http.StatusServiceUnavailable
	}
	c.Header("Cache-Control", "no-store")
	writeJSON(c, status, "application/json", out)
}
