package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/storage/objectstore"
)

const meCertificates = "/api/v1/me/certificates"

type certificateList struct {
	Certificates []certView `json:"certificates"`
}

func (s *Server) getMyCertificates(c *gin.Context) {
	ctx, cancel := s.requestContext(c)
	defer cancel()
	certs, err := s.deps.Holder.Certificates(ctx, holderOf(c))
	if err != nil {
		fail(c, err)
		return
	}
	out := certificateList{Certificates: make([]certView, 0, len(certs))}
	for _, hc := range certs {
		v := s.certView(hc.Certificate, meCertificates)
		v.Specialties = make([]specialtyView, 0, len(hc.Specialties))
		for _, sp := range hc.Specialties {
			v.Specialties = append(v.Specialties, specialtyView{Name: sp.Name, ValidUntil: sp.ValidUntil.String()})
		}
		if !hc.RegistrationValidUntil.IsZero() {
			v.RegistrationValidUntil = hc.RegistrationValidUntil.String()
		}
		out.Certificates = append(out.Certificates, v)
	}
	c.Header("Cache-Control", "private, no-store")
	writeJSON(c, http.StatusOK, "application/json", out)
}

// formatParam reads ?format=ofd|pdf (pdf when absent).
func formatParam(c *gin.Context) (string, error) {
	f := c.DefaultQuery("format", "pdf")
	if f != "ofd" && f != "pdf" {
		return "", newError(http.StatusBadRequest, CodeBadRequest, "format: want ofd or pdf")
	}
	return f, nil
}

func (s *Server) getMyCertificateFile(c *gin.Context) {
	format, err := formatParam(c)
	if err != nil {
		fail(c, err)
		return
	}
	no := c.Param("no")
	ctx, cancel := s.requestContext(c)
	defer cancel()
	f, err := s.deps.Holder.CertificateFile(ctx, holderOf(c), no, format)
	if err != nil {
		fail(c, err)
		return
	}
	s.serveFile(c, f, "ecert-"+asciiName(no), "", "download", no)
}

// previewCSP confines the preview picture: it draws from its own data:
// images and inline styles and fetches nothing, even when opened directly.
const previewCSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

// getMyCertificatePreview answers an SVG picture of the holder's current
// certificate, for display on /me (issue 16). It is not the signed file.
func (s *Server) getMyCertificatePreview(c *gin.Context) {
	no := c.Param("no")
	ctx, cancel := s.requestContext(c)
	defer cancel()
	svg, err := s.deps.Holder.Preview(ctx, holderOf(c), no)
	if err != nil {
		fail(c, err)
		return
	}
	h := c.Writer.Header()
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Security-Policy", previewCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, "image/svg+xml", svg)
}

// copyView is a usage copy's metadata with its download link.
type copyView struct {
	CopyID        string    `json:"copy_id"`
	CertificateNo string    `json:"certificate_no"`
	Version       int       `json:"version"`
	Format        string    `json:"format"`
	Purpose       string    `json:"purpose"`
	ValidFrom     time.Time `json:"valid_from"`
	ValidUntil    time.Time `json:"valid_until"`
	Day           string    `json:"day"`
	CreatedAt     time.Time `json:"created_at"`
	SHA256        string    `json:"sha256"`
	Source        string    `json:"source"`
	Download      string    `json:"download"`
}

