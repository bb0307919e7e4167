package cose

import (
	"context"
	"errors"
	"testing"
)

func TestSign1TypedRoundTripAndRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const typ = "application/statuslist+cwt"
	msg, err := Sign1Typed(ctx, f.ca.Signer, f.kid, typ, []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	payload, kid, err := Verify1Typed(msg, typ, f.keys)
	if err != nil || string(payload) != "payload" || string(kid) != string(f.kid) {
		t.Fatalf("Verify1Typed: %q %x %v", payload, kid, err)
	}
	untyped, err := Sign1(ctx, f.ca.Signer, f.kid, []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	tampered := append([]byte(nil), msg...)
	tampered[len(tampered)-1] ^= 1
	cases := []struct {
		name string
		msg  []byte
		typ  string
		want error
	}{
		{"another typ", msg, "application/cwt", ErrMalformed},
		{"no typ", untyped, typ, ErrMalformed},
		{"bad signature", tampered, typ, ErrSignature},
	}
	for _, tc := range cases {
		if _, _, err := Verify1Typed(tc.msg, tc.typ, f.keys); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, _, err := Verify1(msg, f.keys); !errors.Is(err, ErrMalformed) {
		t.Errorf("Verify1 of a typed message: %v, want ErrMalformed", err)
	}
}
