package api

import (
	"bytes"
	"encoding/json"
	"strconv"

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
