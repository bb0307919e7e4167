package cms

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"github.com/ecert/ecert/signing"
	"github.com/emmansun/gmsm/smx509"
)

// SignedData is a parsed detached SignedData with one signer.
type SignedData struct {
	// Certificates are all certificates carried, signer first if present.
	Certificates []*smx509.Certificate
	// Signer is the certificate named by the SignerInfo.
	Signer *smx509.Certificate
	// DigestAlgorithm and SignatureAlgorithm are the SignerInfo's algorithms.
	DigestAlgorithm, SignatureAlgorithm asn1.ObjectIdentifier
	// SignedAttrs is the DER SET OF signed attributes, as signed (tag 0x31).
	SignedAttrs []byte
	// Signature is the signature value.
	Signature []byte
	// MessageDigest is the messageDigest attribute.
	MessageDigest []byte
	// SigningTime is the signingTime attribute (zero when absent).
	SigningTime time.Time
}

// ErrMalformed wraps every structural parse error.
var ErrMalformed = errors.New("cms: malformed SignedData")

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
}

// elements splits the content of a constructed value into its TLVs.
func elements(b []byte, max int) ([]asn1.RawValue, error) {
	var out []asn1.RawValue
	for len(b) > 0 {
		if len(out) == max {
			return nil, malformed("more than %d elements", max)
		}
		var rv asn1.RawValue
		rest, err := asn1.Unmarshal(b, &rv)
		if err != nil {
			return nil, malformed("%v", err)
		}
		out = append(out, rv)
		b = rest
	}
	return out, nil
}

// Parse parses a DER ContentInfo(SignedData) with exactly one SignerInfo.
// Trailing bytes after the ContentInfo are refused.
func Parse(der []byte) (*SignedData, error) {
	if len(der) > MaxSize {
		return nil, malformed("%d bytes exceeds the %d-byte limit", len(der), MaxSize)
	}
	var ci contentInfo
	rest, err := asn1.Unmarshal(der, &ci)
	if err != nil {
		return nil, malformed("content info: %v", err)
	}
	if len(rest) != 0 {
		return nil, malformed("%d trailing bytes", len(rest))
	}
	if !ci.ContentType.Equal(OIDSignedData) && !ci.ContentType.Equal(signing.OIDGMSignedData) {
		return nil, malformed("content type %v is not signedData", ci.ContentType)
	}
	var sd signedData
	if rest, err = asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil || len(rest) != 0 {
		return nil, malformed("signed data: %v", err)
	}
	if len(sd.EncapContentInfo.EContent.Bytes) != 0 {
		return nil, malformed("not detached: encapsulated content present")
	}
	out := &SignedData{}
	if len(sd.Certificates.Bytes) > 0 {
		certs, err := elements(sd.Certificates.Bytes, MaxCertificates)
		if err != nil {
			return nil, err
		}
		for _, c := range certs {
			cert, err := smx509.ParseCertificate(c.FullBytes)
			if err != nil {
				return nil, malformed("certificate: %v", err)
			}
			out.Certificates = append(out.Certificates, cert)
		}
	}
	sis, err := elements(sd.SignerInfos.Bytes, 2)
	if err != nil {
		return nil, err
	}
	if len(sis) != 1 {
		return nil, malformed("%d signer infos, want 1", len(sis))
	}
	var si signerInfo
	if rest, err := asn1.Unmarshal(sis[0].FullBytes, &si); err != nil || len(rest) != 0 {
		return nil, malformed("signer info: %v", err)
	}
	out.DigestAlgorithm = si.DigestAlgorithm.Algorithm
	out.SignatureAlgorithm = si.SignatureAlgorithm.Algorithm
	out.Signature = si.Signature
	for _, c := range out.Certificates {
		if bytes.Equal(c.RawIssuer, si.SID.Issuer.FullBytes) && si.SID.Serial != nil && c.SerialNumber.Cmp(si.SID.Serial) == 0 {
			out.Signer = c
			break
		}
	}
	if out.Signer == nil {
		return nil, malformed("signer certificate not included")
	}
	if len(si.SignedAttrs.FullBytes) == 0 {
		return nil, malformed("no signed attributes")
	}
	out.SignedAttrs = append([]byte{0x31}, si.SignedAttrs.FullBytes[1:]...)
	attrs, err := elements(si.SignedAttrs.Bytes, MaxAttributes)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, a := range attrs {
		var at attribute
		if rest, err := asn1.Unmarshal(a.FullBytes, &at); err != nil || len(rest) != 0 {
			return nil, malformed("attribute: %v", err)
		}
		key := at.Type.String()
		if seen[key] {
			return nil, malformed("duplicate attribute %s", key)
		}
		seen[key] = true
		vals, err := elements(at.Values.Bytes, 1)
		if err != nil || len(vals) != 1 {
			return nil, malformed("attribute %s must have one value", key)
		}
		switch {
		case at.Type.Equal(OIDMessageDigest):
			if _, err := asn1.Unmarshal(vals[0].FullBytes, &out.MessageDigest); err != nil {
				return nil, malformed("messageDigest: %v", err)
			}
		case at.Type.Equal(OIDSigningTime):
			t, err := parseTime(vals[0])
			if err != nil {
				return nil, malformed("signingTime: %v", err)
			}
			out.SigningTime = t
		}
	}
	if out.MessageDigest == nil {
		return nil, malformed("no messageDigest attribute")
	}
	return out, nil
}

func parseTime(v asn1.RawValue) (time.Time, error) {
	var t time.Time
	switch v.Tag {
	case asn1.TagUTCTime:
		_, err := asn1.UnmarshalWithParams(v.FullBytes, &t, "utc")
		return t, err
	case asn1.TagGeneralizedTime:
		_, err := asn1.UnmarshalWithParams(v.FullBytes, &t, "generalized")
		return t, err
	}
	return t, fmt.Errorf("unexpected tag %d", v.Tag)
}

// VerifySignature checks the SM2 signature over the signed attributes
// with the signer certificate's public key. It does not check the digest,
// the chain or the time.
func (sd *SignedData) VerifySignature() error {
	if !signing.IsSM2Signature(sd.SignatureAlgorithm) {
		return fmt.Errorf("cms: unsupported signature algorithm %v", sd.SignatureAlgorithm)
	}
	if !sd.DigestAlgorithm.Equal(signing.OIDSM3) {
		return fmt.Errorf("cms: unsupported digest algorithm %v", sd.DigestAlgorithm)
	}
	pub, ok := sd.Signer.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return errors.New("cms: signer key is not an SM2 key")
	}
	if !signing.VerifySM2(pub, sd.SignedAttrs, sd.Signature) {
		return errors.New("cms: SM2 signature over the signed attributes does not verify")
	}
	return nil
}
