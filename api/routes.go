package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// routes builds the engine. The paths are the contract of issue 15 and
// of openapi.json; a test keeps the two equal.
func (s *Server) routes() *gin.Engine {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	_ = e.SetTrustedProxies(s.cfg.TrustedProxies) // validated in New
	e.Use(withRequestID, s.accessLog, s.recovery)
	e.NoRoute(func(c *gin.Context) { fail(c, notFound) })
	e.NoMethod(func(c *gin.Context) {
		fail(c, newError(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "method not allowed on this route"))
	})

	e.GET("/healthz", getHealthz)
	e.GET("/readyz", s.need(s.deps.Readiness != nil), s.getReadyz)
	e.GET("/metrics", gin.WrapH(s.metrics.handler(s.deps.Gatherer)))

	v1 := e.Group("/api/v1")
	v1.GET("/openapi.json", s.getOpenAPI)

	json := limitBody(s.cfg.MaxJSONBytes)
	portal := v1.Group("", s.requireAPIKey)
	portal.POST("/approvals", s.need(s.deps.Intake != nil), limitBody(s.cfg.MaxApprovalsBytes), s.postApprovals)
	portal.GET("/cases/:case_id", s.need(s.deps.Cases != nil), s.getCase)
	portal.POST("/eligibility", s.need(s.deps.Eligibility != nil), json, s.postEligibility)
	portal.POST("/certificates/:no/revoke", s.need(s.deps.Revoker != nil), json, s.postRevoke)

	me := v1.Group("/me", s.requireHolder, s.need(s.deps.Holder != nil), json)
	me.GET("/certificates", s.getMyCertificates)
	me.GET("/certificates/:no/file", s.getMyCertificateFile)
	me.GET("/certificates/:no/preview", s.getMyCertificatePreview)
	me.POST("/certificates/:no/restamp", s.postRestamp)
	me.GET("/copies/:copy/file", s.getMyCopyFile)

	public := v1.Group("", s.rateLimit, s.need(s.deps.Verifier != nil))
	public.POST("/verify", limitBody(s.cfg.MaxUploadBytes+multipartOverhead), s.postVerify)
	public.POST("/verify/batch", s.need(s.deps.Reports != nil), limitBody(s.cfg.Batch.MaxTotalBytes+batchOverhead), s.postVerifyBatch)
	public.GET("/verify/:licence_id", s.getVerifyStatus)
	v1.GET("/status/:list", s.rateLimit, s.need(s.deps.StatusLists != nil), s.getStatusList)
	trust := v1.Group("/trust", s.rateLimit, s.need(s.deps.Trust != nil))
	trust.GET("/issuers", s.getTrustIssuers)
	trust.GET("/root", s.getTrustRoot)
	s.pages(e)
	return e
}

// need answers 503 when the service behind a route is not configured.
func (s *Server) need(ok bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !ok {
			fail(c, newError(http.StatusServiceUnavailable, CodeUnavailable, "this service is not configured"))
			return
		}
		c.Next()
	}
}
