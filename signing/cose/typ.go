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
	if typ == "" {
		return nil, nil, fmt.Errorf("cose: empty typ")
	}
	return verify1(msg, typ, key)
}
