package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// requestIDPattern is what an incoming X-Request-ID must look like to be
// kept: short, and nothing a log or header could be abused with.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// withRequestID keeps a well-formed X-Request-ID or makes one, and echoes it.
func withRequestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !requestIDPattern.MatchString(id) || maskText(id) != id {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

// accessLog logs one line per request: never the query string, headers or
// body (tokens, keys and ID numbers travel there), and the route template
// instead of the raw path when there is one.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := routeOf(c)
	lat := time.Since(start)
	s.metrics.observe(c.Request.Method, route, c.Writer.Status(), lat)
	attrs := []slog.Attr{
		slog.String("request_id", requestID(c)),
		slog.String("method", c.Request.Method),
		slog.String("route", route),
		slog.Int("status", c.Writer.Status()),
		slog.Duration("latency", lat),
		slog.Int("bytes", c.Writer.Size()),
		slog.String("client", c.ClientIP()),
	}
	if code := c.GetString(ctxProblemCode); code != "" {
		attrs = append(attrs, slog.String("problem", code))
	}
	if actor := c.GetString(ctxActor); actor != "" {
		attrs = append(attrs, slog.String("actor", actor))
	}
	if e := c.GetString(ctxError); e != "" {
		attrs = append(attrs, slog.String("error", maskText(e)))
	}
	level := slog.LevelInfo
	if c.Writer.Status() >= 500 && c.Writer.Status() != 499 {
		level = slog.LevelError
	}
	s.cfg.Logger.LogAttrs(c.Request.Context(), level, "http request", attrs...)
}

// routeOf is the route template, or "unmatched" (never the raw path, which
// may carry an ID number or grow the metrics without bound).
func routeOf(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// recovery turns a panic into a problem+json 500 and logs it.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.cfg.Logger.Error("panic", "request_id", requestID(c), "route", routeOf(c),
				"panic", maskText(fmt.Sprint(v)), "stack", maskText(string(debug.Stack())))
			if !c.Writer.Written() {
				fail(c, errors.New("panic"))
			}
			c.Abort()
		}
	}()
	c.Next()
}

// limitBody bounds the request body of a route.
func limitBody(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > n {
			fail(c, newError(http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("request body larger than %d bytes", n)))
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		c.Next()
	}
}

// requireAPIKey admits the portal and reviewers: "Authorization: ApiKey …"
// or "X-API-Key: …", compared in constant time against the SHA-256 of
// every configured key.
func (s *Server) requireAPIKey(c *gin.Context) {
	key := c.GetHeader("X-API-Key")
	if v, ok := strings.CutPrefix(c.GetHeader("Authorization"), "ApiKey "); ok && key == "" {
		key = strings.TrimSpace(v)
	}
	if key == "" {
		c.Header("WWW-Authenticate", `ApiKey realm="ecert"`)
		fail(c, newError(http.StatusUnauthorized, CodeUnauthorized, "API key missing"))
		return
	}
	h := sha256.Sum256([]byte(key))
	name := ""
	for _, k := range s.cfg.APIKeys {
		if subtle.ConstantTimeCompare(h[:], k.Hash[:]) == 1 {
			name = k.Name
		}
	}
	if name == "" {
		c.Header("WWW-Authenticate", `ApiKey realm="ecert"`)
		fail(c, newError(http.StatusUnauthorized, CodeUnauthorized, "API key not accepted"))
		return
	}
	c.Set(ctxActor, "apikey:"+name)
	c.Next()
}

// requireHolder admits applicants with a portal token naming a natural person.
func (s *Server) requireHolder(c *gin.Context) {
	raw, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		c.Header("WWW-Authenticate", `Bearer realm="ecert"`)
		fail(c, newError(http.StatusUnauthorized, CodeUnauthorized, errTokenMissing.Error()))
		return
	}
	cl, err := s.tokens.verify(strings.TrimSpace(raw))
	switch {
	case errors.Is(err, errTokenEnterprise):
		fail(c, newError(http.StatusForbidden, CodeEnterprise, "enterprise accounts may not act for a holder"))
		return
	case err != nil:
		c.Header("WWW-Authenticate", `Bearer realm="ecert", error="invalid_token"`)
		fail(c, newError(http.StatusUnauthorized, CodeUnauthorized, err.Error()))
		return
	}
	c.Set(ctxHolder, cl.Subject)
	c.Set(ctxActor, "holder:"+maskText(cl.Subject))
	c.Next()
}

func holderOf(c *gin.Context) string { return c.GetString(ctxHolder) }
