package verify

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/ofdsig"
	"github.com/emmansun/gmsm/smx509"
)

// MaxOFDSignatures bounds the signatures verified in one package.
const MaxOFDSignatures = 8

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
	all := []string{CheckSignature, CheckSeal, CheckChain, CheckSigningTime, CheckIntegrity}
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

	errs := map[string][]string{}
	fail := func(check, sigID string, err error) {
		if err != nil {
			errs[check] = append(errs[check], fmt.Sprintf("signature %s: %v", sigID, err))
		}
	}
	covered := map[string]bool{}
	own := map[string]bool{sigsName: true}
	parsed := 0
	for _, entry := range sigs.Signatures {
		id := entry.ID
		sigName, err := ofdsig.Resolve(sigsName, entry.BaseLoc)
		if err != nil {
			fail(CheckFormat, id, err)
			continue
		}
		own[sigName] = true
		sigXML, err := pkg.XML(sigName, ofdsig.Limits{})
		if err != nil {
			fail(CheckFormat, id, err)
			continue
		}
		var sx ofdsig.SignatureXML
		if err := ofdsig.ParseXML(sigXML, &sx); err != nil {
			fail(CheckFormat, id, fmt.Errorf("%s: %w", sigName, err))
			continue
		}
		valueName, err := ofdsig.Resolve(sigName, sx.SignedValue)
		if err != nil {
			fail(CheckFormat, id, err)
			continue
		}
		own[valueName] = true
		if sx.SignedInfo.Seal.BaseLoc != "" {
			if n, err := ofdsig.Resolve(sigName, sx.SignedInfo.Seal.BaseLoc); err == nil {
				own[n] = true
			}
		}
		valueDER, ok := pkg.Files[valueName]
		if !ok {
			fail(CheckFormat, id, fmt.Errorf("signed value %s missing", valueName))
			continue
		}
		sv, err := ofdsig.ParseSignatureValue(valueDER)
		if err != nil {
			fail(CheckFormat, id, err)
			continue
		}
		parsed++
		if r.Signer == "" {
			r.Signer, r.SignerSN = describe(sv.Cert), sv.Cert.SerialNumber.Text(16)
			t := sv.Time
			r.SigningTime = &t
		}

		// Integrity: references, and this Signature.xml bound by dataHash.
		fail(CheckIntegrity, id, checkReferences(pkg, sigName, &sx, covered))
		if !bytes.Equal(sv.DataHash, signing.SM3(sigXML)) {
			fail(CheckIntegrity, id, fmt.Errorf("%s changed: its SM3 differs from the signed dataHash", sigName))
		}
		if sx.SignedInfo.Seal.BaseLoc != "" {
			if n, err := ofdsig.Resolve(sigName, sx.SignedInfo.Seal.BaseLoc); err == nil {
				if esl, ok := pkg.Files[n]; !ok || !bytes.Equal(esl, sv.Seal.Raw) {
					fail(CheckIntegrity, id, fmt.Errorf("%s does not match the seal inside the signature", n))
				}
			}
		}
		if p := strings.TrimPrefix(sv.PropertyInfo, "/"); p != sigName {
			r.Warnings = append(r.Warnings, fmt.Sprintf("signature %s: propertyInfo %q does not name %s", id, sv.PropertyInfo, sigName))
		}

		// Signature value.
		pub, _ := sv.Cert.PublicKey.(*ecdsa.PublicKey)
		switch {
		case !signing.IsSM2Signature(sv.SignAlg):
			fail(CheckSignature, id, fmt.Errorf("unsupported signature algorithm %v", sv.SignAlg))
		case !signing.VerifySM2(pub, sv.TBSRaw, sv.Signature):
			fail(CheckSignature, id, errors.New("SM2 signature over TBS_Sign does not verify"))
		}

		// Seal.
		fail(CheckSeal, id, checkSeal(sv, &sx, pageIDs))

		// Chain: signer and seal maker, at the signing time.
		extra := []*smx509.Certificate{sv.Seal.MakerCert}
		for _, c := range sv.Seal.CertList {
			if cert, err := smx509.ParseCertificate(c); err == nil {
				extra = append(extra, cert)
			}
		}
		fail(CheckChain, id, verifyChain(sv.Cert, extra, opts, sv.Time))
		if !sv.Seal.MakerCert.Equal(sv.Cert) {
			if err := verifyChain(sv.Seal.MakerCert, extra, opts, sv.Time); err != nil {
				fail(CheckChain, id, fmt.Errorf("seal maker: %w", err))
			}
		}
		fail(CheckSigningTime, id, checkSigningTime(sv.Time, sv.Cert, opts))
	}

	// Coverage: any file no signature protects counts as added.
	var uncovered []string
	for _, n := range pkg.Names {
		if covered[n] || own[n] {
			continue
		}
		uncovered = append(uncovered, n)
	}
	if len(uncovered) > 0 {
		sort.Strings(uncovered)
		errs[CheckIntegrity] = append(errs[CheckIntegrity], "files not covered by any signature (added?): "+strings.Join(uncovered, ", "))
	}
	if !covered[sigsName] {
		r.Warnings = append(r.Warnings, sigsName+" is not covered by a signature (further signatures can be added)")
	}

	if parsed == 0 {
		r.add(CheckFormat, errors.New(strings.Join(errs[CheckFormat], "; ")), "")
		for _, n := range all {
			r.add(n, errors.New("not checked: no readable signature"), "")
		}
		return r.finish()
	}
	okReasons := map[string]string{
		CheckFormat:      fmt.Sprintf("OFD package with %d seal signature(s) (GB/T 38540 v4)", len(sigs.Signatures)),
		CheckSignature:   "SM2-with-SM3 signature over TBS_Sign verifies",
		CheckSeal:        "seal maker's signature verifies; signer is in the seal's certificate list; signed within the seal's validity",
		CheckChain:       "signer and seal maker certificates chain to a trusted root",
		CheckSigningTime: "signing time is within the signer certificate's validity",
		CheckIntegrity:   fmt.Sprintf("all %d files match their SM3 digests; no file added or removed", len(pkg.Names)),
	}
	for _, n := range append([]string{CheckFormat}, all...) {
		if e := errs[n]; len(e) > 0 {
			r.add(n, errors.New(strings.Join(e, "; ")), "")
		} else {
			r.add(n, nil, okReasons[n])
		}
	}
	meta := map[string]string{}
	for _, cd := range body.CustomDatas {
		meta[cd.Name] = strings.TrimSpace(cd.Value)
	}
	if len(meta) > 0 {
		r.Metadata = meta
	}
	if r.checkUsage(meta, covered["OFD.xml"], opts) {
		if docErr != nil {
			r.checkPrinted("", nil, fmt.Errorf("document root: %w", docErr))
		} else {
			r.checkPrinted(ofdPageText(pkg, docRoot, doc))
		}
	}
	return r.finish()
}

