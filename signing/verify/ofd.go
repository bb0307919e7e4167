package verify

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/ofdsig"
)

// MaxOFDSignatures bounds the signatures verified in one package.
const MaxOFDSignatures = 8

// ofdChecks are the checks every OFD signature gets after format.
var ofdChecks = []string{CheckSignature, CheckSeal, CheckChain, CheckSigningTime, CheckIntegrity}

// OFD verifies every seal signature of an OFD package: the SM2 signature
// over TBS_Sign; the seal (maker's signature over the seal info, signer in
// the seal's certificate list, signing time within the seal's validity,
// stamp on an existing page); the signer's and seal maker's chains to a
// trusted root; the signing time against the signer certificate; and
// integrity: every reference digest, Signature.xml's digest in TBS_Sign, and
// no file in the package that no signature covers; for a usage copy, the
// usage validity in the signed metadata and the one printed on the page.
func OFD(data []byte, opts Options) *Report {
	r := &Report{Format: FormatOFD}
	all := ofdChecks
	opts, log := opts.logChains()
	if !r.checkPackage(data) {
		return r.failAll(errors.New("not read: the zip package was refused (see the package check)"), all...)
	}
	pkg, err := ofdsig.ReadPackage(data, ofdsig.Limits{})
	if err != nil {
		return r.failAll(err, all...)
	}
	ofdXML, err := pkg.XML("OFD.xml", ofdsig.Limits{})
	if err != nil {
		return r.failAll(err, all...)
	}
	var root ofdsig.OFDRoot
	if err := ofdsig.ParseXML(ofdXML, &root); err != nil {
		return r.failAll(fmt.Errorf("OFD.xml: %w", err), all...)
	}
	if len(root.DocBodies) == 0 {
		return r.failAll(errors.New("OFD.xml has no DocBody"), all...)
	}
	body := root.DocBodies[0]
	if strings.TrimSpace(body.Signatures) == "" {
		return r.failAll(errors.New("the package is not signed (no Signatures in OFD.xml)"), all...)
	}
	sigsName, err := ofdsig.Resolve("OFD.xml", body.Signatures)
	if err != nil {
		return r.failAll(err, all...)
	}
	sigsXML, err := pkg.XML(sigsName, ofdsig.Limits{})
	if err != nil {
		return r.failAll(err, all...)
	}
	var sigs ofdsig.SignaturesXML
	if err := ofdsig.ParseXML(sigsXML, &sigs); err != nil {
		return r.failAll(fmt.Errorf("%s: %w", sigsName, err), all...)
	}
	if len(sigs.Signatures) == 0 || len(sigs.Signatures) > MaxOFDSignatures {
		return r.failAll(fmt.Errorf("%s lists %d signatures (want 1 to %d)", sigsName, len(sigs.Signatures), MaxOFDSignatures), all...)
	}
	pageIDs := map[string]bool{}
	var doc *ofdsig.DocumentXML
	docRoot, docErr := ofdsig.Resolve("OFD.xml", body.DocRoot)
	if docErr == nil {
		var b []byte
		if b, docErr = pkg.XML(docRoot, ofdsig.Limits{}); docErr == nil {
			doc = new(ofdsig.DocumentXML)
			if docErr = ofdsig.ParseXML(b, doc); docErr == nil {
				for _, p := range doc.Pages {
					pageIDs[p.ID] = true
				}
			} else {
				doc = nil
			}
		}
	}

	d := &ofdDoc{pkg: pkg, sigsName: sigsName, pageIDs: pageIDs, covered: map[string]bool{}, own: map[string]bool{sigsName: true}}
	n := len(sigs.Signatures)
	for i, entry := range sigs.Signatures {
		r.Signatures = append(r.Signatures, *d.signature(entry.ID, entry.BaseLoc, i+1, n, opts, log))
	}
	for i := len(r.Signatures) - 1; i >= 0; i-- {
		if s := &r.Signatures[i]; s.Signer != "" {
			r.Signer, r.SignerSN, r.SigningTime = s.Signer, s.SignerSN, s.SigningTime
			break
		}
	}
	for _, name := range append([]string{CheckFormat}, all...) {
		r.addAggregate(name, r.Signatures)
	}
	r.Warnings = append(r.Warnings, d.warnings...)
	d.coverage(r)
	for _, s := range r.Signatures {
		if signing.IsVerificationService(s.cert) {
			// Verification reports are PDFs: an OFD is always a certificate.
			r.checkKind(nil, s.cert)
			break
		}
	}

	meta := map[string]string{}
	for _, cd := range body.CustomDatas {
		meta[cd.Name] = strings.TrimSpace(cd.Value)
	}
	if len(meta) > 0 {
		r.Metadata = meta
	}
	if r.checkUsage(meta, d.covered["OFD.xml"], opts) {
		if docErr != nil {
			r.checkPrinted("", nil, fmt.Errorf("document root: %w", docErr))
		} else {
			r.checkPrinted(ofdPageText(pkg, docRoot, doc))
		}
	}
	return r.finish().noteTrust(log)
}

func checkSeal(sv *ofdsig.SignatureValue, sx *ofdsig.SignatureXML, pageIDs map[string]bool) error {
	s := sv.Seal
	var problems []string
	if s.HeaderID != "ES" || s.Version != 4 {
		problems = append(problems, fmt.Sprintf("seal header %q version %d (want ES, 4)", s.HeaderID, s.Version))
	}
	pub, _ := s.MakerCert.PublicKey.(*ecdsa.PublicKey)
	if !signing.IsSM2Signature(s.SignAlg) || !signing.VerifySM2(pub, s.InfoRaw, s.Signature) {
		problems = append(problems, "seal maker's signature over the seal info does not verify")
	}
	inList := false
	for _, c := range s.CertList {
		if bytes.Equal(c, sv.Cert.Raw) {
			inList = true
		}
	}
	for _, d := range s.CertDigest {
		if bytes.Equal(d.Value, signing.SM3(sv.Cert.Raw)) {
			inList = true
		}
	}
	if !inList {
		problems = append(problems, "signer certificate is not in the seal's certificate list")
	}
	if sv.Time.Before(s.ValidStart) || sv.Time.After(s.ValidEnd) {
		problems = append(problems, fmt.Sprintf("signed at %s outside the seal's validity %s – %s",
			sv.Time.UTC().Format(time.RFC3339), s.ValidStart.UTC().Format(time.RFC3339), s.ValidEnd.UTC().Format(time.RFC3339)))
	}
	if len(sx.SignedInfo.StampAnnots) == 0 {
		problems = append(problems, "no StampAnnot")
	}
	for _, a := range sx.SignedInfo.StampAnnots {
		if len(pageIDs) > 0 && !pageIDs[a.PageRef] {
			problems = append(problems, fmt.Sprintf("StampAnnot on page ID %q, which does not exist", a.PageRef))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}
