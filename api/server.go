// Package api is ecert's HTTP service: the portal's and reviewers' intake and
// administration, applicants' downloads and re-stamps, and public
// verification, on gin. It declares the small interfaces it consumes from the
// core (deps.go) and never reaches storage or signing itself. It must never
// log tokens, API keys or full ID numbers, and never tells a stranger's
// certificate apart from one that does not exist.
package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Server is the configured HTTP API.
type Server struct {
	cfg     Config
	deps    Deps
	engine  *gin.Engine
	tokens  *tokenVerifier
	metrics *metrics
	limiter *clientLimiter
}

// New builds the API from its configuration and the core services.
func New(cfg Config, deps Deps) (*Server, error) {
	gin.SetMode(gin.ReleaseMode)
	cfg = cfg.withDefaults()
	tv, err := newTokenVerifier(cfg.Tokens, cfg.Now)
	if err != nil {
		return nil, err
	}
	if len(cfg.APIKeys) == 0 {
		return nil, errors.New("api: no API keys configured (APIKeys)")
	}
	if err := gin.New().SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("api: TrustedProxies: %w", err)
	}
	s := &Server{cfg: cfg, deps: deps, tokens: tv, metrics: newMetrics(), limiter: newClientLimiter(cfg.RateLimit)}
	s.engine = s.routes()
	return s, nil
}

// Handler returns the root handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Route is one registered method and path template.
type Route struct{ Method, Path string }

// Routes lists the registered routes.
func (s *Server) Routes() []Route {
	var rs []Route
	for _, r := range s.engine.Routes() {
		rs = append(rs, Route{r.Method, r.Path})
	}
	return rs
}
