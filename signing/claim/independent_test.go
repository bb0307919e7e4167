package claim

import (
	"bytes"
	"compress/zlib"
	"encoding/hex"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/fxamacker/cbor/v2"

	"github.com/ecert/ecert/registration"
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
	// Ids and names that take the text forms of the encodings.
	other := typicalCopy()
	other.LicenceID = "1.2.156.3005.2.11100000000013338W009.11210000MB0123456K.2025000124.002.K"
	other.HolderName = "ZHANG Xiaoming"
	other.Copy.ID = "JZ2026030200123"
	other.Copy.Purpose = "tender"
	other.Status.List = "ln/2026"
	for name, c := range map[string]Claim{"typical usage copy": typicalCopy(), "worst case": worstCase(), "text forms": other} {
		t.Run(name, func(t *testing.T) { checkIndependently(t, f, c) })
	}
}

func checkIndependently(t *testing.T, f fixture, c Claim) {
	s := f.encode(t, c)
	z, err := base45.Decode(strings.TrimPrefix(s, Prefix))
	if err != nil {
		t.Fatal(err)
	}
	msg := z
	if z[0] == 0x78 { // a zlib header (RFC 1950, deflate, 32 KiB window)
		r, err := zlib.NewReader(bytes.NewReader(z))
		if err != nil {
			t.Fatal(err)
		}
		if msg, err = io.ReadAll(r); err != nil {
			t.Fatal(err)
		}
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

	// CWT claims: {6: iat, 4: exp, -65537: certificate}, no iss.
	var cwt map[int64]cbor.RawMessage
	if err := dm.Unmarshal(sign1.Payload, &cwt); err != nil {
		t.Fatal(err)
	}
	if len(cwt) != 3 || cwt[1] != nil {
		t.Fatalf("CWT has claims %v, want iat, exp and %d", mapKeys(cwt), KeyCertificate)
	}
	var iat, exp int64
	var cert map[int64]cbor.RawMessage
	for key, dst := range map[int64]any{6: &iat, 4: &exp, KeyCertificate: &cert} {
		if err := dm.Unmarshal(cwt[key], dst); err != nil {
			t.Fatalf("claim %d: %v", key, err)
		}
	}
	if iat != c.IssuedAt.Unix() || exp != c.Expiry().Unix() {
		t.Errorf("iat %d exp %d, want %d %d", iat, exp, c.IssuedAt.Unix(), c.Expiry().Unix())
	}
	get := func(m map[int64]cbor.RawMessage, k int64) any {
		t.Helper()
		var v any
		if err := dm.Unmarshal(m[k], &v); err != nil {
			t.Fatalf("key %d: %v", k, err)
		}
		return v
	}
	day := func(d registration.Date) uint64 {
		return uint64(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	}
	const lp = "1.2.156.3005.2.11100000000013338W001."
	var licence string
	if strings.HasPrefix(c.LicenceID, lp) {
		licence = lp + unpack(t, get(cert, 10))
		if _, ok := cert[1]; ok {
			t.Error("both keys 1 and 10")
		}
	} else {
		licence = unpack(t, get(cert, 1))
	}
	var specs []Specialty
	sv := get(cert, 6).([]any)
	for i := 0; i+1 < len(sv); i += 2 {
		var name string
		switch v := sv[i].(type) {
		case uint64:
			sp, ok := registration.LookupSpecialty(strconv.FormatUint(v, 10))
			if !ok {
				t.Fatalf("unknown specialty code %d", v)
			}
			name = sp.Name
		default:
			name = fromUTF16(t, v)
		}
		specs = append(specs, Specialty{Name: name, ValidUntil: registration.Date{}})
		if got, want := sv[i+1], day(c.Specialties[i/2].ValidUntil); got != want {
			t.Errorf("specialty %d valid-until %v, want %d", i/2, got, want)
		}
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"licence id", licence, c.LicenceID},
		{"version", get(cert, 2), uint64(c.Version)},
		{"holder name", fromUTF16(t, get(cert, 3)), c.HolderName},
		{"masked id", unpack(t, get(cert, 4)), c.MaskedID},
		{"registration no", get(cert, 5), c.RegistrationNo},
		{"specialties", len(specs), len(c.Specialties)},
		{"issue date", get(cert, 7), day(c.IssueDate)},
		{"status", []any{unpack(t, get(cert, 9).([]any)[0]), get(cert, 9).([]any)[1]}, []any{c.Status.List, c.Status.Index}},
	}
	for i, sp := range specs {
		checks = append(checks, struct {
			name      string
			got, want any
		}{"specialty " + strconv.Itoa(i), sp.Name, c.Specialties[i].Name})
	}
	if code, ok := sv[2].(uint64); c.Specialties[1].Name == "市政公用工程" && (!ok || code != 10401010) {
		t.Errorf("市政公用工程 encoded as %#v, want the code 10401010", sv[2])
	}
	var cp map[int64]cbor.RawMessage
	if err := dm.Unmarshal(cert[8], &cp); err != nil {
		t.Fatal(err)
	}
	id := get(cp, 1)
	if b, ok := id.([]byte); ok {
		if len(b) != 10 {
			t.Fatalf("copy id of %d bytes", len(b))
		}
		id = "C" + hex.EncodeToString(b)
	}
	checks = append(checks, []struct {
		name      string
		got, want any
	}{
		{"copy id", id, c.Copy.ID},
		{"copy purpose", fromUTF16(t, get(cp, 2)), c.Copy.Purpose},
		{"copy from", get(cp, 3), day(c.Copy.ValidFrom)},
		{"copy until", get(cp, 4), day(c.Copy.ValidUntil)},
	}...)
	for _, ch := range checks {
		if !equalAny(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
}

// unpack reads a packed identifier (docs/qr-claim.md): text, or 2 bytes per
// 3 characters of "0-9A-Z.*-", index 39 padding.
func unpack(t *testing.T, v any) string {
	t.Helper()
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.*-"
		var out []byte
		for i := 0; i+1 < len(v); i += 2 {
			n := int(v[i])<<8 | int(v[i+1])
			for _, d := range []int{n / 1600, n / 40 % 40, n % 40} {
				if d < len(alphabet) {
					out = append(out, alphabet[d])
				}
			}
		}
		return string(out)
	}
	t.Fatalf("packed identifier is %T", v)
	return ""
}

// fromUTF16 reads a Chinese text field: text, or UTF-16BE bytes.
func fromUTF16(t *testing.T, v any) string {
	t.Helper()
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		u := make([]uint16, len(v)/2)
		for i := range u {
			u[i] = uint16(v[2*i])<<8 | uint16(v[2*i+1])
		}
		return string(utf16.Decode(u))
	}
	t.Fatalf("text field is %T", v)
	return ""
}

func mapKeys(m map[int64]cbor.RawMessage) []int64 {
	var ks []int64
	for k := range m {
		ks = append(ks, k)
	}
	return ks
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
