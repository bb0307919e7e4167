// Package cms encodes and parses detached CMS (PKCS#7) SignedData with SM2
// signatures and SM3 digests, as embedded in PDF signatures. It encodes
// exactly one SignerInfo identified by issuer and serial number, with the
// signed attributes contentType, messageDigest and signingTime, and it
// parses hostile input with bounds on every count and size.
//
// It never decides trust: chain and time checks belong to package verify.
package cms

import (
	"bytes"
	"context"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"time"

	"github.com/ecert/ecert/signing"
	"github.com/emmansun/gmsm/smx509"
)

// PKCS#7 / CMS object identifiers.
var (
	OIDData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	OIDSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	OIDSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
)

// Limits on parsed input.
const (
	MaxSize         = 64 << 10 // a SignedData larger than this is refused
	MaxCertificates = 8
	MaxAttributes   = 16
)

// Profile selects the object identifiers written.
type Profile int

const (
	// ProfilePKCS7 writes the PKCS#7 content types (1.2.840.113549.1.7.1/.2)
	// with SM3 (1.2.156.10197.1.401) and SM2-with-SM3 (1.2.156.10197.1.501):
	// what OpenSSL prints by name and most SM2-capable PDF readers expect.
	ProfilePKCS7 Profile = iota
	// ProfileGMT0010 writes the GM/T 0010 content types
	// (1.2.156.10197.6.1.4.2.1/.2) and the bare SM2 signature algorithm
	// 1.2.156.10197.1.301.1, for verifiers that demand them.
	ProfileGMT0010
)

// Options control SignDetached.
type Options struct {
	// SigningTime is written as the signingTime attribute; required.
	SigningTime time.Time
	// Profile selects the object identifiers.
	Profile Profile
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"optional,explicit,tag:0"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type signerInfo struct {
	Version            int
	SID                issuerAndSerial
	DigestAlgorithm    algorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm algorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue // SET OF AlgorithmIdentifier
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      asn1.RawValue // SET OF SignerInfo
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue // SET OF
}

func set(tag int, class int, elems [][]byte, sortThem bool) []byte {
	if sortThem {
		sort.Slice(elems, func(i, j int) bool { return bytes.Compare(elems[i], elems[j]) < 0 })
	}
	b, _ := asn1.Marshal(asn1.RawValue{Class: class, Tag: tag, IsCompound: true, Bytes: bytes.Join(elems, nil)})
	return b
}

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("cms: marshal %T: %v", v, err)) // only fixed, well-formed structures reach here
	}
	return b
}

func attr(oid asn1.ObjectIdentifier, value []byte) []byte {
	return mustMarshal(attribute{Type: oid, Values: asn1.RawValue{FullBytes: set(asn1.TagSet, asn1.ClassUniversal, [][]byte{value}, false)}})
}

// SignedAttributes returns the DER SET OF the three signed attributes as
// they are signed (tag 0x31).
func SignedAttributes(digest []byte, t time.Time, p Profile) ([]byte, error) {
	if len(digest) != 32 {
		return nil, fmt.Errorf("cms: SM3 digest must be 32 bytes, got %d", len(digest))
	}
	dataOID := OIDData
	if p == ProfileGMT0010 {
		dataOID = signing.OIDGMData
	}
	st, err := asn1.MarshalWithParams(t.UTC(), "utc")
	if err != nil {
		return nil, fmt.Errorf("cms: signing time %v: %w", t, err)
	}
	attrs := [][]byte{
		attr(OIDContentType, mustMarshal(dataOID)),
		attr(OIDMessageDigest, mustMarshal(digest)),
		attr(OIDSigningTime, st),
	}
	return set(asn1.TagSet, asn1.ClassUniversal, attrs, true), nil
}

