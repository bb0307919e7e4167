package claim

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/claim/internal/base45"
	"github.com/ecert/ecert/signing/cose"
)

// Refusals of Decode. Every error wraps exactly one of them, so that a
// verifier can tell "not ours or damaged" from "forged" from "expired".
var (
	// ErrFormat: not an ecert claim, or damaged: wrong prefix, bad Base45,
	// bad or oversized zlib data, or CBOR/COSE/CWT of the wrong shape.
	ErrFormat = errors.New("claim: not a well-formed ecert QR claim")
	// ErrUnknownIssuer: no certificate in the KeySet has the claim's kid.
	ErrUnknownIssuer = errors.New("claim: unknown issuer key")
	// ErrInvalidSignature: the signature or its algorithm does not check
	// out with the issuer's key: the claim was altered or forged.
	ErrInvalidSignature = errors.New("claim: invalid signature")
	// ErrIssuerValidity: the claim was signed (iat) outside the validity of
	// the issuer certificate that verifies it.
	ErrIssuerValidity = errors.New("claim: signed outside the issuer certificate's validity")
	// ErrNotYetValid: iat lies more than ClockSkew after now.
	ErrNotYetValid = errors.New("claim: issued in the future")
	// ErrExpired: the claim is genuine but its exp has passed. Decode
	// returns the claim and result along with it.
	ErrExpired = errors.New("claim: expired")
)

// KeySet holds the issuing-authority certificates a verifier trusts,
// indexed by cose.KeyID. Several certificates may share a kid (it is only 8
// bytes); Decode tries each.
type KeySet struct {
	byKID map[string][]*smx509.Certificate
}

// KeySetFromCertificates returns a KeySet of certs, which should be every
// issuer certificate, current and retired, whose claims are to verify.
func KeySetFromCertificates(certs ...*smx509.Certificate) *KeySet {
	ks := &KeySet{byKID: map[string][]*smx509.Certificate{}}
	for _, c := range certs {
		k := string(cose.KeyID(c))
		ks.byKID[k] = append(ks.byKID[k], c)
	}
	return ks
}

// Certificates returns the certificates whose kid is kid.
func (ks *KeySet) Certificates(kid []byte) []*smx509.Certificate {
	if ks == nil {
		return nil
	}
	return ks.byKID[string(kid)]
}

// Result is what Decode learnt besides the claim.
type Result struct {
	KeyID   []byte
	Issuer  *smx509.Certificate // the certificate whose key verified the claim
	Expires time.Time           // exp
	Expired bool
}

// Encode signs c with s, whose certificate is issuerCert, and returns the
// QR text: Prefix followed by Base45 of the COSE_Sign1, zlib-compressed
// when that makes it shorter.
func Encode(ctx context.Context, s signing.Signer, issuerCert *smx509.Certificate, c Claim) (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	pub, ok := issuerCert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(s.Public()) {
		return "", errors.New("claim: issuer certificate does not hold the signer's key")
	}
	cwt, err := marshalCWT(&c)
	if err != nil {
		return "", fmt.Errorf("claim: encode CWT: %w", err)
	}
	msg, err := cose.Sign1(ctx, s, cose.KeyID(issuerCert), cwt)
	if err != nil {
		return "", fmt.Errorf("claim %s: %w", c.LicenceID, err)
	}
	var z bytes.Buffer
	w, err := zlib.NewWriterLevel(&z, zlib.BestCompression)
	if err != nil {
		return "", err
	}
	w.Write(msg) // writes to a bytes.Buffer do not fail
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("claim: compress: %w", err)
	}
	body := z.Bytes()
	if len(msg) <= len(body) {
		// Signature, kid and packed fields leave zlib little to find: a
		// claim it does not shorten goes uncompressed, as the EU DCC allows.
		body = msg
	}
	if len(body) > MaxInflated {
		return "", fmt.Errorf("claim: %d bytes, more than a QR code holds", len(body))
	}
	return Prefix + base45.Encode(body), nil
}

// coseSign1Head is the first byte of a tagged COSE_Sign1 (tag 18, major
// type 6). A zlib stream never starts with it (RFC 1950: its low nibble
// would be compression method 2), so it tells an uncompressed claim from a
// compressed one.
const coseSign1Head = 0xd2

