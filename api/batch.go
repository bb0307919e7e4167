package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ecert/ecert/batchverify"
)

// batchOverhead is what the multipart envelope may add to a batch.
const batchOverhead = 1 << 20

// batchSummary is the JSON answer of POST /verify/batch?format=json.
type batchSummary struct {
	*batchverify.Batch
	Files int `json:"files"`
}

// postVerifyBatch verifies many files, uploaded as multipart parts (any
// field; or one zip of them), or a zip as the whole body
// (application/zip). It answers with the verification report as a signed
// PDF, or with the JSON summary when asked by ?format=json or by an Accept
// header that prefers application/json.
func (s *Server) postVerifyBatch(c *gin.Context) {
	files, err := s.readBatch(c)
	if err != nil {
		fail(c, err)
		return
	}
	// A file costs what a POST /verify costs: the route took one token,
	// the rest of the batch takes the others (at most a full burst).
	if len(files) > 1 {
		if s.overRate(c, len(files)-1) {
			return
		}
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	b, err := s.deps.Reports.VerifyBatch(ctx, files)
	if err != nil {
		fail(c, err)
		return
	}
	for _, it := range b.Items {
		s.metrics.verifications.WithLabelValues(it.Verdict).Inc()
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Vary", "Accept")
	if wantsJSON(c) {
		for i := range b.Items {
			if r := b.Items[i].Report; r != nil {
				b.Items[i].Report = maskReport(r)
			}
		}
		writeJSON(c, http.StatusOK, "application/json", batchSummary{Batch: b, Files: len(b.Items)})
		return
	}
	pdf, err := s.deps.Reports.SignReport(ctx, b)
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Content-Disposition", contentDisposition("verification-report-"+b.ID+".pdf", "核验报告-"+b.ID+".pdf"))
	c.Header("X-Ecert-Report-Id", b.ID)
	c.Data(http.StatusOK, "application/pdf", pdf)
}

// wantsJSON: ?format=json, or an Accept header naming application/json
// and not application/pdf first.
func wantsJSON(c *gin.Context) bool {
	switch c.Query("format") {
	case "json":
		return true
	case "pdf":
		return false
	}
	for _, part := range strings.Split(c.GetHeader("Accept"), ",") {
		mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
		switch mt {
		case "application/json", "application/problem+json":
			return true
		case "application/pdf":
			return false
		}
	}
	return false
}

// readBatch reads the files of a batch within s.cfg.Batch.
func (s *Server) readBatch(c *gin.Context) ([]batchverify.File, error) {
	cnt := batchverify.NewCounter(s.cfg.Batch)
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	switch mt {
	case "application/zip", "application/x-zip-compressed":
		data, err := io.ReadAll(io.LimitReader(c.Request.Body, s.cfg.Batch.MaxTotalBytes+1))
		if err != nil {
			return nil, uploadError(err)
		}
		if int64(len(data)) > s.cfg.Batch.MaxTotalBytes {
			return nil, newError(http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("zip larger than %d bytes", s.cfg.Batch.MaxTotalBytes))
		}
		if err := cnt.ReadZip(data); err != nil {
			return nil, batchError(err)
		}
		files, err := cnt.Files()
		return files, batchError(err)
	case "multipart/form-data":
	default:
		return nil, newError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia,
			"upload the documents as multipart/form-data (one part per file, or one zip) or a zip as application/zip")
	}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, newError(http.StatusBadRequest, CodeBadRequest, "malformed multipart body")
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, uploadError(err)
		}
		if p.FileName() == "" {
			continue // a form field, not a file
		}
		if err := cnt.Add(p.FileName(), p); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, err
			}
			return nil, batchError(err)
		}
	}
	files, err := cnt.Files()
	if err != nil {
		return nil, batchError(err)
	}
	if len(files) == 1 && batchverify.IsZip(files[0].Data) {
		zc := batchverify.NewCounter(s.cfg.Batch)
		if err := zc.ReadZip(files[0].Data); err != nil {
			return nil, batchError(err)
		}
		files, err = zc.Files()
		return files, batchError(err)
	}
	return files, nil
}

// batchError maps a refused batch to its problem.
func batchError(err error) error {
	var be *batchverify.Error
	if err == nil || !errors.As(err, &be) {
		if err != nil {
			return uploadError(err)
		}
		return nil
	}
	switch be.Code {
	case batchverify.CodeFileTooLarge, batchverify.CodeTooLarge, batchverify.CodeTooManyFiles:
		return newError(http.StatusRequestEntityTooLarge, CodeTooLarge, be.Detail)
	case batchverify.CodeNotZip:
		return newError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, be.Detail)
	}
	return newError(http.StatusBadRequest, CodeBadRequest, be.Detail)
}