// SignDetached returns a DER ContentInfo(SignedData) without encapsulated
// content whose messageDigest is digest (SM3 of the detached content). The
// certificates field carries signer.Chain().
func SignDetached(ctx context.Context, signer signing.Signer, digest []byte, opts Options) ([]byte, error) {
	chain, attrsSet, err := prepare(signer, digest, opts)
	if err != nil {
		return nil, err
	}
	sig, err := signer.Sign(ctx, attrsSet)
	if err != nil {
		return nil, fmt.Errorf("cms: sign attributes: %w", err)
	}
	return assemble(chain, attrsSet, sig, opts.Profile), nil
}

// MaxSignatureSize is the longest DER SM2 signature: SEQUENCE of two
// INTEGERs of at most 33 bytes each.
const MaxSignatureSize = 72

// SignedSize is the most bytes SignDetached can return for signer and opts:
// everything but the signature value has a fixed length for a given chain,
// profile and signing time, and the signature is at most MaxSignatureSize.
// It uses no private key. A zero opts.SigningTime measures with a fixed one
// (every signing time until 2049 has the same length).
func SignedSize(signer signing.Signer, opts Options) (int, error) {
	if opts.SigningTime.IsZero() {
		opts.SigningTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	chain, attrsSet, err := prepare(signer, make([]byte, 32), opts)
	if err != nil {
		return 0, err
	}
	return len(assemble(chain, attrsSet, make([]byte, MaxSignatureSize), opts.Profile)), nil
}

// prepare checks the inputs and returns the chain and the signed attributes.
func prepare(signer signing.Signer, digest []byte, opts Options) ([]*smx509.Certificate, []byte, error) {
	chain := signer.Chain()
	if len(chain) == 0 {
		return nil, nil, errors.New("cms: signer has no certificate")
	}
	if opts.SigningTime.IsZero() {
		return nil, nil, errors.New("cms: signing time is required")
	}
	attrsSet, err := SignedAttributes(digest, opts.SigningTime, opts.Profile)
	if err != nil {
		return nil, nil, err
	}
	return chain, attrsSet, nil
}

// assemble builds the ContentInfo around the signed attributes and signature.
func assemble(chain []*smx509.Certificate, attrsSet, sig []byte, p Profile) []byte {
	sigAlg, dataOID, sdOID := signing.OIDSM2WithSM3, OIDData, OIDSignedData
	if p == ProfileGMT0010 {
		sigAlg, dataOID, sdOID = signing.OIDSM2Sign, signing.OIDGMData, signing.OIDGMSignedData
	}
	cert := chain[0]
	attrsImplicit := append([]byte{0xA0}, attrsSet[1:]...)
	si := mustMarshal(signerInfo{
		Version:            1,
		SID:                issuerAndSerial{Issuer: asn1.RawValue{FullBytes: cert.RawIssuer}, Serial: cert.SerialNumber},
		DigestAlgorithm:    algorithmIdentifier{Algorithm: signing.OIDSM3},
		SignedAttrs:        asn1.RawValue{FullBytes: attrsImplicit},
		SignatureAlgorithm: algorithmIdentifier{Algorithm: sigAlg},
		Signature:          sig,
	})
	var certs [][]byte
	for _, c := range chain {
		certs = append(certs, c.Raw)
	}
	sd := mustMarshal(signedData{
		Version:          1,
		DigestAlgorithms: asn1.RawValue{FullBytes: set(asn1.TagSet, asn1.ClassUniversal, [][]byte{mustMarshal(algorithmIdentifier{Algorithm: signing.OIDSM3})}, false)},
		EncapContentInfo: encapContentInfo{EContentType: dataOID},
		Certificates:     asn1.RawValue{FullBytes: set(0, asn1.ClassContextSpecific, certs, false)},
		SignerInfos:      asn1.RawValue{FullBytes: set(asn1.TagSet, asn1.ClassUniversal, [][]byte{si}, false)},
	})
	return mustMarshal(contentInfo{ContentType: sdOID, Content: asn1.RawValue{FullBytes: explicit0(sd)}})
}

func explicit0(inner []byte) []byte {
	return mustMarshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner})
}
