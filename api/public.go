package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing/verify"
)

// multipartOverhead is what the multipart envelope may add to a file.
const multipartOverhead = 64 << 10

// postVerify verifies one uploaded file (multipart field "file").
func (s *Server) postVerify(c *gin.Context) {
	data, err := s.readUpload(c)
	if err != nil {
		fail(c, err)
		return
	}
	if verify.Sniff(data) == verify.FormatUnknown {
		fail(c, newError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia,
			"the file is neither an OFD package (zip) nor a PDF"))
		return
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	rep, err := s.deps.Verifier.Verify(ctx, data)
	if err != nil {
		fail(c, err)
		return
	}
	s.metrics.verifications.WithLabelValues(rep.Verdict).Inc()
	for _, ch := range rep.Checks {
		if !ch.OK {
			s.metrics.verifyFailures.WithLabelValues(ch.Name).Inc()
		}
	}
	c.Header("Cache-Control", "no-store")
	writeJSON(c, http.StatusOK, "application/json", maskReport(rep))
}

// readUpload reads the "file" part of a multipart form, at most
// MaxUploadBytes; other parts are skipped.
func (s *Server) readUpload(c *gin.Context) ([]byte, error) {
	if mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); mt != "multipart/form-data" {
		return nil, newError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, `upload the document as multipart/form-data, field "file"`)
	}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, newError(http.StatusBadRequest, CodeBadRequest, "malformed multipart body")
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, newError(http.StatusBadRequest, CodeBadRequest, `no part named "file"`)
		}
		if err != nil {
			return nil, uploadError(err)
		}
		if p.FormName() != "file" {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(p, s.cfg.MaxUploadBytes+1))
		if err != nil {
			return nil, uploadError(err)
		}
		if int64(len(data)) > s.cfg.MaxUploadBytes {
			return nil, newError(http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("file larger than %d bytes", s.cfg.MaxUploadBytes))
		}
		if len(data) == 0 {
			return nil, newError(http.StatusBadRequest, CodeBadRequest, "the file is empty")
		}
		return data, nil
	}
}

func uploadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return newError(http.StatusBadRequest, CodeBadRequest, "malformed multipart body")
}

// maskReport masks ID numbers in every free-text field of a report.
func maskReport(r *verify.Report) *verify.Report {
	out := *r
	out.Checks = append([]verify.Check(nil), r.Checks...)
	for i := range out.Checks {
		out.Checks[i].Reason = maskText(out.Checks[i].Reason)
	}
	out.Warnings = append([]string(nil), r.Warnings...)
	for i := range out.Warnings {
		out.Warnings[i] = maskText(out.Warnings[i])
	}
	if r.Metadata != nil {
		out.Metadata = make(map[string]string, len(r.Metadata))
		for k, v := range r.Metadata {
			out.Metadata[k] = maskText(v)
		}
	}
	return &out
}

// publicView is what a verification-code lookup shows.
type publicView struct {
	LicenceID          string          `json:"licence_id"`
	CertificateNo      string          `json:"certificate_no"`
	Version            int             `json:"version"`
	HolderName         string          `json:"holder_name"`
	IDNumber           string          `json:"id_number"`
	RegistrationNumber string          `json:"registration_number"`
	Employer           string          `json:"employer,omitempty"`
	Specialties        []specialtyView `json:"specialties"`
	IssuedAt           time.Time       `json:"issued_at"`
	Status             verify.Status   `json:"status"`
	Copy               *copyStatusView `json:"copy,omitempty"`
}

type copyStatusView struct {
	ID         string `json:"id"`
	ValidFrom  string `json:"valid_from"`
	ValidUntil string `json:"valid_until"`
	InValidity bool   `json:"in_validity"`
}

type specialtyView struct {
	Name       string `json:"name"`
	ValidUntil string `json:"valid_until"`
}

// maxCodeLen bounds the code looked up (codes are a few characters).
const maxCodeLen = 64

// getVerifyStatus answers with status and masked data only for the right
// verification code; a wrong or missing code is the same 404 as an unknown
// licence identifier.
func (s *Server) getVerifyStatus(c *gin.Context) {
	id, code, copyID := c.Param("licence_id"), c.Query("code"), c.Query("copy")
	if len(code) > maxCodeLen || len(id) > 200 || len(copyID) > 64 {
		fail(c, notFound)
		return
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	st, err := s.deps.Verifier.PublicStatus(ctx, id, code, copyID)
	if err != nil {
		fail(c, err)
		return
	}
	v := publicView{
		LicenceID: st.LicenceID, CertificateNo: st.CertificateNo, Version: st.Version,
		HolderName: maskName(st.HolderName), IDNumber: registration.MaskID(st.IDNumber),
		RegistrationNumber: st.RegistrationNo, Employer: st.Employer, IssuedAt: st.IssuedAt, Status: st.Status,
		Specialties: make([]specialtyView, 0, len(st.Specialties)),
	}
	v.Status.Detail = maskText(v.Status.Detail)
	if cp := st.Copy; cp != nil {
		v.Copy = &copyStatusView{ID: cp.ID, ValidFrom: cp.ValidFrom.String(), ValidUntil: cp.ValidUntil.String(), InValidity: cp.InValidity}
	}
	for _, sp := range st.Specialties {
		v.Specialties = append(v.Specialties, specialtyView{Name: sp.Name, ValidUntil: sp.ValidUntil.String()})
	}
	c.Header("Cache-Control", "no-store")
	writeJSON(c, http.StatusOK, "application/json", v)
}

// notFound is the one "not found" of lookups that must not tell unknown
// from forbidden.
var notFound = newError(http.StatusNotFound, CodeNotFound, "no such resource for this caller")

// maskName keeps a name's first character: 张三 → 张*, 欧阳娜娜 → 欧***.
func maskName(s string) string {
	n := utf8.RuneCountInString(s)
	if n <= 1 {
		return s
	}
	r, _ := utf8.DecodeRuneInString(s)
	return string(r) + strings.Repeat("*", n-1)
}
