package claim

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/claim/internal/base45"
	"github.com/ecert/ecert/signing/cose"
)

// TestIndependentDecoder reads a claim with github.com/fxamacker/cbor
// instead of our CBOR and COSE code, field by field, and checks the
// signature over a Sig_structure that fxamacker builds, so that an encoder
// bug of ours cannot hide behind a matching decoder bug.
func TestIndependentDecoder(t *testing.T) {
	f := newFixture(t)
	c := typicalCopy()
	s := f.encode(t, c)
	z, err := base45.Decode(strings.TrimPrefix(s, Prefix))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := inflate(z)
	if err != nil {
		t.Fatal(err)
	}
	dm, err := cbor.DecOptions{DupMapKey: cbor.DupMapKeyEnforcedAPF, IndefLength: cbor.IndefLengthForbidden}.DecMode()
	if err != nil {
		t.Fatal(err)
	}

	// COSE_Sign1: tag 18 over [protected bstr, unprotected map, payload bstr, signature bstr].
	var tag cbor.RawTag
	if err := dm.Unmarshal(msg, &tag); err != nil {
		t.Fatal(err)
	}
	if tag.Number != cose.TagSign1 {
		t.Fatalf("tag %d, want 18", tag.Number)
	}
	var sign1 struct {
		_           struct{} `cbor:",toarray"`
		Protected   []byte
		Unprotected map[int64]cbor.RawMessage
		Payload     []byte
		Signature   []byte
	}
	if err := dm.Unmarshal(tag.Content, &sign1); err != nil {
		t.Fatal(err)
	}
	var items []cbor.RawMessage
	if err := dm.Unmarshal(tag.Content, &items); err != nil || len(items) != 4 {
		t.Fatalf("COSE_Sign1 has %d items (%v), want 4", len(items), err)
	}
	if len(sign1.Unprotected) != 0 || len(sign1.Signature) != 64 {
		t.Fatalf("unprotected %v, signature of %d bytes", sign1.Unprotected, len(sign1.Signature))
	}
	var prot map[int64]any
	if err := dm.Unmarshal(sign1.Protected, &prot); err != nil {
		t.Fatal(err)
	}
	kid := cose.KeyID(f.issuer)
	if len(prot) != 2 || prot[1] != int64(cose.AlgSM2SM3) || !bytes.Equal(asBytes(t, prot[4]), kid) {
		t.Fatalf("protected header %v, want {1: %d, 4: %x}", prot, cose.AlgSM2SM3, kid)
	}

	// Signature over ["Signature1", protected, h'', payload], encoded by fxamacker.
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		t.Fatal(err)
	}
	tbs, err := em.Marshal([]any{"Signature1", sign1.Protected, []byte{}, sign1.Payload})
	if err != nil {
		t.Fatal(err)
	}
	der, err := cose.RawToDER(sign1.Signature)
	if err != nil {
		t.Fatal(err)
	}
	if !signing.VerifySM2(f.ca.Signer.Public(), tbs, der) {
		t.Fatal("signature does not verify over fxamacker's Sig_structure")
	}
	if signing.VerifySM2(f.ca.Signer.Public(), append(tbs, 0), der) {
		t.Fatal("signature verifies over a different message")
	}

	// CWT claims.
	type copyClaim struct {
		ID         string `cbor:"1,keyasint"`
		Purpose    string `cbor:"2,keyasint"`
		ValidFrom  int64  `cbor:"3,keyasint"`
		ValidUntil int64  `cbor:"4,keyasint"`
	}
	type certClaim struct {
		LicenceID   string    `cbor:"1,keyasint"`
		Version     int       `cbor:"2,keyasint"`
		HolderName  string    `cbor:"3,keyasint"`
		MaskedID    string    `cbor:"4,keyasint"`
		RegNo       string    `cbor:"5,keyasint"`
		Specialties [][]any   `cbor:"6,keyasint"`
		IssueDate   int64     `cbor:"7,keyasint"`
		Copy        copyClaim `cbor:"8,keyasint"`
		Status      []any     `cbor:"9,keyasint"`
	}
	var cwt map[int64]cbor.RawMessage
	if err := dm.Unmarshal(sign1.Payload, &cwt); err != nil {
		t.Fatal(err)
	}
	if len(cwt) != 4 {
		t.Fatalf("CWT has %d claims, want iss, iat, exp and %d", len(cwt), KeyCertificate)
	}
	var iss string
	var iat, exp int64
	var cert certClaim
	strict, err := cbor.DecOptions{DupMapKey: cbor.DupMapKeyEnforcedAPF, ExtraReturnErrors: cbor.ExtraDecErrorUnknownField}.DecMode()
	if err != nil {
		t.Fatal(err)
	}
	for key, dst := range map[int64]any{1: &iss, 6: &iat, 4: &exp, KeyCertificate: &cert} {
		if err := strict.Unmarshal(cwt[key], dst); err != nil {
			t.Fatalf("claim %d: %v", key, err)
		}
	}
	day := func(s string) int64 {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d.Unix() / 86400
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"iss", iss, "辽宁省住房和城乡建设厅"},
		{"iat", iat, signedAt.Unix()},
		{"exp (2026-08-28 24:00 +08:00)", exp, time.Date(2026, 8, 28, 16, 0, 0, 0, time.UTC).Unix()},
		{"licence id", cert.LicenceID, licenceID},
		{"version", cert.Version, 2},
		{"holder name", cert.HolderName, "张晓明"},
		{"masked id", cert.MaskedID, "210102********123X"},
		{"registration no", cert.RegNo, "辽221181912345"},
		{"specialties", len(cert.Specialties), 3},
		{"specialty 1", cert.Specialties[1], []any{"市政公用工程", uint64(day("2029-01-15"))}},
		{"issue date", cert.IssueDate, day("2026-03-02")},
		{"copy id", cert.Copy.ID, "JZ2026030200123"},
		{"copy purpose", cert.Copy.Purpose, c.Copy.Purpose},
		{"copy from", cert.Copy.ValidFrom, day("2026-03-02")},
		{"copy until", cert.Copy.ValidUntil, day("2026-08-28")},
		{"status", cert.Status, []any{"2026-01", uint64(48213)}},
	}
	for _, ch := range checks {
		if !equalAny(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
}

func asBytes(t *testing.T, v any) []byte {
	t.Helper()
	b, ok := v.([]byte)
	if !ok {
		t.Fatalf("%T, want a byte string", v)
	}
	return b
}

func equalAny(a, b any) bool {
	ab, err1 := cbor.Marshal(a)
	bb, err2 := cbor.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ab, bb)
}
