package ofdsig

import (
	"context"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ecert/ecert/signing"
	"github.com/emmansun/gmsm/smx509"
)

// GB/T 38540-2020 (SES v4) structures. Times are GeneralizedTime, strings
// IA5String except the seal name (UTF8String).

type sesHeader struct {
	ID      string `asn1:"ia5"`
	Version int
	VID     string `asn1:"ia5"`
}

type sesPropertyInfo struct {
	Type         int
	Name         string `asn1:"utf8"`
	CertListType int
	CertList     [][]byte
	CreateDate   time.Time `asn1:"generalized"`
	ValidStart   time.Time `asn1:"generalized"`
	ValidEnd     time.Time `asn1:"generalized"`
}

type sesPictureInfo struct {
	Type   string `asn1:"ia5"`
	Data   []byte
	Width  int
	Height int
}

type sesSealInfo struct {
	Header   sesHeader
	ESID     string `asn1:"ia5"`
	Property sesPropertyInfo
	Picture  sesPictureInfo
}

type sesSeal struct {
	SealInfo    asn1.RawValue
	Cert        []byte
	SignAlgID   asn1.ObjectIdentifier
	SignedValue asn1.BitString
}

type tbsSign struct {
	Version      int
	ESeal        asn1.RawValue
	TimeInfo     time.Time `asn1:"generalized"`
	DataHash     asn1.BitString
	PropertyInfo string `asn1:"ia5"`
}

type sesSignature struct {
	ToSign         asn1.RawValue
	Cert           []byte
	SignatureAlgID asn1.ObjectIdentifier
	Signature      asn1.BitString
}

// SealSpec describes an electronic seal (电子印章) to make.
type SealSpec struct {
	// ESID is the seal's unique code.
	ESID string
	// Name is the seal's name, e.g. "辽宁省住房和城乡建设厅电子证照专用章".
	Name string
	// Type is the business seal type (1 when zero).
	Type int
	// VendorID identifies the seal system ("ECERT" when empty).
	VendorID string
	// PNG is the seal picture; WidthMM and HeightMM its printed size.
	PNG               []byte
	WidthMM, HeightMM int
	// Created, ValidStart and ValidEnd bound the seal's validity.
	Created, ValidStart, ValidEnd time.Time
	// Holders are the certificates allowed to sign with the seal (certList).
	Holders []*smx509.Certificate
}

func bits(b []byte) asn1.BitString { return asn1.BitString{Bytes: b, BitLength: 8 * len(b)} }

// MakeSeal builds a DER SES_Seal (v4) whose maker is maker: the maker
// signs DER(SES_SealInfo) with SM2-with-SM3, and its certificate is carried
// in the seal. In production a seal comes from a seal-issuing system; ecert
// makes its own for the authority.
func MakeSeal(ctx context.Context, maker signing.Signer, spec SealSpec) ([]byte, error) {
	if len(maker.Chain()) == 0 {
		return nil, errors.New("ofdsig: seal maker has no certificate")
	}
	if spec.ESID == "" || spec.Name == "" || len(spec.PNG) == 0 || spec.WidthMM <= 0 || spec.HeightMM <= 0 {
		return nil, errors.New("ofdsig: seal needs ESID, Name, PNG and a size")
	}
	if len(spec.Holders) == 0 {
		return nil, errors.New("ofdsig: seal needs at least one holder certificate")
	}
	if !spec.ValidEnd.After(spec.ValidStart) {
		return nil, errors.New("ofdsig: seal validity ends before it starts")
	}
	if spec.Type == 0 {
		spec.Type = 1
	}
	if spec.VendorID == "" {
		spec.VendorID = "ECERT"
	}
	var certs [][]byte
	for _, c := range spec.Holders {
		certs = append(certs, c.Raw)
	}
	info, err := asn1.Marshal(sesSealInfo{
		Header: sesHeader{ID: "ES", Version: 4, VID: spec.VendorID},
		ESID:   spec.ESID,
		Property: sesPropertyInfo{
			Type: spec.Type, Name: spec.Name, CertListType: 1, CertList: certs,
			CreateDate: spec.Created.UTC().Truncate(time.Second), ValidStart: spec.ValidStart.UTC().Truncate(time.Second), ValidEnd: spec.ValidEnd.UTC().Truncate(time.Second),
		},
		Picture: sesPictureInfo{Type: "png", Data: spec.PNG, Width: spec.WidthMM, Height: spec.HeightMM},
	})
	if err != nil {
		return nil, fmt.Errorf("ofdsig: encode seal info: %w", err)
	}
	sig, err := maker.Sign(ctx, info)
	if err != nil {
		return nil, fmt.Errorf("ofdsig: sign seal: %w", err)
	}
	return asn1.Marshal(sesSeal{SealInfo: asn1.RawValue{FullBytes: info}, Cert: maker.Chain()[0].Raw, SignAlgID: signing.OIDSM2WithSM3, SignedValue: bits(sig)})
}

