package cose

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ecert/ecert/internal/cbor"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/signtest"
)

type fixture struct {
	ca  *signtest.CA
	kid []byte
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	ca := signtest.NewCA(t, time.Now())
	return fixture{ca: ca, kid: KeyID(ca.Signer.Chain()[0])}
}

// keys resolves only the fixture's kid.
func (f fixture) keys(kid []byte) (*ecdsa.PublicKey, error) {
	if !bytes.Equal(kid, f.kid) {
		return nil, fmt.Errorf("%w: %x", ErrUnknownKey, kid)
	}
	return f.ca.Signer.Public(), nil
}

func mustMarshal(t testing.TB, v cbor.Value) []byte {
	t.Helper()
	b, err := cbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func header(pairs ...cbor.Pair) cbor.Value { return cbor.Map(pairs...) }

func algPair(a int64) cbor.Pair { return cbor.Pair{Key: cbor.Int(labelAlg), Val: cbor.Int(a)} }

func kidPair(kid []byte) cbor.Pair { return cbor.Pair{Key: cbor.Int(labelKID), Val: cbor.Bytes(kid)} }

func TestSign1RoundTrip(t *testing.T) {
	f := newFixture(t)
	signers := map[string]signing.Signer{
		"gmsm":  f.ca.Signer,
		"tjfoc": signing.NewTjfocSigner(f.ca.Key, f.ca.Signer.Chain()),
	}
	for name, s := range signers {
		for _, payload := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("证"), 500)} {
			t.Run(fmt.Sprintf("%s/%d", name, len(payload)), func(t *testing.T) {
				msg, err := Sign1(context.Background(), s, f.kid, payload)
				if err != nil {
					t.Fatal(err)
				}
				got, kid, err := Verify1(msg, f.keys)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, payload) || !bytes.Equal(kid, f.kid) {
					t.Fatalf("got payload %q kid %x", got, kid)
				}
			})
		}
	}
}

func TestKeyIDIsSM3Prefix(t *testing.T) {
	f := newFixture(t)
	cert := f.ca.Signer.Chain()[0]
	if want := signing.SM3(cert.Raw)[:8]; !bytes.Equal(f.kid, want) || len(f.kid) != 8 {
		t.Fatalf("KeyID = %x, want %x", f.kid, want)
	}
	if bytes.Equal(KeyID(f.ca.Root), f.kid) {
		t.Fatal("root and issuer have the same kid")
	}
}

