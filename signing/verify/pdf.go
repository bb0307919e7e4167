package verify

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/cms"
	"github.com/ecert/ecert/signing/pdfsig"
)

// pdfChecks are the checks every PDF signature gets after format.
var pdfChecks = []string{CheckSignature, CheckChain, CheckSigningTime, CheckIntegrity}

// PDF verifies every signature of a PDF document, in signing order: the SM2
// signature over the signed attributes, the chain to a trusted root (at
// the time of verification), the signing time (not in the future, within
// the signer certificate's validity) and integrity (messageDigest over the
// byte range). The document is valid only when every signature verifies
// and the last one covers the whole file. For a usage copy, the last
// signature's metadata gives the usage validity dates, and the usage
// validity printed on the page is compared with them.
func PDF(data []byte, opts Options) *Report {
	r := &Report{Format: FormatPDF}
	opts, log := opts.logChains()
	all, err := pdfsig.ExtractAll(data)
	if err != nil {
		return r.failAll(err, pdfChecks...)
	}
	r.Revisions = bytes.Count(data, []byte("%%EOF"))
	for _, e := range all.Skipped {
		r.Warnings = append(r.Warnings, fmt.Sprintf("ignored %v", e))
	}
	n := len(all.Signatures)
	for i, sig := range all.Signatures {
		s := pdfSignature(data, sig, i+1, n, opts, log)
		r.Signatures = append(r.Signatures, *s)
	}
	last := all.Signatures[n-1]
	ls := &r.Signatures[n-1]
	r.Signer, r.SignerSN, r.SigningTime = ls.Signer, ls.SignerSN, ls.SigningTime
	for _, name := range append([]string{CheckFormat}, pdfChecks...) {
		r.addAggregate(name, r.Signatures)
	}
	if len(last.Metadata) > 0 {
		r.Metadata = last.Metadata
	}
	if r.checkKind(last.Metadata, ls.cert) {
		// A verification report prints no certificate data to compare.
		return r.finish().noteTrust(log)
	}
	if r.checkUsage(last.Metadata, true, opts) {
		// The text of the revision the last signature signs (the whole
		// file when integrity holds).
		r.checkPrinted(pdfPageText(data[:last.End()]))
	}
	return r.finish().noteTrust(log)
}

// pdfSignature verifies one signature, the index-th of n.
func pdfSignature(data []byte, sig *pdfsig.Signature, index, n int, opts Options, log *chainLog) *SignatureReport {
	whole := sig.CoversWholeFile(data)
	br := sig.ByteRange
	s := &SignatureReport{Index: index, ByteRange: &br, CoversWholeFile: &whole, SubFilter: sig.SubFilter,
		Revision: bytes.Count(data[:sig.End()], []byte("%%EOF"))}
	s.Covers = pdfCoverage(data, sig, s.Revision)
	fail := func(err error) *SignatureReport {
		s.add(CheckFormat, err, "")
		for _, name := range pdfChecks {
			s.add(name, notChecked{err.Error()}, "")
		}
		return s
	}
	if sig.SubFilter != "adbe.pkcs7.detached" && sig.SubFilter != "ETSI.CAdES.detached" {
		return fail(fmt.Errorf("unsupported signature SubFilter %q", sig.SubFilter))
	}
	sd, err := cms.Parse(sig.Contents)
	if err != nil {
		return fail(err)
	}
	s.add(CheckFormat, nil, fmt.Sprintf("PDF with %d signature(s); SubFilter %s", n, sig.SubFilter))
	s.Signer, s.SignerSN, s.cert = describe(sd.Signer), sd.Signer.SerialNumber.Text(16), sd.Signer
	if !sd.SigningTime.IsZero() {
		t := sd.SigningTime
		s.SigningTime = &t
	}
	s.add(CheckSignature, sd.VerifySignature(), "SM2-with-SM3 signature over the signed attributes verifies")
	root, err := chainRoot(sd.Signer, sd.Certificates, opts, log.at)
	log.note(root, err)
	okChain := ""
	if root != nil {
		s.Trust = trustOf(root)
		okChain = "signer certificate chains to trusted root " + s.Trust.String() + "; " + validationNote(log.at)
	}
	s.add(CheckChain, err, okChain)
	s.add(CheckSigningTime, checkSigningTime(sd.SigningTime, sd.Signer, opts), "signing time is within the signer certificate's validity and not in the future")
	s.add(CheckIntegrity, pdfIntegrity(data, sig, sd, index == n), pdfIntegrityOK(index == n))
	s.OK = true
	for _, c := range s.Checks {
		s.OK = s.OK && c.OK
	}
	return s
}

func pdfIntegrity(data []byte, sig *pdfsig.Signature, sd *cms.SignedData, last bool) error {
	switch {
	case !bytes.Equal(signing.SM3Ranges(sig.SignedParts(data)...), sd.MessageDigest):
		return errors.New("SM3 of the signed byte ranges differs from the signed messageDigest: the document was changed")
	case last && !sig.CoversWholeFile(data):
		return fmt.Errorf("byte range %v does not cover the whole file of %d bytes: content was appended after the last signature", sig.ByteRange, len(data))
	}
	return nil
}

func pdfIntegrityOK(last bool) string {
	if last {
		return "SM3 digest of the whole file (except the signature value) matches"
	}
	return "SM3 digest of the revision it signs (except the signature value) matches"
}

// pdfCoverage says in words what sig covers.
func pdfCoverage(data []byte, sig *pdfsig.Signature, revision int) string {
	br := sig.ByteRange
	s := fmt.Sprintf("bytes %d–%d and %d–%d of %d (all but its own /Contents), revision %d", br[0], br[1], br[2], sig.End(), len(data), revision)
	if rest := len(data) - sig.End(); rest > 0 {
		return s + fmt.Sprintf("; not the %d bytes after it", rest)
	}
	return s + "; the whole file as it is"
}
