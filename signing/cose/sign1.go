// Package cose makes and checks COSE_Sign1 messages (RFC 9052 §4.2) signed
// with SM2-with-SM3 by a signing.Signer, for claims that must verify offline
// with nothing but the issuer's public key (the signed QR code of a
// certificate, docs/qr-claim.md).
//
// Only one shape is written and accepted: the tagged COSE_Sign1 (tag 18)
// whose protected header is exactly {1: AlgSM2SM3, 4: kid}, with an empty
// unprotected header, an attached payload, empty external AAD and a 64-byte
// r‖s signature. Verify1 refuses everything else; it must never report a
// message as valid whose algorithm was not in the protected header.
package cose

import (
	"context"
	"crypto/ecdsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"github.com/emmansun/gmsm/smx509"

	"github.com/ecert/ecert/internal/cbor"
	"github.com/ecert/ecert/signing"
)

// AlgSM2SM3 is the COSE algorithm identifier ecert uses for SM2 signatures
// with SM3 (GB/T 32918, the default user id "1234567812345678"). IANA has
// registered no COSE identifier for SM2, and the COSE Algorithms registry
// reserves integers less than -65536 for private use (RFC 9053 §10.2 /
// IANA "COSE Algorithms"), so ecert picks one there. It is meaningful only
// between ecert's issuer and verifiers that know this package; should an
// identifier be registered, a new value means a new QR prefix.
const AlgSM2SM3 = -65600

// TagSign1 is the CBOR tag of a COSE_Sign1 message.
const TagSign1 = 18

// Header labels of RFC 9052 §3.1.
const (
	labelAlg = 1
	labelKID = 4
)

// SignatureSize is the length of an SM2 signature in COSE: r and s as
// 32-byte big-endian integers, concatenated (as for ECDSA, RFC 9053 §2.1).
const SignatureSize = 64

// MaxKIDLen bounds the key identifier Sign1 writes and Verify1 accepts.
const MaxKIDLen = 32

// Refusals of Verify1; its errors wrap one of these.
var (
	// ErrMalformed: not a COSE_Sign1 of the accepted shape.
	ErrMalformed = errors.New("cose: malformed COSE_Sign1")
	// ErrAlgorithm: the protected header names no algorithm or another one
	// than AlgSM2SM3, or an algorithm appears in the unprotected header.
	ErrAlgorithm = errors.New("cose: unsupported or unprotected algorithm")
	// ErrUnknownKey: the key function knows no key for the kid. Key
	// functions should wrap it so that callers can tell an unknown issuer
	// from a forged signature.
	ErrUnknownKey = errors.New("cose: unknown key id")
	// ErrSignature: the signature does not verify with the key of the kid.
	ErrSignature = errors.New("cose: signature does not verify")
)

// KeyID returns the key identifier of an issuer certificate: the first 8
// bytes of SM3 over its DER encoding. It mirrors the EU Digital COVID
// Certificate, whose kid is the first 8 bytes of SHA-256 over the signer
// certificate, with SM3 in place of SHA-256.
func KeyID(cert *smx509.Certificate) []byte {
	return signing.SM3(cert.Raw)[:8]
}

// Sign1 returns the tagged COSE_Sign1 of payload, with kid in the protected
// header, signed by s.
func Sign1(ctx context.Context, s signing.Signer, kid, payload []byte) ([]byte, error) {
	if len(kid) == 0 || len(kid) > MaxKIDLen {
		return nil, fmt.Errorf("cose: kid of %d bytes, want 1..%d", len(kid), MaxKIDLen)
	}
	protected, err := cbor.Marshal(cbor.Map(
		cbor.Pair{Key: cbor.Int(labelAlg), Val: cbor.Int(AlgSM2SM3)},
		cbor.Pair{Key: cbor.Int(labelKID), Val: cbor.Bytes(kid)},
	))
	if err != nil {
		return nil, fmt.Errorf("cose: protected header: %w", err)
	}
	return sign1(ctx, s, protected, cbor.Map(), payload)
}