func checkReferences(pkg *ofdsig.Package, sigName string, sx *ofdsig.SignatureXML, covered map[string]bool) error {
	m := strings.TrimSpace(sx.SignedInfo.References.CheckMethod)
	if m != signing.OIDSM3.String() && !strings.EqualFold(m, "sm3") {
		return fmt.Errorf("unsupported CheckMethod %q", m)
	}
	refs := sx.SignedInfo.References.Reference
	if len(refs) == 0 {
		return errors.New("no References")
	}
	if len(refs) > len(pkg.Names)+1 {
		return fmt.Errorf("%d references for %d files", len(refs), len(pkg.Names))
	}
	var problems []string
	for _, ref := range refs {
		n, err := ofdsig.Resolve(sigName, ref.FileRef)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		b, ok := pkg.Files[n]
		if !ok {
			problems = append(problems, n+" removed")
			continue
		}
		want, err := base64.StdEncoding.DecodeString(strings.TrimSpace(ref.CheckValue))
		if err != nil || !bytes.Equal(want, signing.SM3(b)) {
			problems = append(problems, n+" changed")
			continue
		}
		covered[n] = true
	}
	if len(problems) > 0 {
		if len(problems) > 5 {
			problems = append(problems[:5], fmt.Sprintf("and %d more", len(problems)-5))
		}
		return errors.New(strings.Join(problems, ", "))
	}
	return nil
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