// Limits for parsing SES structures.
const (
	MaxSignedValueSize = 4 << 20
	maxCertList        = 16
)

// Seal is a parsed SES_Seal.
type Seal struct {
	Raw      []byte // DER SES_Seal
	InfoRaw  []byte // DER SES_SealInfo, as signed by the maker
	HeaderID string
	Version  int
	VendorID string
	ESID     string
	Name     string
	Type     int
	CertList [][]byte // DER certificates (certListType 1)
	// CertListType is the certList's declared type: 1 certificates, 2
	// digests, other values as vendors write them (see readCertList).
	CertListType int
	CertDigest   []CertDigest
	Created      time.Time
	ValidStart   time.Time
	ValidEnd     time.Time
	Picture      Picture
	MakerCert    *smx509.Certificate
	SignAlg      asn1.ObjectIdentifier
	Signature    []byte
}

// CertDigest is an entry of a digest certList (certListType 2).
type CertDigest struct {
	Type  string
	Value []byte
}

// Picture is the seal's picture.
type Picture struct {
	Type          string
	Data          []byte
	Width, Height int
}

// SignatureValue is a parsed SES_Signature (v4).
type SignatureValue struct {
	TBSRaw       []byte // DER TBS_Sign, as signed
	Version      int
	Seal         *Seal
	Time         time.Time
	DataHash     []byte
	PropertyInfo string
	Cert         *smx509.Certificate
	SignAlg      asn1.ObjectIdentifier
	Signature    []byte
}

// ErrUnsupported marks signature formats this package does not read
// (GM/T 0031 v1 seals, PKCS#7 blocks): not tampering, just unknown.
var ErrUnsupported = errors.New("ofdsig: unsupported signature format")

func seqElements(der []byte, what string, max int) ([]asn1.RawValue, []byte, error) {
	var outer asn1.RawValue
	rest, err := asn1.Unmarshal(der, &outer)
	if err != nil {
		return nil, nil, fmt.Errorf("ofdsig: %s: %w", what, err)
	}
	if outer.Class != asn1.ClassUniversal || outer.Tag != asn1.TagSequence || !outer.IsCompound {
		return nil, nil, fmt.Errorf("ofdsig: %s is not a SEQUENCE", what)
	}
	var els []asn1.RawValue
	b := outer.Bytes
	for len(b) > 0 {
		if len(els) == max {
			return nil, nil, fmt.Errorf("ofdsig: %s has too many elements", what)
		}
		var rv asn1.RawValue
		if b, err = asn1.Unmarshal(b, &rv); err != nil {
			return nil, nil, fmt.Errorf("ofdsig: %s: %w", what, err)
		}
		els = append(els, rv)
	}
	return els, rest, nil
}

// bitStringBytes returns a BIT STRING's bytes, tolerating producers that
// write non-zero unused-bit counts after trimming trailing zero bits.
func bitStringBytes(rv asn1.RawValue, what string) ([]byte, error) {
	if rv.Tag != asn1.TagBitString || rv.Class != asn1.ClassUniversal || len(rv.Bytes) == 0 {
		return nil, fmt.Errorf("ofdsig: %s is not a BIT STRING", what)
	}
	if rv.Bytes[0] > 7 {
		return nil, fmt.Errorf("ofdsig: %s has a bad unused-bits count", what)
	}
	return rv.Bytes[1:], nil
}

func octets(rv asn1.RawValue, what string) ([]byte, error) {
	if rv.Tag != asn1.TagOctetString || rv.Class != asn1.ClassUniversal {
		return nil, fmt.Errorf("ofdsig: %s is not an OCTET STRING", what)
	}
	return rv.Bytes, nil
}

func integer(rv asn1.RawValue, what string) (int, error) {
	var n int
	if _, err := asn1.Unmarshal(rv.FullBytes, &n); err != nil {
		return 0, fmt.Errorf("ofdsig: %s: %w", what, err)
	}
	return n, nil
}

func str(rv asn1.RawValue) string {
	switch rv.Tag {
	case asn1.TagIA5String, asn1.TagUTF8String, asn1.TagPrintableString, 20 /* T61 */, 26 /* Visible */, asn1.TagOctetString:
		return string(rv.Bytes)
	}
	return ""
}

