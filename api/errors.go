package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/storage/objectstore"
	"github.com/ecert/ecert/storage/registry"
)

// Problem is an RFC 9457 problem document with ecert's extensions: a stable
// code, a Chinese message the portal can show as it is, the request id, and
// for domain refusals every reason with its dates.
type Problem struct {
	Type      string                 `json:"type"`
	Title     string                 `json:"title"`
	Status    int                    `json:"status"`
	Detail    string                 `json:"detail,omitempty"`
	Instance  string                 `json:"instance,omitempty"`
	Code      string                 `json:"code"`
	Message   string                 `json:"message"`
	RequestID string                 `json:"request_id,omitempty"`
	Refusals  []registration.Refusal `json:"refusals,omitempty"`
	// RetryAfter is sent as the Retry-After header (seconds), not in the body.
	RetryAfter int `json:"-"`
}

// problemTypeBase prefixes the code to make the problem type URI.
const problemTypeBase = "urn:ecert:problem:"

// Problem codes of the API itself; domain refusals keep their own codes.
const (
	CodeBadRequest       = "bad_request"
	CodeNotFound         = "not_found"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeEnterprise       = "enterprise_account"
	CodeTooLarge         = "too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeRateLimited      = "rate_limited"
	CodeTimeout          = "timeout"
	CodeClientClosed     = "client_closed"
	CodeUnavailable      = "unavailable"
	CodeFileCorrupt      = "file_corrupt"
	CodeFileMissing      = "file_missing"
	CodeInternal         = "internal"
	CodeRefused          = "refused"
	CodeMethodNotAllowed = "method_not_allowed"
)

// messages are the Chinese texts of the API's own codes.
var messages = map[string]string{
	CodeBadRequest:       "请求格式有误",
	CodeNotFound:         "未找到相关记录",
	CodeUnauthorized:     "身份认证失败，请重新登录",
	CodeForbidden:        "无权进行此操作",
	CodeEnterprise:       "企业账号不能办理个人注册证书业务，请使用个人账号登录",
	CodeTooLarge:         "上传内容超过大小限制",
	CodeUnsupportedMedia: "仅支持 OFD 或 PDF 格式的文件",
	CodeRateLimited:      "请求过于频繁，请稍后再试",
	CodeTimeout:          "处理超时，请稍后再试",
	CodeClientClosed:     "请求已取消",
	CodeUnavailable:      "服务暂时不可用，请稍后再试",
	CodeFileCorrupt:      "文件校验失败，请联系技术支持",
	CodeFileMissing:      "文件暂时无法获取，请联系技术支持",
	CodeInternal:         "系统内部错误，请联系技术支持",
	CodeRefused:          "不予受理",
	CodeMethodNotAllowed: "不支持该请求方法",
}

// apiError is a problem the handlers raise themselves.
type apiError struct {
	status int
	code   string
	detail string
	retry  int
}

func (e *apiError) Error() string { return e.code + ": " + e.detail }

func newError(status int, code, detail string) error {
	return &apiError{status: status, code: code, detail: detail}
}

// ProblemFor is the one mapping from an error of the core or of the API to
// a problem. Details never carry full ID numbers; errors it does not know
// are a 500 whose detail says nothing of the cause.
func ProblemFor(err error) Problem {
	var (
		ae  *apiError
		ref *issuance.Refusal
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &ae):
		p := newProblem(ae.status, ae.code, ae.detail)
		p.RetryAfter = ae.retry
		return p
	case errors.As(err, &ref):
		p := newProblem(http.StatusConflict, ref.Code, ref.Error())
		p.Message = ref.Message
		return p
	case errors.Is(err, registration.ErrRefused):
		return newProblem(http.StatusUnprocessableEntity, CodeRefused, err.Error())
	case errors.Is(err, issuance.ErrNotFound), errors.Is(err, registry.ErrNotFound):
		return newProblem(http.StatusNotFound, CodeNotFound, "no such resource for this caller")
	case errors.Is(err, issuance.ErrBadRequest):
		return newProblem(http.StatusBadRequest, CodeBadRequest, err.Error())
	case errors.As(err, &mbe):
		return newProblem(http.StatusRequestEntityTooLarge, CodeTooLarge, "request body larger than the limit of this route")
	case errors.Is(err, objectstore.ErrCorrupt), errors.Is(err, objectstore.ErrDigestMismatch):
		return newProblem(http.StatusInternalServerError, CodeFileCorrupt, "the stored file does not match its recorded digest")
	case errors.Is(err, objectstore.ErrNotFound):
		return newProblem(http.StatusInternalServerError, CodeFileMissing, "the registry names a file the store does not hold")
	case errors.Is(err, context.DeadlineExceeded):
		return newProblem(http.StatusGatewayTimeout, CodeTimeout, "the request took longer than allowed")
	case errors.Is(err, context.Canceled):
		return newProblem(499, CodeClientClosed, "the client closed the request")
	case registry.IsTransient(err):
		p := newProblem(http.StatusServiceUnavailable, CodeUnavailable, "a backend is unavailable")
		p.RetryAfter = 5
		return p
	}
	return newProblem(http.StatusInternalServerError, CodeInternal, "internal error")
}

func newProblem(status int, code, detail string) Problem {
	return Problem{
		Type:    problemTypeBase + code,
		Title:   http.StatusText(status),
		Status:  status,
		Detail:  intake.MaskIDNumbers(detail),
		Code:    code,
		Message: messageFor(code),
	}
}

func messageFor(code string) string {
	if m, ok := messages[code]; ok {
		return m
	}
	return messages[CodeRefused]
}

// writeProblem answers with p as application/problem+json.
func writeProblem(c *gin.Context, p Problem) {
	if p.Title == "" {
		p.Title = "Client Closed Request"
	}
	p.RequestID = requestID(c)
	p.Instance = c.Request.URL.Path
	if p.RetryAfter > 0 {
		c.Header("Retry-After", itoa(p.RetryAfter))
	}
	c.Header("Cache-Control", "no-store")
	c.Set(ctxProblemCode, p.Code)
	writeJSON(c, p.Status, "application/problem+json", p)
}

// fail answers with the problem for err.
func fail(c *gin.Context, err error) {
	p := ProblemFor(err)
	if p.Status >= 500 && p.Status != 499 {
		c.Set(ctxError, intake.MaskIDNumbers(err.Error()))
	}
	writeProblem(c, p)
	c.Abort()
}