// sign1 signs any protected header; the tests use it to make messages that
// are well signed but of a shape Verify1 must refuse.
func sign1(ctx context.Context, s signing.Signer, protected []byte, unprotected cbor.Value, payload []byte) ([]byte, error) {
	tbs, err := sigStructure(protected, payload)
	if err != nil {
		return nil, err
	}
	der, err := s.Sign(ctx, tbs)
	if err != nil {
		return nil, fmt.Errorf("cose: sign: %w", err)
	}
	sig, err := DERToRaw(der)
	if err != nil {
		return nil, fmt.Errorf("cose: signer output: %w", err)
	}
	msg, err := cbor.Marshal(cbor.Tag(TagSign1, cbor.Array(
		cbor.Bytes(protected), unprotected, cbor.Bytes(payload), cbor.Bytes(sig),
	)))
	if err != nil {
		return nil, fmt.Errorf("cose: encode: %w", err)
	}
	return msg, nil
}

// sigStructure returns the Sig_structure of RFC 9052 §4.4 for COSE_Sign1
// with empty external AAD.
func sigStructure(protected, payload []byte) ([]byte, error) {
	b, err := cbor.Marshal(cbor.Array(
		cbor.Text("Signature1"), cbor.Bytes(protected), cbor.Bytes(nil), cbor.Bytes(payload),
	))
	if err != nil {
		return nil, fmt.Errorf("cose: Sig_structure: %w", err)
	}
	return b, nil
}

// Verify1 checks a tagged COSE_Sign1 made by Sign1 and returns its payload
// and kid. key resolves the kid to the issuer's SM2 public key; its error
// is returned wrapped (wrap ErrUnknownKey in it for an unknown kid).
func Verify1(msg []byte, key func(kid []byte) (*ecdsa.PublicKey, error)) (payload, kid []byte, err error) {
	return verify1(msg, "", key)
}

// verify1 is Verify1 when typ is empty, and Verify1Typed for typ.
func verify1(msg []byte, typ string, key func(kid []byte) (*ecdsa.PublicKey, error)) (payload, kid []byte, err error) {
	v, err := cbor.Unmarshal(msg)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	tag, content, ok := v.TagContent()
	if !ok || tag != TagSign1 {
		return nil, nil, fmt.Errorf("%w: not tagged %d", ErrMalformed, TagSign1)
	}
	items, ok := content.Items()
	if !ok || len(items) != 4 {
		return nil, nil, fmt.Errorf("%w: not an array of 4 items", ErrMalformed)
	}
	protected, ok := items[0].ByteString()
	if !ok {
		return nil, nil, fmt.Errorf("%w: protected header is not a byte string", ErrMalformed)
	}
	unprotected, ok := items[1].Pairs()
	if !ok {
		return nil, nil, fmt.Errorf("%w: unprotected header is not a map", ErrMalformed)
	}
	if _, ok := items[1].Lookup(cbor.Int(labelAlg)); ok {
		return nil, nil, fmt.Errorf("%w: algorithm in the unprotected header", ErrAlgorithm)
	}
	if len(unprotected) != 0 {
		return nil, nil, fmt.Errorf("%w: unprotected header not empty", ErrMalformed)
	}
	payload, ok = items[2].ByteString()
	if !ok {
		return nil, nil, fmt.Errorf("%w: payload is not a byte string (detached payloads are not accepted)", ErrMalformed)
	}
	sig, ok := items[3].ByteString()
	if !ok || len(sig) != SignatureSize {
		return nil, nil, fmt.Errorf("%w: signature is not a %d-byte string", ErrMalformed, SignatureSize)
	}
	if kid, err = parseProtected(protected, typ); err != nil {
		return nil, nil, err
	}
	pub, err := key(kid)
	if err != nil {
		return nil, kid, fmt.Errorf("cose: key %x: %w", kid, err)
	}
	if pub == nil {
		return nil, kid, fmt.Errorf("cose: key %x: %w", kid, ErrUnknownKey)
	}
	tbs, err := sigStructure(protected, payload)
	if err != nil {
		return nil, kid, err
	}
	der, err := RawToDER(sig)
	if err != nil || !signing.VerifySM2(pub, tbs, der) {
		return nil, kid, fmt.Errorf("%w (kid %x)", ErrSignature, kid)
	}
	return payload, kid, nil
}