func oid(rv asn1.RawValue, what string) (asn1.ObjectIdentifier, error) {
	var o asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(rv.FullBytes, &o); err != nil {
		return nil, fmt.Errorf("ofdsig: %s: %w", what, err)
	}
	return o, nil
}

// parseTime accepts GeneralizedTime and UTCTime, including the loose forms
// seen in vendor seals (UTCTime text in a GeneralizedTime, missing "Z").
func parseTime(rv asn1.RawValue, what string) (time.Time, error) {
	if rv.Class != asn1.ClassUniversal || (rv.Tag != asn1.TagGeneralizedTime && rv.Tag != asn1.TagUTCTime) || len(rv.Bytes) > 32 {
		return time.Time{}, fmt.Errorf("ofdsig: %s is not a time", what)
	}
	s := strings.TrimSuffix(string(rv.Bytes), "Z")
	for _, layout := range []string{"20060102150405.999999999", "20060102150405", "060102150405", "200601021504"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("ofdsig: %s: unreadable time %q", what, rv.Bytes)
}

// ParseSeal parses a DER SES_Seal (v4).
func ParseSeal(der []byte) (*Seal, error) {
	els, rest, err := seqElements(der, "SES_Seal", 8)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		// Embedded as is in every signature: trailing bytes would break it.
		return nil, fmt.Errorf("ofdsig: SES_Seal followed by %d bytes of trailing data", len(rest))
	}
	if len(els) == 2 {
		return nil, fmt.Errorf("%w: GM/T 0031-2014 (v1) seal", ErrUnsupported)
	}
	if len(els) != 4 {
		return nil, fmt.Errorf("ofdsig: SES_Seal has %d elements, want 4", len(els))
	}
	s := &Seal{Raw: der, InfoRaw: els[0].FullBytes}
	certDER, err := octets(els[1], "seal maker certificate")
	if err != nil {
		return nil, err
	}
	if s.MakerCert, err = smx509.ParseCertificate(certDER); err != nil {
		return nil, fmt.Errorf("ofdsig: seal maker certificate: %w", err)
	}
	if s.SignAlg, err = oid(els[2], "seal signAlgID"); err != nil {
		return nil, err
	}
	if s.Signature, err = bitStringBytes(els[3], "seal signedValue"); err != nil {
		return nil, err
	}
	s.Signature = fullSignature(s.Signature)
	info, _, err := seqElements(els[0].FullBytes, "SES_SealInfo", 8)
	if err != nil {
		return nil, err
	}
	if len(info) < 4 {
		return nil, errors.New("ofdsig: SES_SealInfo too short")
	}
	hdr, _, err := seqElements(info[0].FullBytes, "SES_Header", 4)
	if err != nil || len(hdr) != 3 {
		return nil, errors.New("ofdsig: bad SES_Header")
	}
	s.HeaderID, s.VendorID = str(hdr[0]), str(hdr[2])
	if s.Version, err = integer(hdr[1], "header version"); err != nil {
		return nil, err
	}
	s.ESID = str(info[1])
	prop, _, err := seqElements(info[2].FullBytes, "SES_ESPropertyInfo", 8)
	if err != nil {
		return nil, err
	}
	if len(prop) != 7 {
		return nil, fmt.Errorf("%w: property info with %d elements (v4 has 7)", ErrUnsupported, len(prop))
	}
	if s.Type, err = integer(prop[0], "seal type"); err != nil {
		return nil, err
	}
	s.Name = str(prop[1])
	clType, err := integer(prop[2], "certListType")
	if err != nil {
		return nil, err
	}
	list, _, err := seqElements(prop[3].FullBytes, "certList", maxCertList)
	if err != nil {
		return nil, err
	}
	s.CertListType = clType
	if err := s.readCertList(clType, list); err != nil {
		return nil, err
	}
	if s.Created, err = parseTime(prop[4], "createDate"); err != nil {
		return nil, err
	}
	if s.ValidStart, err = parseTime(prop[5], "validStart"); err != nil {
		return nil, err
	}
	if s.ValidEnd, err = parseTime(prop[6], "validEnd"); err != nil {
		return nil, err
	}
	pic, _, err := seqElements(info[3].FullBytes, "SES_ESPictureInfo", 4)
	if err != nil || len(pic) != 4 {
		return nil, errors.New("ofdsig: bad SES_ESPictureInfo")
	}
	s.Picture.Type = str(pic[0])
	if s.Picture.Data, err = octets(pic[1], "picture data"); err != nil {
		return nil, err
	}
	if s.Picture.Width, err = integer(pic[2], "picture width"); err != nil {
		return nil, err
	}
	if s.Picture.Height, err = integer(pic[3], "picture height"); err != nil {
		return nil, err
	}
	return s, nil
}

