package api

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/ecert/ecert/storage/registry"
)

// approvalsSummary is the last line of an approvals response.
type approvalsSummary struct {
	Lines     int `json:"lines"`
	Inserted  int `json:"inserted"`
	Duplicate int `json:"duplicate"`
	Conflict  int `json:"conflict"`
	Rejected  int `json:"rejected"`
	Queued    int `json:"queued"`
}

func (s *approvalsSummary) add(r ApprovalResult) {
	s.Lines++
	switch r.Outcome {
	case OutcomeInserted:
		s.Inserted++
	case OutcomeDuplicate:
		s.Duplicate++
	case OutcomeConflict:
		s.Conflict++
	default:
		s.Rejected++
	}
	if r.Queued {
		s.Queued++
	}
}

// summaryLine ends the stream; Error says why it ended early.
type summaryLine struct {
	Summary approvalsSummary `json:"summary"`
	Error   *Problem         `json:"error,omitempty"`
}

var ndjsonTypes = map[string]bool{"application/x-ndjson": true, "application/jsonl": true, "application/json-lines": true}

// postApprovals streams per-line results of an NDJSON body as intake
// decides them. The status is 200 once the first line is written; a
// failure after that is the summary line's error.
func (s *Server) postApprovals(c *gin.Context) {
	if mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); !ndjsonTypes[mt] {
		fail(c, newError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "send approvals as application/x-ndjson, one JSON object a line"))
		return
	}
	rc := http.NewResponseController(c.Writer)
	_ = rc.EnableFullDuplex() // write results while the body is still arriving (HTTP/1.1)
	s.extendDeadlines(rc)
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.ApprovalsTimeout)
	defer cancel()

	var sum approvalsSummary
	started := false
	start := func() {
		if !started {
			started = true
			c.Header("Content-Type", "application/x-ndjson; charset=utf-8")
			c.Header("Cache-Control", "no-store")
			c.Status(http.StatusOK)
		}
	}
	emit := func(r ApprovalResult) error {
		r.CaseID = maskText(r.CaseID)
		for i, p := range r.Problems {
			r.Problems[i] = maskText(p)
		}
		sum.add(r)
		start()
		if err := writeLine(c.Writer, r); err != nil {
			return err
		}
		s.extendDeadlines(rc)
		return rc.Flush()
	}
	err := s.deps.Intake.Ingest(ctx, c.Request.Body, emit)
	if err != nil && !started {
		fail(c, err)
		return
	}
	start()
	line := summaryLine{Summary: sum}
	if err != nil {
		p := ProblemFor(err)
		p.RequestID = requestID(c)
		line.Error = &p
		c.Set(ctxError, maskText(err.Error()))
	}
	_ = writeLine(c.Writer, line)
	_ = rc.Flush()
	s.auditf(c, "approvals", "", "lines=%d inserted=%d duplicate=%d conflict=%d rejected=%d queued=%d",
		sum.Lines, sum.Inserted, sum.Duplicate, sum.Conflict, sum.Rejected, sum.Queued)
}

// extendDeadlines gives a streaming request another ReadTimeout to send
// its next line and WriteTimeout to take the next result; a slow client is
// still cut off, a long stream is not.
func (s *Server) extendDeadlines(rc *http.ResponseController) {
	now := time.Now()
	_ = rc.SetReadDeadline(now.Add(s.cfg.Server.ReadTimeout))
	_ = rc.SetWriteDeadline(now.Add(s.cfg.Server.WriteTimeout))
}