// parseProtected checks that the protected header is exactly
// {1: AlgSM2SM3, 4: kid}, or {1: AlgSM2SM3, 4: kid, 16: typ} when typ is
// given, and returns the kid.
func parseProtected(protected []byte, typ string) ([]byte, error) {
	if len(protected) == 0 {
		return nil, fmt.Errorf("%w: empty protected header", ErrAlgorithm)
	}
	h, err := cbor.Unmarshal(protected)
	if err != nil {
		return nil, fmt.Errorf("%w: protected header: %w", ErrMalformed, err)
	}
	pairs, ok := h.Pairs()
	if !ok {
		return nil, fmt.Errorf("%w: protected header is not a map", ErrMalformed)
	}
	alg, ok := h.Lookup(cbor.Int(labelAlg))
	if !ok {
		return nil, fmt.Errorf("%w: no algorithm in the protected header", ErrAlgorithm)
	}
	if a, ok := alg.Int64(); !ok || a != AlgSM2SM3 {
		return nil, fmt.Errorf("%w: algorithm %v, want %d (SM2 with SM3)", ErrAlgorithm, describe(alg), AlgSM2SM3)
	}
	kv, ok := h.Lookup(cbor.Int(labelKID))
	if !ok {
		return nil, fmt.Errorf("%w: no kid in the protected header", ErrMalformed)
	}
	kid, ok := kv.ByteString()
	if !ok || len(kid) == 0 || len(kid) > MaxKIDLen {
		return nil, fmt.Errorf("%w: kid is not a byte string of 1..%d bytes", ErrMalformed, MaxKIDLen)
	}
	want, names := 2, "alg and kid"
	if typ != "" {
		tv, ok := h.Lookup(cbor.Int(labelTyp))
		if got, isText := tv.TextString(); !ok || !isText || got != typ {
			return nil, fmt.Errorf("%w: typ is not %q", ErrMalformed, typ)
		}
		want, names = 3, "alg, kid and typ"
	}
	if len(pairs) != want {
		return nil, fmt.Errorf("%w: protected header has parameters other than %s", ErrMalformed, names)
	}
	return kid, nil
}

func describe(v cbor.Value) string {
	if i, ok := v.Int64(); ok {
		return fmt.Sprint(i)
	}
	if s, ok := v.TextString(); ok {
		return fmt.Sprintf("%q", s)
	}
	return v.Kind().String()
}

// DERToRaw converts a DER SEQUENCE{r, s} SM2 signature, as signing.Signer
// returns it, to the 64-byte r‖s form of COSE.
func DERToRaw(der []byte) ([]byte, error) {
	var rs struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &rs)
	if err != nil {
		return nil, fmt.Errorf("DER signature: %w", err)
	}
	if len(rest) != 0 {
		return nil, errors.New("DER signature: trailing bytes")
	}
	if rs.R.Sign() <= 0 || rs.S.Sign() <= 0 || rs.R.BitLen() > 256 || rs.S.BitLen() > 256 {
		return nil, errors.New("DER signature: r or s out of range")
	}
	out := make([]byte, SignatureSize)
	rs.R.FillBytes(out[:32])
	rs.S.FillBytes(out[32:])
	return out, nil
}

// RawToDER converts a 64-byte r‖s signature to DER SEQUENCE{r, s}, the form
// signing.VerifySM2 and OpenSSL take.
func RawToDER(raw []byte) ([]byte, error) {
	if len(raw) != SignatureSize {
		return nil, fmt.Errorf("raw signature of %d bytes, want %d", len(raw), SignatureSize)
	}
	r, s := new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])
	if r.Sign() == 0 || s.Sign() == 0 {
		return nil, errors.New("raw signature: r or s is zero")
	}
	return asn1.Marshal(struct{ R, S *big.Int }{r, s})
}
