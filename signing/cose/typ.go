package cose

// Typed messages: the content type parameter "typ" (RFC 9596, label 16) in
// the protected header, which the IETF Token Status List requires of a
// status list token ("application/statuslist+cwt"). Added for the status
// list (signing/statuslist); Sign1 and Verify1 are unchanged and still
// refuse a typ.

import (
	"context"
	"crypto/ecdsa"
	"fmt"

	"github.com/ecert/ecert/internal/cbor"
	"github.com/ecert/ecert/signing"
)

// labelTyp is the COSE header parameter "typ" of RFC 9596.
const labelTyp = 16

// Sign1Typed is Sign1 with typ in the protected header, which is then
// exactly {1: AlgSM2SM3, 4: kid, 16: typ}.
func Sign1Typed(ctx context.Context, s signing.Signer, kid []byte, typ string, payload []byte) ([]byte, error) {
	if len(kid) == 0 || len(kid) > MaxKIDLen {
		return nil, fmt.Errorf("cose: kid of %d bytes, want 1..%d", len(kid), MaxKIDLen)
	}
	if typ == "" {
		return nil, fmt.Errorf("cose: empty typ")
	}
	protected, err := cbor.Marshal(cbor.Map(
		cbor.Pair{Key: cbor.Int(labelAlg), Val: cbor.Int(AlgSM2SM3)},
		cbor.Pair{Key: cbor.Int(labelKID), Val: cbor.Bytes(kid)},
		cbor.Pair{Key: cbor.Int(labelTyp), Val: cbor.Text(typ)},
	))
	if err != nil {
		return nil, fmt.Errorf("cose: protected header: %w", err)
	}
	return sign1(ctx, s, protected, cbor.Map(), payload)
}

// Verify1Typed is Verify1 for a message made by Sign1Typed: its protected
// header must be exactly {1: AlgSM2SM3, 4: kid, 16: typ}, with typ the one
// given; anything Verify1 refuses it refuses too.
func Verify1Typed(msg []byte, typ string, key func(kid []byte) (*ecdsa.PublicKey, error)) (payload, kid []byte, err error) {
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
	h, err := cbor.Unmarshal(protected)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: protected header: %w", ErrMalformed, err)
	}
	pairs, ok := h.Pairs()
	if !ok {
		return nil, nil, fmt.Errorf("%w: protected header is not a map", ErrMalformed)
	}
	tv, ok := h.Lookup(cbor.Int(labelTyp))
	if got, isText := tv.TextString(); !ok || !isText || got != typ {
		return nil, nil, fmt.Errorf("%w: typ is not %q", ErrMalformed, typ)
	}
	if len(pairs) != 3 {
		return nil, nil, fmt.Errorf("%w: protected header has parameters other than alg, kid and typ", ErrMalformed)
	}
	// parseProtected checks alg and kid on the header without typ; the
	// signature below covers the original protected bytes.
	without := make([]cbor.Pair, 0, 2)
	for _, p := range pairs {
		if k, _ := p.Key.Int64(); k != labelTyp {
			without = append(without, p)
		}
	}
	hb, err := cbor.Marshal(cbor.Map(without...))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: protected header: %w", ErrMalformed, err)
	}
	kid, err = parseProtected(hb)
	if err != nil {
		return nil, nil, err
	}
	unprotected, ok := items[1].Pairs()
	if !ok || len(unprotected) != 0 {
		return nil, nil, fmt.Errorf("%w: unprotected header is not an empty map", ErrMalformed)
	}
	payload, ok = items[2].ByteString()
	if !ok {
		return nil, nil, fmt.Errorf("%w: payload is not a byte string (detached payloads are not accepted)", ErrMalformed)
	}
	sig, ok := items[3].ByteString()
	if !ok || len(sig) != SignatureSize {
		return nil, nil, fmt.Errorf("%w: signature is not a %d-byte string", ErrMalformed, SignatureSize)
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