func writeLine(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// caseView is a case as reviewers see it (ID number masked).
type caseView struct {
	registration.Case
	StatusName  string    `json:"status_name"`
	Certificate *certView `json:"certificate"`
}

func (s *Server) getCase(c *gin.Context) {
	ctx, cancel := s.requestContext(c)
	defer cancel()
	k, cert, err := s.deps.Cases.Case(ctx, c.Param("case_id"))
	if err != nil {
		fail(c, err)
		return
	}
	k.IDNumber = registration.MaskID(k.IDNumber)
	v := caseView{Case: k, StatusName: k.Status.Chinese()}
	if cert != nil {
		cv := s.certView(*cert, "")
		v.Certificate = &cv
	}
	writeJSON(c, http.StatusOK, "application/json", v)
}

// eligibilityRequest is the body of POST /eligibility.
type eligibilityRequest struct {
	BusinessType       string `json:"business_type"`
	IDNumber           string `json:"id_number"`
	RegistrationNumber string `json:"registration_number"`
	SubmittedOn        string `json:"submitted_on"`
	QuotedApprovalDate string `json:"quoted_approval_date"`
	AccountKind        string `json:"account_kind"`
	Specialty          string `json:"specialty"`
}

type eligibilityResponse struct {
	Allowed bool `json:"allowed"`
	EligibilityVerdict
}

func (s *Server) postEligibility(c *gin.Context) {
	var req eligibilityRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	q, err := s.eligibilityQuery(req)
	if err != nil {
		fail(c, err)
		return
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	v, err := s.deps.Eligibility.Check(ctx, q)
	if err != nil {
		fail(c, err)
		return
	}
	if v.Refusals == nil {
		v.Refusals = []registration.Refusal{}
	}
	writeJSON(c, http.StatusOK, "application/json", eligibilityResponse{Allowed: v.Allowed(), EligibilityVerdict: v})
}

func (s *Server) eligibilityQuery(req eligibilityRequest) (EligibilityQuery, error) {
	bad := func(format string, a ...any) error {
		return newError(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf(format, a...))
	}
	bt, err := registration.ParseBusinessType(req.BusinessType)
	if err != nil {
		return EligibilityQuery{}, bad("business_type: %v", err)
	}
	if req.IDNumber == "" {
		return EligibilityQuery{}, bad("id_number is required")
	}
	q := EligibilityQuery{Type: bt, IDNumber: req.IDNumber, RegistrationNo: req.RegistrationNumber, Specialty: req.Specialty,
		Account: registration.AccountKind(req.AccountKind)}
	if q.Account == "" {
		q.Account = registration.NaturalPerson
	}
	q.SubmittedOn = registration.Today(s.cfg.Now())
	if req.SubmittedOn != "" {
		if q.SubmittedOn, err = registration.ParseDate(req.SubmittedOn); err != nil {
			return EligibilityQuery{}, bad("submitted_on: want YYYY-MM-DD")
		}
	}
	if req.QuotedApprovalDate != "" {
		if q.QuotedApprovalDate, err = registration.ParseDate(req.QuotedApprovalDate); err != nil {
			return EligibilityQuery{}, bad("quoted_approval_date: want YYYY-MM-DD")
		}
	}
	return q, nil
}

// revokeRequest is the body of POST /certificates/{no}/revoke.
type revokeRequest struct {
	Reason string `json:"reason"`
}

const maxReasonRunes = 200

func (s *Server) postRevoke(c *gin.Context) {
	var req revokeRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Reason == "" || utf8.RuneCountInString(req.Reason) > maxReasonRunes {
		fail(c, newError(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("reason is required, at most %d characters", maxReasonRunes)))
		return
	}
	no := c.Param("no")
	ctx, cancel := s.requestContext(c)
	defer cancel()
	cert, err := s.deps.Revoker.Revoke(ctx, no, req.Reason, c.GetString(ctxActor))
	if err != nil {
		fail(c, err)
		return
	}
	s.auditf(c, "revoke", no, "version=%d reason=%s", cert.Version, req.Reason)
	writeJSON(c, http.StatusOK, "application/json", s.certView(cert, ""))
}

// decodeJSON reads one JSON object strictly: unknown fields and trailing
// data are errors.
func decodeJSON(c *gin.Context, v any) error {
	if mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); mt != "application/json" {
		return newError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "send application/json")
	}
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return newError(http.StatusBadRequest, CodeBadRequest, "malformed JSON: "+err.Error())
	}
	if dec.More() {
		return newError(http.StatusBadRequest, CodeBadRequest, "malformed JSON: data after the object")
	}
	return nil
}

// certView is a certificate as the API shows it.
type certView struct {
	CertificateNo    string            `json:"certificate_no"`
	Version          int               `json:"version"`
	LicenceID        string            `json:"licence_id"`
	RegistrationNo   string            `json:"registration_number"`
	CaseID           string            `json:"case_id,omitempty"`
	Status           string            `json:"status"`
	StatusName       string            `json:"status_name"`
	StatusReason     string            `json:"status_reason,omitempty"`
	StatusChangedAt  *time.Time        `json:"status_changed_at,omitempty"`
	IssuedAt         time.Time         `json:"issued_at"`
	DownloadableFrom string            `json:"downloadable_from,omitempty"`
	Files            map[string]string `json:"files,omitempty"`
	// Specialties and RegistrationValidUntil are in the holder's list only.
	Specialties            []specialtyView `json:"specialties,omitempty"`
	RegistrationValidUntil string          `json:"registration_valid_until,omitempty"`
}

// certView shows c; with linkBase (the holder's routes) it links its files.
func (s *Server) certView(c registry.Certificate, linkBase string) certView {
	v := certView{
		CertificateNo: c.CertificateNo, Version: c.Version, LicenceID: c.LicenceID,
		RegistrationNo: c.RegistrationNo, CaseID: maskText(c.CaseID), Status: string(c.Status),
		StatusName: c.Status.Chinese(), StatusReason: maskText(c.StatusReason), IssuedAt: c.IssuedAt,
	}
	if !c.StatusChangedAt.IsZero() {
		t := c.StatusChangedAt
		v.StatusChangedAt = &t
	}
	if !c.DownloadableFrom.IsZero() {
		v.DownloadableFrom = c.DownloadableFrom.String()
	}
	if linkBase != "" {
		v.Files = map[string]string{}
		for _, f := range []struct{ format, key string }{{"ofd", c.OFDKey}, {"pdf", c.PDFKey}} {
			if f.key != "" {
				v.Files[f.format] = s.link(linkBase + "/" + pathEscape(c.CertificateNo) + "/file?format=" + f.format)
			}
		}
	}
	return v
}
