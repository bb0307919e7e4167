package verify

import (
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/smx509"

	"github.com/ecert/ecert/signing"
)

// CheckDocumentKind says what a document is by who signed it: a
// verification report must be signed by the verification service, and the
// verification service signs nothing else.
const CheckDocumentKind = "document-kind"

// DocumentVerificationReport is the Report.Document of a verification
// report (ecert verify --report, POST /api/v1/verify/batch).
const DocumentVerificationReport = "verification-report"

// checkKind tells a verification report from a certificate by the signed
// metadata's kind and the signer certificate's role
// (signing.IsVerificationService). It adds the document-kind check to
// every report and to a certificate signed by the service key (which
// fails), and returns whether the document is a verification report, to
// which no certificate check (usage validity, printed data, registry
// status) applies.
func (r *Report) checkKind(meta map[string]string, signer *smx509.Certificate) bool {
	service := signing.IsVerificationService(signer)
	if meta[signing.MetaKind] != signing.KindVerificationReport {
		if service {
			r.add(CheckDocumentKind, errors.New("signed with the verification service's key, which signs verification reports only, never certificates"), "")
		}
		return false
	}
	r.Document = DocumentVerificationReport
	if !service {
		who := "an unreadable signer"
		if signer != nil {
			who = fmt.Sprintf("%q", signer.Subject.CommonName)
		}
		r.add(CheckDocumentKind, fmt.Errorf("claims to be a verification report but is signed by %s, not by the verification service (%s)", who, signing.VerificationServiceUnit), "")
		return true
	}
	r.add(CheckDocumentKind, nil, fmt.Sprintf("verification report signed by the verification service %q; it is not a certificate", signer.Subject.CommonName))
	return true
}