// Decode verifies the QR text s with the certificates of keys and checks it
// against now. On success it returns the claim and result with a nil error.
// An expired claim whose signature is good comes back with its claim and
// result and an error wrapping ErrExpired; every other error comes with
// nil claim and result.
func Decode(s string, keys *KeySet, now time.Time) (*Claim, *Result, error) {
	if len(s) > MaxEncodedLen+len(Prefix) {
		return nil, nil, fmt.Errorf("%w: %d characters, at most %d", ErrFormat, len(s), MaxEncodedLen+len(Prefix))
	}
	body, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return nil, nil, fmt.Errorf("%w: no %q prefix", ErrFormat, Prefix)
	}
	z, err := base45.Decode(body)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	msg, err := coseMessage(z)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	payload, res, err := verify(msg, keys)
	if err != nil {
		return nil, nil, err
	}
	c, exp, err := unmarshalCWT(payload)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	res.Expires = exp
	if c.IssuedAt.Before(res.Issuer.NotBefore) || c.IssuedAt.After(res.Issuer.NotAfter) {
		return nil, nil, fmt.Errorf("%w: iat %s, certificate valid %s to %s", ErrIssuerValidity,
			c.IssuedAt.UTC().Format(time.RFC3339), res.Issuer.NotBefore.UTC().Format(time.RFC3339), res.Issuer.NotAfter.UTC().Format(time.RFC3339))
	}
	if c.IssuedAt.After(now.Add(ClockSkew)) {
		return nil, nil, fmt.Errorf("%w: iat %s is after %s", ErrNotYetValid, c.IssuedAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if !now.Before(exp) {
		res.Expired = true
		return c, res, fmt.Errorf("%w at %s (licence %s)", ErrExpired, exp.In(registration.ChinaTZ).Format(time.RFC3339), c.LicenceID)
	}
	return c, res, nil
}

// coseMessage returns the COSE_Sign1 in z, inflating it unless it is
// uncompressed.
func coseMessage(z []byte) ([]byte, error) {
	if len(z) > 0 && z[0] == coseSign1Head {
		return z, nil
	}
	return inflate(z)
}

// inflate decompresses a zlib stream of at most MaxInflated bytes,
// checking its checksum and refusing data after it.
func inflate(z []byte) ([]byte, error) {
	br := bytes.NewReader(z)
	r, err := zlib.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("zlib: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(r, MaxInflated+1))
	if err != nil {
		return nil, fmt.Errorf("zlib: %w", err)
	}
	if len(out) > MaxInflated {
		return nil, fmt.Errorf("zlib: inflates to more than %d bytes", MaxInflated)
	}
	if br.Len() != 0 {
		return nil, fmt.Errorf("zlib: %d bytes after the stream", br.Len())
	}
	return out, nil
}

// verify checks the COSE_Sign1 with each certificate of its kid in turn
// (8-byte kids may collide) and reports the first that verifies it.
func verify(msg []byte, keys *KeySet) ([]byte, *Result, error) {
	var sigErr error
	for i := 0; ; i++ {
		var cert *smx509.Certificate
		payload, kid, err := cose.Verify1(msg, func(kid []byte) (*ecdsa.PublicKey, error) {
			certs := keys.Certificates(kid)
			if i >= len(certs) {
				return nil, cose.ErrUnknownKey
			}
			cert = certs[i]
			pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
			if !ok {
				return nil, fmt.Errorf("%w: certificate key is %T", cose.ErrSignature, cert.PublicKey)
			}
			return pub, nil
		})
		switch {
		case err == nil:
			return payload, &Result{KeyID: kid, Issuer: cert}, nil
		case errors.Is(err, cose.ErrSignature):
			sigErr = fmt.Errorf("%w: %w", ErrInvalidSignature, err)
		case errors.Is(err, cose.ErrUnknownKey):
			if sigErr != nil { // every certificate of this kid was tried
				return nil, nil, sigErr
			}
			return nil, nil, fmt.Errorf("%w: kid %x", ErrUnknownIssuer, kid)
		case errors.Is(err, cose.ErrAlgorithm):
			return nil, nil, fmt.Errorf("%w: %w", ErrInvalidSignature, err)
		default:
			return nil, nil, fmt.Errorf("%w: %w", ErrFormat, err)
		}
	}
}
