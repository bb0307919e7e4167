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
	e.GET("/me", servePage(assets, "me.html"))
	e.GET("/verify", servePage(assets, "verify.html"))
	e.GET("/verify/:licence_id", servePage(assets, "verify.html"))
	static := http.StripPrefix("/assets/", http.FileServerFS(assets))
	e.GET("/assets/*file", func(c *gin.Context) {
		if strings.HasSuffix(c.Param("file"), ".html") || strings.HasSuffix(c.Param("file"), "/") {
			fail(c, notFound)
			return
		}
		pageHeaders(c)
		c.Header("Cache-Control", "public, max-age=300")
		static.ServeHTTP(c.Writer, c.Request)
	})
}

func servePage(assets fs.FS, name string) gin.HandlerFunc {
	body, err := fs.ReadFile(assets, name)
	if err != nil {
		panic(err)
	}
	return func(c *gin.Context) {
		pageHeaders(c)
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "text/html; charset=utf-8", body)
	}
}

func pageHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	// The verification code is in the QR link's query: never pass it on.
	h.Set("Referrer-Policy", "no-referrer")
}