// TestVerify1Refuses tampers with a good message in every place and checks
// that each change is refused with the error that names it. Messages whose
// shape is wrong are properly signed, so the refusal is not a side effect
// of a bad signature.
func TestVerify1Refuses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	payload := []byte("registration 辽211181912345")
	good, err := Sign1(ctx, f.ca.Signer, f.kid, payload)
	if err != nil {
		t.Fatal(err)
	}
	// Offsets in good: d2 84 4e <protected: a2 01 3a 0001003f 04 48 <kid 8>> a0 58 ...
	protLen := 1 + 1 + 5 + 1 + 1 + 8
	kidOff := 3 + protLen - 8
	payloadOff := 3 + protLen + 1 + 2
	flip := func(off int) []byte {
		b := bytes.Clone(good)
		b[off] ^= 0x01
		return b
	}
	signed := func(protected []byte, unprotected cbor.Value) []byte {
		m, err := sign1(ctx, f.ca.Signer, protected, unprotected, payload)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	otherKID := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	items := func(v ...cbor.Value) []byte { return mustMarshal(t, cbor.Tag(TagSign1, cbor.Array(v...))) }
	prot := mustMarshal(t, header(algPair(AlgSM2SM3), kidPair(f.kid)))
	sig := good[len(good)-SignatureSize:]

	tests := []struct {
		name string
		msg  []byte
		keys func([]byte) (*ecdsa.PublicKey, error)
		want error
	}{
		{"payload byte flipped", flip(payloadOff), f.keys, ErrSignature},
		{"last payload byte flipped", flip(payloadOff + len(payload) - 1), f.keys, ErrSignature},
		{"signature r flipped", flip(len(good) - SignatureSize), f.keys, ErrSignature},
		{"signature s flipped", flip(len(good) - 1), f.keys, ErrSignature},
		{"kid flipped, unknown", flip(kidOff), f.keys, ErrUnknownKey},
		{"kid flipped, key resolved anyway", flip(kidOff), func([]byte) (*ecdsa.PublicKey, error) { return f.ca.Signer.Public(), nil }, ErrSignature},
		{"alg flipped", flip(3 + 6), f.keys, ErrAlgorithm},
		{"other signer's key", good, func([]byte) (*ecdsa.PublicKey, error) { return &f.ca.RootKey.PublicKey, nil }, ErrSignature},
		{"nil key", good, func([]byte) (*ecdsa.PublicKey, error) { return nil, nil }, ErrUnknownKey},
		{"ES256 alg", signed(mustMarshal(t, header(algPair(-7), kidPair(f.kid))), cbor.Map()), f.keys, ErrAlgorithm},
		{"text alg", signed(mustMarshal(t, header(cbor.Pair{Key: cbor.Int(labelAlg), Val: cbor.Text("SM2")}, kidPair(f.kid))), cbor.Map()), f.keys, ErrAlgorithm},
		{"no alg", signed(mustMarshal(t, header(kidPair(f.kid))), cbor.Map()), f.keys, ErrAlgorithm},
		{"empty protected, alg unprotected", signed(nil, header(algPair(AlgSM2SM3), kidPair(f.kid))), f.keys, ErrAlgorithm},
		{"alg also unprotected", signed(prot, header(algPair(AlgSM2SM3))), f.keys, ErrAlgorithm},
		{"kid unprotected", signed(mustMarshal(t, header(algPair(AlgSM2SM3))), header(kidPair(f.kid))), f.keys, ErrMalformed},
		{"kid also unprotected", signed(prot, header(kidPair(otherKID))), f.keys, ErrMalformed},
		{"extra protected parameter", signed(mustMarshal(t, header(algPair(AlgSM2SM3), kidPair(f.kid), cbor.Pair{Key: cbor.Int(2), Val: cbor.Array(cbor.Int(99))})), cbor.Map()), f.keys, ErrMalformed},
		{"empty kid", signed(mustMarshal(t, header(algPair(AlgSM2SM3), kidPair([]byte{}))), cbor.Map()), f.keys, ErrMalformed},
		{"long kid", signed(mustMarshal(t, header(algPair(AlgSM2SM3), kidPair(make([]byte, MaxKIDLen+1)))), cbor.Map()), f.keys, ErrMalformed},
		{"protected not a map", signed(mustMarshal(t, cbor.Array()), cbor.Map()), f.keys, ErrMalformed},
		{"untagged", good[1:], f.keys, ErrMalformed},
		{"tag 17 (COSE_Mac0)", append([]byte{0xd1}, good[1:]...), f.keys, ErrMalformed},
		{"tag 98 (COSE_Sign)", append([]byte{0xd8, 0x62}, good[1:]...), f.keys, ErrMalformed},
		{"trailing byte", append(bytes.Clone(good), 0), f.keys, ErrMalformed},
		{"truncated", good[:len(good)-1], f.keys, ErrMalformed},
		{"3 items", items(cbor.Bytes(prot), cbor.Map(), cbor.Bytes(payload)), f.keys, ErrMalformed},
		{"detached payload", items(cbor.Bytes(prot), cbor.Map(), cbor.Null(), cbor.Bytes(sig)), f.keys, ErrMalformed},
		{"63-byte signature", items(cbor.Bytes(prot), cbor.Map(), cbor.Bytes(payload), cbor.Bytes(sig[:63])), f.keys, ErrMalformed},
		{"DER signature", items(cbor.Bytes(prot), cbor.Map(), cbor.Bytes(payload), cbor.Bytes(mustDER(t, sig))), f.keys, ErrMalformed},
		{"zero signature", items(cbor.Bytes(prot), cbor.Map(), cbor.Bytes(payload), cbor.Bytes(make([]byte, 64))), f.keys, ErrSignature},
		{"protected as map", items(header(algPair(AlgSM2SM3), kidPair(f.kid)), cbor.Map(), cbor.Bytes(payload), cbor.Bytes(sig)), f.keys, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, err := Verify1(tt.msg, tt.keys)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify1 = %v, want %v", err, tt.want)
			}
			if p != nil {
				t.Fatalf("refused message returned payload %q", p)
			}
		})
	}
	// The unmodified message passes with the same keys: the refusals above
	// come from the tampering.
	if _, _, err := Verify1(good, f.keys); err != nil {
		t.Fatal(err)
	}
}

func mustDER(t testing.TB, raw []byte) []byte {
	t.Helper()
	der, err := RawToDER(raw)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestSignatureConversion(t *testing.T) {
	f := newFixture(t)
	msg := []byte("tbs")
	for range 20 { // r or s with leading zero bytes show up within a few tries
		der, err := f.ca.Signer.Sign(context.Background(), msg)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := DERToRaw(der)
		if err != nil {
			t.Fatal(err)
		}
		back, err := RawToDER(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(back, der) {
			t.Fatalf("DER %x -> raw %x -> DER %x", der, raw, back)
		}
		if !signing.VerifySM2(f.ca.Signer.Public(), msg, back) {
			t.Fatal("converted signature does not verify")
		}
	}
	for _, bad := range [][]byte{nil, {0x30, 0x00}, append(mustDER(t, bytes.Repeat([]byte{1}, 64)), 0)} {
		if _, err := DERToRaw(bad); err == nil {
			t.Errorf("DERToRaw(%x) accepted", bad)
		}
	}
}

func TestSign1RefusesBadKID(t *testing.T) {
	f := newFixture(t)
	for _, kid := range [][]byte{nil, make([]byte, MaxKIDLen+1)} {
		if _, err := Sign1(context.Background(), f.ca.Signer, kid, nil); err == nil {
			t.Errorf("Sign1 with a %d-byte kid succeeded", len(kid))
		}
	}
}

func TestSign1HonoursContext(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Sign1(ctx, f.ca.Signer, f.kid, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sign1 with a cancelled context = %v", err)
	}
}

func FuzzVerify1(f *testing.F) {
	fx := newFixture(f)
	good, err := Sign1(context.Background(), fx.ca.Signer, fx.kid, []byte("payload"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[1:])
	f.Fuzz(func(t *testing.T, msg []byte) {
		payload, _, err := Verify1(msg, fx.keys)
		if err == nil && !bytes.Equal(msg, good) {
			t.Fatalf("accepted a message other than the one signed: %x (payload %q)", msg, payload)
		}
	})
}
