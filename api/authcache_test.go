package api

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// A verified token is remembered only while it is valid: after its expiry
// the remembered claims are not used, and another token (a changed
// signature) is verified on its own.
func TestVerifiedTokensExpireAndDoNotVouchForOthers(t *testing.T) {
	priv, pub, err := GenerateDevPortalKey()
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParsePortalPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	tv, err := newTokenVerifier(TokenConfig{PublicKeysPEM: pub, Issuer: "p", Audience: "a", Leeway: time.Second}, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	tok, err := MintDevToken(key, DevToken{Holder: "21010219850716093X", Issuer: "p", Audience: "a", TTL: time.Minute, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second use comes from the table
		if cl, err := tv.verify(tok); err != nil || cl.Subject != "21010219850716093X" {
			t.Fatalf("use %d: %+v, %v", i, cl, err)
		}
	}
	forged := tok[:strings.LastIndexByte(tok, '.')+1] + strings.Repeat("A", 86)
	if _, err := tv.verify(forged); !errors.Is(err, errTokenInvalid) {
		t.Fatalf("forged signature on remembered claims: %v", err)
	}
	now = now.Add(2 * time.Minute)
	if _, err := tv.verify(tok); !errors.Is(err, errTokenInvalid) {
		t.Fatalf("expired token accepted from the table: %v", err)
	}
}
