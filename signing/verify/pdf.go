package verify

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/cms"
	"github.com/ecert/ecert/signing/pdfsig"
)

// PDF verifies the last signature of a PDF document: the SM2 signature over
// the signed attributes, the chain to a trusted root, the signing time
// against the signer certificate, integrity (messageDigest over the byte
// range, and a byte range that covers the whole file) and, for a usage copy,
// the usage validity dates in the signed metadata and the usage validity
// printed on the page against them.
func PDF(data []byte, opts Options) *Report {
	r := &Report{Format: FormatPDF}
	sig, err := pdfsig.Extract(data)
	if err != nil {
		return r.failAll(err, CheckSignature, CheckChain, CheckSigningTime, CheckIntegrity)
	}
	if sig.SubFilter != "adbe.pkcs7.detached" && sig.SubFilter != "ETSI.CAdES.detached" {
		return r.failAll(fmt.Errorf("unsupported signature SubFilter %q", sig.SubFilter), CheckSignature, CheckChain, CheckSigningTime, CheckIntegrity)
	}
	sd, err := cms.Parse(sig.Contents)
	if err != nil {
		return r.failAll(err, CheckSignature, CheckChain, CheckSigningTime, CheckIntegrity)
	}
	r.add(CheckFormat, nil, fmt.Sprintf("PDF with %d signature(s); SubFilter %s", sig.Count, sig.SubFilter))
	r.Signer, r.SignerSN = describe(sd.Signer), sd.Signer.SerialNumber.Text(16)
	if !sd.SigningTime.IsZero() {
		t := sd.SigningTime
		r.SigningTime = &t
	}
	r.add(CheckSignature, sd.VerifySignature(), "SM2-with-SM3 signature over the signed attributes verifies")
	r.add(CheckChain, verifyChain(sd.Signer, sd.Certificates, opts, sd.SigningTime), "signer certificate chains to a trusted root")
	r.add(CheckSigningTime, checkTime(sd.SigningTime, sd.Signer), "signing time is within the signer certificate's validity")

	var integ error
	switch {
	case !sig.CoversWholeFile(data):
		integ = fmt.Errorf("byte range %v does not cover the whole file of %d bytes: content was appended after the signature", sig.ByteRange, len(data))
	case !bytes.Equal(signing.SM3Ranges(sig.SignedParts(data)...), sd.MessageDigest):
		integ = errors.New("SM3 of the signed byte ranges differs from the signed messageDigest: the document was changed")
	}
	r.add(CheckIntegrity, integ, "SM3 digest of the whole file (except the signature value) matches")
	if len(sig.Metadata) > 0 {
		r.Metadata = sig.Metadata
	}
	if r.checkUsage(sig.Metadata, true, opts) {
		// The text of the signed revision: everything up to the end of the
		// byte range (the whole file when integrity holds).
		end := sig.ByteRange[2] + sig.ByteRange[3]
		if end <= 0 || end > len(data) {
			end = len(data)
		}
		r.checkPrinted(pdfPageText(data[:end]))
	}
	return r.finish()
}
