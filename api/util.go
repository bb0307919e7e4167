package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/ecert/ecert/intake"

	"github.com/gin-gonic/gin"
)

// Context keys.
const (
	ctxRequestID   = "ecert.request_id"
	ctxProblemCode = "ecert.problem_code"
	ctxError       = "ecert.error"
	ctxActor       = "ecert.actor"
	ctxHolder      = "ecert.holder"
)

func itoa(n int) string { return strconv.Itoa(n) }

// writeJSON writes v without HTML escaping (Chinese and <> stay readable).
func writeJSON(c *gin.Context, status int, contentType string, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status, b = 500, *bytes.NewBufferString(`{"type":"urn:ecert:problem:internal","title":"Internal Server Error","status":500,"code":"internal","message":"系统内部错误，请联系技术支持"}` + "\n")
		contentType = "application/problem+json"
	}
	c.Data(status, contentType+"; charset=utf-8", b.Bytes())
}

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// maskText masks every ID-number-shaped run in s.
func maskText(s string) string { return intake.MaskIDNumbers(s) }

// requestContext bounds the core's work for an ordinary request.
func (s *Server) requestContext(c *gin.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request.Context(), s.cfg.RequestTimeout)
}

// link makes an absolute link when BaseURL is set.
func (s *Server) link(path string) string { return s.cfg.BaseURL + path }

// pathEscape escapes one path segment.
func pathEscape(s string) string { return url.PathEscape(s) }

// auditf writes an audit entry (actor, action, subject, detail) to the
// Auditor and the log. A failing Auditor is logged, not fatal: the action
// has happened.
func (s *Server) auditf(c *gin.Context, action, subject, format string, a ...any) {
	detail := maskText(fmt.Sprintf(format, a...))
	actor := c.GetString(ctxActor)
	subject = maskText(subject)
	s.cfg.Logger.LogAttrs(c.Request.Context(), slog.LevelInfo, "audit",
		slog.String("request_id", requestID(c)), slog.String("actor", actor),
		slog.String("action", action), slog.String("subject", subject), slog.String("detail", detail))
	if s.deps.Auditor == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 5*time.Second)
	defer cancel()
	if err := s.deps.Auditor.Audit(ctx, actor, action, subject, detail); err != nil {
		s.cfg.Logger.Error("audit entry not recorded", "request_id", requestID(c), "action", action, "error", maskText(err.Error()))
	}
}
