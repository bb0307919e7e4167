package batchverify

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/pdfsig"
)

// Signed metadata of a verification report, besides signing.MetaKind.
const (
	MetaReportID   = "ecert.reportId"
	MetaFiles      = "ecert.reportFiles"
	MetaVerifiedAt = "ecert.verifiedAt"
	MetaStatusList = "ecert.statusList"
)

// ErrAuthoritySigner is returned by Sign when given a signer whose
// certificate is not the verification service's: a report must never be
// signed with the key that signs certificates.
var ErrAuthoritySigner = errors.New("batchverify: a verification report is signed only with the verification service's key (signing.Store.ReportSigner)")

// Sign renders the batch and signs it with signer, which must hold the
// verification service's certificate (signing.IsVerificationService); the
// signed metadata marks the PDF as a verification report
// (signing.KindVerificationReport), which is how the verifier tells it
// from a certificate.
func Sign(ctx context.Context, b *Batch, signer signing.Signer) ([]byte, error) {
	chain := signer.Chain()
	if len(chain) == 0 || !signing.IsVerificationService(chain[0]) {
		return nil, ErrAuthoritySigner
	}
	leaf := chain[0]
	doc, err := Render(b, Signer{Name: leaf.Subject.CommonName + "，" + firstOr(leaf.Subject.Organization), Serial: leaf.SerialNumber.Text(16)})
	if err != nil {
		return nil, err
	}
	out, err := pdfsig.Sign(ctx, doc, signer, pdfsig.Options{
		Rect:       SealRect,
		Reason:     "核验报告 verification report",
		Name:       leaf.Subject.CommonName,
		Time:       b.VerifiedAt,
		Appearance: pdfsig.PageSeal(),
		Metadata: map[string]string{
			signing.MetaKind: signing.KindVerificationReport,
			MetaReportID:     b.ID,
			MetaFiles:        strconv.Itoa(len(b.Items)),
			MetaVerifiedAt:   b.VerifiedAt.UTC().Format("2006-01-02T15:04:05Z"),
			MetaStatusList:   b.StatusList,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("batchverify: sign report %s: %w", b.ID, err)
	}
	return out, nil
}

func firstOr(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
