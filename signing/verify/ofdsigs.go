package verify

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/ofdsig"
	"github.com/emmansun/gmsm/smx509"
)

// ofdDoc is what verifying the signatures of one OFD package shares.
type ofdDoc struct {
	pkg      *ofdsig.Package
	sigsName string          // Signatures.xml
	pageIDs  map[string]bool // pages of the document, by ID
	covered  map[string]bool // files some signature's references cover
	own      map[string]bool // the signatures' own files
	ecert    bool            // some seal was made by ecert (which signs every file)
	warnings []string
}

// signature verifies the index-th of n signatures listed in Signatures.xml.
func (d *ofdDoc) signature(id, baseLoc string, index, n int, opts Options, log *chainLog) *SignatureReport {
	s := &SignatureReport{Index: index, ID: id}
	fail := func(err error) *SignatureReport {
		s.add(CheckFormat, err, "")
		for _, name := range ofdChecks {
			s.add(name, notChecked{"unreadable signature"}, "")
		}
		return s
	}
	sigName, err := ofdsig.Resolve(d.sigsName, baseLoc)
	if err != nil {
		return fail(err)
	}
	s.File = sigName
	d.own[sigName] = true
	sigXML, err := d.pkg.XML(sigName, ofdsig.Limits{})
	if err != nil {
		return fail(err)
	}
	var sx ofdsig.SignatureXML
	if err := ofdsig.ParseXML(sigXML, &sx); err != nil {
		return fail(fmt.Errorf("%s: %w", sigName, err))
	}
	s.Files, s.Covers = d.listed(sigName, &sx)
	valueName, err := ofdsig.Resolve(sigName, sx.SignedValue)
	if err != nil {
		return fail(err)
	}
	d.own[valueName] = true
	sealFile := ""
	if sx.SignedInfo.Seal.BaseLoc != "" {
		if sealFile, err = ofdsig.Resolve(sigName, sx.SignedInfo.Seal.BaseLoc); err == nil {
			d.own[sealFile] = true
		}
	}
	valueDER, ok := d.pkg.Files[valueName]
	if !ok {
		return fail(fmt.Errorf("signed value %s missing", valueName))
	}
	sv, err := ofdsig.ParseSignatureValue(valueDER)
	if err != nil {
		return fail(err)
	}
	s.add(CheckFormat, nil, fmt.Sprintf("OFD package with %d seal signature(s); this one GB/T 38540 v4", n))
	s.Signer, s.SignerSN, s.Seal, s.cert = describe(sv.Cert), sv.Cert.SerialNumber.Text(16), sv.Seal.Name, sv.Cert
	t := sv.Time
	s.SigningTime = &t
	d.ecert = d.ecert || sv.Seal.VendorID == "ECERT"
	if p := strings.TrimPrefix(sv.PropertyInfo, "/"); p != sigName {
		d.warnings = append(d.warnings, fmt.Sprintf("signature %s: propertyInfo %q does not name %s", id, sv.PropertyInfo, sigName))
	}

	pub, _ := sv.Cert.PublicKey.(*ecdsa.PublicKey)
	var sigErr error
	switch {
	case !signing.IsSM2Signature(sv.SignAlg):
		sigErr = fmt.Errorf("unsupported signature algorithm %v", sv.SignAlg)
	case !signing.VerifySM2(pub, sv.TBSRaw, sv.Signature):
		sigErr = errors.New("SM2 signature over TBS_Sign does not verify")
	}
	s.add(CheckSignature, sigErr, "SM2-with-SM3 signature over TBS_Sign verifies")
	s.add(CheckSeal, checkSeal(sv, &sx, d.pageIDs), "seal maker's signature verifies; signer is in the seal's certificate list; signed within the seal's validity")
	chainErr, okChain := d.chains(s, sv, opts, log), ""
	if s.Trust != nil {
		okChain = "signer and seal maker certificates chain to trusted root " + s.Trust.String() + "; " + validationNote(log.at)
	}
	s.add(CheckChain, chainErr, okChain)
	s.add(CheckSigningTime, checkSigningTime(sv.Time, sv.Cert, opts), "signing time is within the signer certificate's validity and not in the future")
	s.add(CheckIntegrity, d.integrity(sigName, sigXML, &sx, sv, sealFile, index < n),
		fmt.Sprintf("all %d files it lists match their SM3 digests; Signature.xml matches the signed dataHash", len(s.Files)))
	s.OK = true
	for _, c := range s.Checks {
		s.OK = s.OK && c.OK
	}
	return s
}

// chains checks the signer's and the seal maker's chains, noting the
// signer's root in s.
func (d *ofdDoc) chains(s *SignatureReport, sv *ofdsig.SignatureValue, opts Options, log *chainLog) error {
	extra := []*smx509.Certificate{sv.Seal.MakerCert}
	for _, c := range sv.Seal.CertList {
		if cert, err := smx509.ParseCertificate(c); err == nil {
			extra = append(extra, cert)
		}
	}
	root, err := chainRoot(sv.Cert, extra, opts, log.at)
	log.note(root, err)
	if root != nil {
		s.Trust = trustOf(root)
	}
	if err != nil || sv.Seal.MakerCert.Equal(sv.Cert) {
		return err
	}
	root, err = chainRoot(sv.Seal.MakerCert, extra, opts, log.at)
	log.note(root, err)
	if err != nil {
		return fmt.Errorf("seal maker: %w", err)
	}
	return nil
}