// postRestamp presses 加注. The core's single flight is shared by identical
// presses, so the context given to it does not end when this client hangs
// up: it is detached from the request and bounded by RestampTimeout.
func (s *Server) postRestamp(c *gin.Context) {
	format, err := formatParam(c)
	if err != nil {
		fail(c, err)
		return
	}
	no := c.Param("no")
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), s.cfg.RestampTimeout)
	defer cancel()
	cp, err := s.deps.Holder.Restamp(ctx, issuance.RestampRequest{
		Holder: holderOf(c), CertificateNo: no, Format: format, Purpose: c.Query("purpose"), Actor: "holder",
	})
	if err != nil {
		fail(c, err)
		return
	}
	if cp.Source == "created" {
		// A new signed copy is audited; a press answered with the day's
		// existing copy changes nothing (its download is audited).
		s.auditf(c, "restamp", no, "copy=%s format=%s", cp.CopyID, cp.Format)
	}
	c.Header("Cache-Control", "private, no-store")
	writeJSON(c, http.StatusOK, "application/json", copyView{
		CopyID: cp.CopyID, CertificateNo: cp.CertificateNo, Version: cp.Version, Format: cp.Format,
		Purpose: cp.Purpose, ValidFrom: cp.ValidFrom, ValidUntil: cp.ValidUntil, Day: cp.Day.String(),
		CreatedAt: cp.CreatedAt, SHA256: cp.SHA256, Source: cp.Source,
		Download: s.link("/api/v1/me/copies/" + pathEscape(cp.CopyID) + "/file"),
	})
}

func (s *Server) getMyCopyFile(c *gin.Context) {
	id := c.Param("copy")
	ctx, cancel := s.requestContext(c)
	defer cancel()
	f, err := s.deps.Holder.CopyFile(ctx, holderOf(c), id)
	if err != nil {
		fail(c, err)
		return
	}
	s.serveFile(c, f, "ecert-copy-"+asciiName(id), "-加注件", "download_copy", id)
}

// maxFileBytes bounds a stored document the api will hash and serve.
const maxFileBytes = 64 << 20

// serveFile checks the file's digest, then serves it with Range support.
func (s *Server) serveFile(c *gin.Context, f File, asciiBase, suffix, action, subject string) {
	if f.Close != nil {
		defer f.Close()
	}
	if f.Format != "ofd" && f.Format != "pdf" {
		fail(c, fmt.Errorf("stored file of format %q", f.Format))
		return
	}
	if err := checkDigest(f); err != nil {
		fail(c, err)
		return
	}
	s.auditf(c, action, subject, "format=%s sha256=%s range=%t", f.Format, f.SHA256, c.GetHeader("Range") != "")
	h := c.Writer.Header()
	h.Set("Content-Type", "application/"+f.Format)
	h.Set("Content-Disposition", contentDisposition(asciiBase+"."+f.Format, fileName(f.HolderName, suffix, f.Format)))
	h.Set("ETag", `"`+strings.ToLower(f.SHA256)+`"`)
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(c.Writer, c.Request, "", f.ModTime, f.Body)
}

// checkDigest hashes Body and rewinds it; a mismatch is objectstore.ErrCorrupt.
func checkDigest(f File) error {
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f.Body, maxFileBytes+1))
	if err != nil {
		return fmt.Errorf("read stored file: %w", err)
	}
	if n > maxFileBytes {
		return fmt.Errorf("stored file larger than %d bytes", maxFileBytes)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, f.SHA256) {
		return fmt.Errorf("stored file: %w", objectstore.ErrCorrupt)
	}
	if _, err := f.Body.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind stored file: %w", err)
	}
	return nil
}

// fileName is the UTF-8 download name: 二级建造师注册证书-张三.pdf.
func fileName(holder, suffix, format string) string {
	name := "二级建造师注册证书"
	if h := cleanName(holder); h != "" {
		name += "-" + h
	}
	return name + suffix + "." + format
}

// cleanName keeps the characters a file name may hold.
func cleanName(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`/\"*:<>?|`, r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

// asciiName keeps letters, digits, '-' and '_' for the ASCII fallback name.
func asciiName(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return r
		}
		return -1
	}, s)
}

// contentDisposition makes an RFC 6266 attachment header with an ASCII
// fallback and the UTF-8 name in RFC 5987 encoding.
func contentDisposition(ascii, utf8Name string) string {
	return `attachment; filename="` + ascii + `"; filename*=UTF-8''` + rfc5987(utf8Name)
}

// rfc5987 percent-encodes everything but attr-char (RFC 5987 §3.2.1).
func rfc5987(s string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch < 0x80 && (ch >= '0' && ch <= '9' || ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || strings.IndexByte("!#$&+-.^_`|~", ch) >= 0) {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[ch>>4])
		b.WriteByte(hexd[ch&15])
	}
	return b.String()
}
