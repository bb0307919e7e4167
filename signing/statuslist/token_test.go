package statuslist

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
	"github.com/ecert/ecert/signing/cose"
	"github.com/ecert/ecert/signing/signtest"
)

type issuer struct {
	signer signing.Signer
	kid    []byte
}

func newIssuer(t testing.TB) issuer {
	t.Helper()
	ca := signtest.NewCA(t, time.Now())
	return issuer{signer: ca.Signer, kid: cose.KeyID(ca.Signer.Chain()[0])}
}

func (is issuer) keys(kid []byte) (*ecdsa.PublicKey, error) {
	if !bytes.Equal(kid, is.kid) {
		return nil, fmt.Errorf("%w: %x", cose.ErrUnknownKey, kid)
	}
	return is.signer.Public(), nil
}

var iat = time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)

func signedToken(t testing.TB, is issuer, l *List) []byte {
	t.Helper()
	b, err := Token{Subject: "https://ecert.example/api/v1/status/1", IssuedAt: iat, ExpiresAt: iat.Add(MaxAge),
		TTL: DefaultTTL, List: l}.Sign(context.Background(), is.signer, is.kid)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTokenRoundTripAndStaleness(t *testing.T) {
	is := newIssuer(t)
	l := randomList(t, MinSize, 0.01, 2)
	if err := l.Set(7, Invalid); err != nil {
		t.Fatal(err)
	}
	if err := l.Set(8, Suspended); err != nil {
		t.Fatal(err)
	}
	if err := l.Set(9, Valid); err != nil {
		t.Fatal(err)
	}
	tok, err := Parse(signedToken(t, is, l), is.keys)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Subject != "https://ecert.example/api/v1/status/1" || !tok.IssuedAt.Equal(iat) || tok.TTL != DefaultTTL || tok.List.Len() != MinSize {
		t.Fatalf("claims: %+v", tok)
	}
	cases := []struct {
		name string
		idx  int
		now  time.Time
		want Status
		err  error
	}{
		{"invalid", 7, iat.Add(time.Hour), Invalid, nil},
		{"suspended", 8, iat.Add(time.Hour), Suspended, nil},
		{"valid", 9, iat.Add(time.Hour), Valid, nil},
		{"valid at exactly 24 h", 9, iat.Add(MaxAge), Valid, nil},
		{"stale a second after 24 h", 9, iat.Add(MaxAge + time.Second), 0, ErrStale},
		{"within the clock skew", 9, iat.Add(-ClockSkew), Valid, nil},
		{"issued in the future", 9, iat.Add(-ClockSkew - time.Second), 0, ErrStale},
		{"out of range", MinSize, iat, 0, ErrIndex},
	}
	for _, tc := range cases {
		got, err := tok.Status(tc.idx, tc.now)
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("%s: %v %v, want %v %v", tc.name, got, err, tc.want, tc.err)
		}
	}
	// exp before iat+24h is stale from exp on.
	early, err := Token{Subject: "s", IssuedAt: iat, ExpiresAt: iat.Add(time.Hour), TTL: time.Hour, List: l}.Sign(context.Background(), is.signer, is.kid)
	if err != nil {
		t.Fatal(err)
	}
	et, err := Parse(early, is.keys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := et.Status(9, iat.Add(time.Hour+time.Second)); !errors.Is(err, ErrStale) {
		t.Errorf("after exp: %v, want ErrStale", err)
	}
}

func TestParseRefuses(t *testing.T) {
	is, other := newIssuer(t), newIssuer(t)
	l := randomList(t, MinSize, 0, 3)
	good := signedToken(t, is, l)
	tampered := append([]byte(nil), good...)
	tampered[len(tampered)-3] ^= 1
	claims := func(pairs ...cbor.Pair) []byte {
		t.Helper()
		payload, err := cbor.Marshal(cbor.Map(pairs...))
		if err != nil {
			t.Fatal(err)
		}
		msg, err := cose.Sign1Typed(context.Background(), is.signer, is.kid, MediaType, payload)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	lst, _ := l.Compress()
	sl := func(bits int64, lst []byte) cbor.Pair {
		return cbor.Pair{Key: cbor.Int(claimStatusList), Val: cbor.Map(
			cbor.Pair{Key: cbor.Text("bits"), Val: cbor.Int(bits)}, cbor.Pair{Key: cbor.Text("lst"), Val: cbor.Bytes(lst)})}
	}
	times := []cbor.Pair{
		{Key: cbor.Int(claimSub), Val: cbor.Text("s")}, {Key: cbor.Int(claimIat), Val: cbor.Int(iat.Unix())},
		{Key: cbor.Int(claimExp), Val: cbor.Int(iat.Unix() + 3600)}, {Key: cbor.Int(claimTTL), Val: cbor.Int(60)},
	}
	untyped, err := cose.Sign1(context.Background(), is.signer, is.kid, []byte{0xa0})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		data []byte
		keys func([]byte) (*ecdsa.PublicKey, error)
		want error
	}{
		"another issuer":     {good, other.keys, cose.ErrUnknownKey},
		"tampered":           {tampered, is.keys, cose.ErrSignature},
		"no typ":             {untyped, is.keys, cose.ErrMalformed},
		"too large":          {make([]byte, MaxTokenSize+1), is.keys, ErrMalformed},
		"bits 1":             {claims(append(times, sl(1, lst))...), is.keys, ErrMalformed},
		"no status list":     {claims(times...), is.keys, ErrMalformed},
		"zip bomb":           {claims(append(times, sl(2, zlibOf(t, make([]byte, MaxSize/4+1))))...), is.keys, ErrCorrupt},
		"exp before iat":     {claims(times[0], times[1], cbor.Pair{Key: cbor.Int(claimExp), Val: cbor.Int(iat.Unix() - 1)}, times[3], sl(2, lst)), is.keys, ErrMalformed},
		"no sub":             {claims(append(times[1:], sl(2, lst))...), is.keys, ErrMalformed},
		"claims not a map":   {claimsRaw(t, is, cbor.Array()), is.keys, ErrMalformed},
		"lst not bytes":      {claims(append(times, cbor.Pair{Key: cbor.Int(claimStatusList), Val: cbor.Map(cbor.Pair{Key: cbor.Text("bits"), Val: cbor.Int(2)}, cbor.Pair{Key: cbor.Text("lst"), Val: cbor.Text("x")})})...), is.keys, ErrMalformed},
		"ttl beyond 24 h":    {claims(times[0], times[1], times[2], cbor.Pair{Key: cbor.Int(claimTTL), Val: cbor.Int(int64(MaxAge/time.Second) + 1)}, sl(2, lst)), is.keys, ErrMalformed},
		"not cbor":           {[]byte("hello"), is.keys, cose.ErrMalformed},
		"empty":              {nil, is.keys, cose.ErrMalformed},
		"ttl of zero":        {claims(times[0], times[1], times[2], cbor.Pair{Key: cbor.Int(claimTTL), Val: cbor.Int(0)}, sl(2, lst)), is.keys, ErrMalformed},
		"negative iat":       {claims(times[0], cbor.Pair{Key: cbor.Int(claimIat), Val: cbor.Int(-5)}, times[2], times[3], sl(2, lst)), is.keys, ErrMalformed},
		"lst of another bit": {claims(append(times, sl(2, []byte{1, 2, 3}))...), is.keys, ErrCorrupt},
	}
	for name, tc := range cases {
		if tok, err := Parse(tc.data, tc.keys); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v (token %v), want %v", name, err, tok != nil, tc.want)
		}
	}
}

func claimsRaw(t *testing.T, is issuer, v cbor.Value) []byte {
	t.Helper()
	payload, err := cbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := cose.Sign1Typed(context.Background(), is.signer, is.kid, MediaType, payload)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}