// listed returns the files a signature's references name, as package
// names, and says in words what it covers.
func (d *ofdDoc) listed(sigName string, sx *ofdsig.SignatureXML) ([]string, string) {
	var files []string
	for _, ref := range sx.SignedInfo.References.Reference {
		if n, err := ofdsig.Resolve(sigName, ref.FileRef); err == nil {
			files = append(files, n)
		}
	}
	covers := fmt.Sprintf("%d files listed in %s, and %s itself through the signed dataHash", len(files), sigName, sigName)
	return files, covers
}

// integrity checks a signature's references, dataHash and seal file. A
// signature followed by others (later) may find Signatures.xml changed:
// adding a signature rewrites it, which is a warning, not tampering.
func (d *ofdDoc) integrity(sigName string, sigXML []byte, sx *ofdsig.SignatureXML, sv *ofdsig.SignatureValue, sealFile string, later bool) error {
	var problems []string
	if err := d.references(sigName, sx, later); err != nil {
		problems = append(problems, err.Error())
	}
	if !bytes.Equal(sv.DataHash, signing.SM3(sigXML)) {
		problems = append(problems, sigName+" changed: its SM3 differs from the signed dataHash")
	}
	if sealFile != "" {
		if esl, ok := d.pkg.Files[sealFile]; !ok || !bytes.Equal(esl, sv.Seal.Raw) {
			problems = append(problems, sealFile+" does not match the seal inside the signature")
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// references checks every reference's SM3 digest and marks what matched
// as covered. It names files whose digest differs "changed" and listed
// files that are gone "removed".
func (d *ofdDoc) references(sigName string, sx *ofdsig.SignatureXML, later bool) error {
	m := strings.TrimSpace(sx.SignedInfo.References.CheckMethod)
	if m != signing.OIDSM3.String() && !strings.EqualFold(m, "sm3") {
		return fmt.Errorf("unsupported CheckMethod %q", m)
	}
	refs := sx.SignedInfo.References.Reference
	if len(refs) == 0 {
		return errors.New("no References")
	}
	if len(refs) > len(d.pkg.Names)+1 {
		return fmt.Errorf("%d references for %d files", len(refs), len(d.pkg.Names))
	}
	var changed, removed, bad []string
	for _, ref := range refs {
		n, err := ofdsig.Resolve(sigName, ref.FileRef)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		b, ok := d.pkg.Files[n]
		if !ok {
			removed = append(removed, n)
			continue
		}
		want, err := base64.StdEncoding.DecodeString(strings.TrimSpace(ref.CheckValue))
		switch {
		case err == nil && bytes.Equal(want, signing.SM3(b)):
			d.covered[n] = true
		case n == d.sigsName && later:
			d.warnings = append(d.warnings, fmt.Sprintf("%s changed after %s signed it, as adding the later signatures does", n, sigName))
		default:
			changed = append(changed, n)
		}
	}
	var problems []string
	for _, p := range []struct {
		what  string
		names []string
	}{{"changed (SM3 differs from the signed digest)", changed}, {"removed", removed}, {"bad reference", bad}} {
		if len(p.names) > 0 {
			problems = append(problems, p.what+": "+short(p.names))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func short(names []string) string {
	if len(names) > 5 {
		return strings.Join(names[:5], ", ") + fmt.Sprintf(" and %d more", len(names)-5)
	}
	return strings.Join(names, ", ")
}

// coverage reports the files no signature covers: for a vendor seal a
// warning (GB/T 38540 lets a seal leave out OFD.xml or templates), listed
// in NotCovered; for an ecert seal, which signs every file, an integrity
// failure, since such a file was added after signing.
func (d *ofdDoc) coverage(r *Report) {
	var uncovered []string
	for _, n := range d.pkg.Names {
		if !d.covered[n] && !d.own[n] {
			uncovered = append(uncovered, n)
		}
	}
	if !d.covered[d.sigsName] {
		r.Warnings = append(r.Warnings, d.sigsName+" is not covered by a signature (further signatures can be added)")
	}
	if len(uncovered) == 0 {
		return
	}
	sort.Strings(uncovered)
	r.NotCovered = uncovered
	msg := "not covered by any signature: " + short(uncovered)
	if !d.ecert {
		r.Warnings = append(r.Warnings, msg+" (present but in no signature's list; their content is not protected)")
		return
	}
	for i := range r.Checks {
		if c := &r.Checks[i]; c.Name == CheckIntegrity {
			if c.OK {
				c.Reason = ""
			} else {
				c.Reason += "; "
			}
			c.OK, c.Status = false, StatusFail
			c.Reason += msg + " (added after signing: an ecert seal covers every file)"
		}
	}
}
