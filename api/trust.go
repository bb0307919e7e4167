package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"time"

	smx509 "github.com/emmansun/gmsm/smx509"
	"github.com/gin-gonic/gin"
)

// pemMediaType is the content type of the trust endpoints' PEM bundles.
const pemMediaType = "application/x-pem-file"

// trustMaxAge is how long a client may use a trust bundle without asking
// again: issuers change when a key is rotated, which is announced days ahead.
const trustMaxAge = "public, max-age=3600"

// getTrustIssuers serves every issuing-authority certificate, current and
// retired, as one PEM bundle: what an offline verifier needs to check a QR
// claim or a status list signed by any of them.
func (s *Server) getTrustIssuers(c *gin.Context) {
	certs, err := s.deps.Trust.IssuerCertificates()
	if err != nil {
		fail(c, fmt.Errorf("issuer certificates: %w", err))
		return
	}
	servePEM(c, certs)
}

// getTrustRoot serves the root the issuing authorities chain to.
func (s *Server) getTrustRoot(c *gin.Context) {
	root, err := s.deps.Trust.Root()
	if err != nil {
		fail(c, fmt.Errorf("trust root: %w", err))
		return
	}
	servePEM(c, []*smx509.Certificate{root})
}

// servePEM writes certs as PEM with a strong ETag of the bundle, so a
// verifier that already holds it gets 304.
func servePEM(c *gin.Context, certs []*smx509.Certificate) {
	var b bytes.Buffer
	for _, cert := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	}
	sum := sha256.Sum256(b.Bytes())
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h := c.Writer.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", trustMaxAge)
	if c.GetHeader("If-None-Match") != "" && notModified(c.Request, etag, time.Time{}) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, pemMediaType, b.Bytes())
}