// readCertList reads the seal's certList. GB/T 38540 defines type 1
// (certificates, each an OCTET STRING) and type 2 (CertDigestObj digests).
// Other types occur in vendor seals (BaiWang OES writes 3) with entries of
// either shape; they are read by shape, as ofd.js reads every list, and an
// entry of neither shape is an error.
func (s *Seal) readCertList(clType int, list []asn1.RawValue) error {
	for _, e := range list {
		switch {
		case clType != 2 && e.Class == asn1.ClassUniversal && e.Tag == asn1.TagOctetString:
			s.CertList = append(s.CertList, e.Bytes)
		case clType != 1 && e.Class == asn1.ClassUniversal && e.Tag == asn1.TagSequence:
			d, _, err := seqElements(e.FullBytes, "CertDigestObj", 2)
			if err != nil || len(d) != 2 {
				return errors.New("ofdsig: bad CertDigestObj")
			}
			v, err := octets(d[1], "cert digest")
			if err != nil {
				return err
			}
			s.CertDigest = append(s.CertDigest, CertDigest{Type: str(d[0]), Value: v})
		default:
			return fmt.Errorf("ofdsig: certList entry (tag %d) does not fit certListType %d", e.Tag, clType)
		}
	}
	return nil
}

// fullSignature rebuilds a signature value whose trailing zero bytes an
// encoder trimmed from its BIT STRING (seen in vendor seals): a DER
// SEQUENCE shorter than its declared length, or a raw r‖s shorter than 64
// bytes, is padded with zeros to its full length. Anything else is
// returned as is.
func fullSignature(b []byte) []byte {
	const raw = 64
	if len(b) >= 2 && b[0] == 0x30 && b[1] < 0x80 {
		if want := 2 + int(b[1]); want > len(b) && want-len(b) <= 4 {
			return append(append([]byte(nil), b...), make([]byte, want-len(b))...)
		}
		return b
	}
	if len(b) < raw && len(b) >= raw-4 {
		return append(append([]byte(nil), b...), make([]byte, raw-len(b))...)
	}
	return b
}

// ParseSignatureValue parses SignedValue.dat as a DER SES_Signature (v4).
func ParseSignatureValue(der []byte) (*SignatureValue, error) {
	if len(der) > MaxSignedValueSize {
		return nil, fmt.Errorf("%w: signed value of %d bytes", ErrLimit, len(der))
	}
	els, rest, err := seqElements(der, "SES_Signature", 8)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	if len(rest) != 0 {
		return nil, errors.New("ofdsig: trailing bytes after SES_Signature")
	}
	if len(els) == 2 {
		return nil, fmt.Errorf("%w: GM/T 0031-2014 (v1) signature", ErrUnsupported)
	}
	if len(els) < 4 || len(els) > 5 {
		return nil, fmt.Errorf("%w: SES_Signature with %d elements", ErrUnsupported, len(els))
	}
	v := &SignatureValue{TBSRaw: els[0].FullBytes}
	certDER, err := octets(els[1], "signer certificate")
	if err != nil {
		return nil, err
	}
	if v.Cert, err = smx509.ParseCertificate(certDER); err != nil {
		return nil, fmt.Errorf("ofdsig: signer certificate: %w", err)
	}
	if v.SignAlg, err = oid(els[2], "signatureAlgID"); err != nil {
		return nil, err
	}
	if v.Signature, err = bitStringBytes(els[3], "signature"); err != nil {
		return nil, err
	}
	v.Signature = fullSignature(v.Signature)
	tbs, _, err := seqElements(els[0].FullBytes, "TBS_Sign", 8)
	if err != nil {
		return nil, err
	}
	if len(tbs) < 5 {
		return nil, errors.New("ofdsig: TBS_Sign too short")
	}
	if v.Version, err = integer(tbs[0], "TBS_Sign version"); err != nil {
		return nil, err
	}
	if v.Seal, err = ParseSeal(tbs[1].FullBytes); err != nil {
		return nil, err
	}
	if v.Time, err = parseTime(tbs[2], "timeInfo"); err != nil {
		return nil, err
	}
	if v.DataHash, err = bitStringBytes(tbs[3], "dataHash"); err != nil {
		return nil, err
	}
	if n := len(v.DataHash); n < 32 && n >= 28 {
		// An SM3 digest whose trailing zero bytes were trimmed.
		v.DataHash = append(append([]byte(nil), v.DataHash...), make([]byte, 32-n)...)
	}
	v.PropertyInfo = str(tbs[4])
	return v, nil
}
