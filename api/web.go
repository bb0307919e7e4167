package api

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// webFS holds the applicant's page and the verification page: plain HTML,
// CSS and JavaScript, served by the binary (the service runs offline, so
// nothing comes from a CDN). The pages call only the documented /api/v1
// routes.
//
//go:embed web
var webFS embed.FS

// pageCSP allows the pages only their own assets and the API of this
// origin; blob: is for downloads made from fetched files and for the
// certificate previews fetched with the token.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// verifyPageCSP is pageCSP plus 'wasm-unsafe-eval', which the verification
// page needs to compile the offline verifier (ecert.wasm) and nothing else:
// eval and inline scripts stay forbidden.
var verifyPageCSP = strings.Replace(pageCSP, "script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", 1)

// isPageRoute reports whether path is one of the HTML pages or their
// assets, which are not part of the API contract in openapi.json.
func isPageRoute(path string) bool {
	switch path {
	case "/", "/me", "/verify", "/verify/:licence_id":
		return true
	}
	return strings.HasPrefix(path, "/assets/")
}

// pages registers the applicant's page (/me), the verification page
// (/verify, and /verify/{licence_id}?code=… where the QR code points) and
// their assets.
func (s *Server) pages(e *gin.Engine) {
	assets, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	e.GET("/", func(c *gin.Context) { c.Redirect(http.StatusFound, "/me") })
	e.GET("/me", servePage(assets, "me.html", pageCSP))
	e.GET("/verify", servePage(assets, "verify.html", verifyPageCSP))
	e.GET("/verify/:licence_id", servePage(assets, "verify.html", verifyPageCSP))
	static := http.StripPrefix("/assets/", http.FileServerFS(assets))
	e.GET("/assets/*file", func(c *gin.Context) {
		if strings.HasSuffix(c.Param("file"), ".html") || strings.HasSuffix(c.Param("file"), "/") {
			fail(c, notFound)
			return
		}
		pageHeaders(c, pageCSP)
		c.Header("Cache-Control", "public, max-age=300")
		switch c.Param("file") {
		case "/ecert.wasm":
			wasm(c)
			return
		case "/sw.js":
			// The offline verifier's service worker controls /verify.
			c.Header("Service-Worker-Allowed", "/verify")
			c.Header("Cache-Control", "no-cache")
		}
		static.ServeHTTP(c.Writer, c.Request)
	})
}

func servePage(assets fs.FS, name, csp string) gin.HandlerFunc {
	body, err := fs.ReadFile(assets, name)
	if err != nil {
		panic(err)
	}
	return func(c *gin.Context) {
		pageHeaders(c, csp)
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "text/html; charset=utf-8", body)
	}
}

func pageHeaders(c *gin.Context, csp string) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	// The verification code is in the QR link's query: never pass it on.
	h.Set("Referrer-Policy", "no-referrer")
}
