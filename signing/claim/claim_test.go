package claim

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emmansun/gmsm/smx509"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/ecert/ecert/internal/cbor"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing/claim/internal/base45"
	"github.com/ecert/ecert/signing/cose"
	"github.com/ecert/ecert/signing/signtest"
)

// signedAt is when the test claims are signed; the test CA is made valid
// around it.
var signedAt = time.Date(2026, 3, 2, 9, 30, 0, 0, registration.ChinaTZ)

type fixture struct {
	ca     *signtest.CA
	issuer *smx509.Certificate
	keys   *KeySet
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	ca := signtest.NewCA(t, signedAt)
	issuer := ca.Signer.Chain()[0]
	return fixture{ca: ca, issuer: issuer, keys: KeySetFromCertificates(issuer)}
}

func (f fixture) encode(t testing.TB, c Claim) string {
	t.Helper()
	s, err := Encode(context.Background(), f.ca.Signer, f.issuer, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const licenceID = "1.2.156.3005.2.11100000000013338W001.11210000MB0123456K.2025000124.002.K"

// typicalCertificate is a certificate with a Chinese name and three
// specialties.
func typicalCertificate() Claim {
	return Claim{
		IssuedAt:       signedAt,
		LicenceID:      licenceID,
		Version:        2,
		HolderName:     "张晓明",
		MaskedID:       registration.MaskID("21010219850101123X"),
		RegistrationNo: "辽221181912345",
		Specialties: []Specialty{
			{"建筑工程", registration.MustDate("2028-06-30")},
			{"市政公用工程", registration.MustDate("2029-01-15")},
			{"机电工程", registration.MustDate("2027-12-31")},
		},
		IssueDate: registration.MustDate("2026-03-02"),
		Status:    &StatusRef{List: "2026-01", Index: 48213},
	}
}

// typicalCopy is typicalCertificate's usage copy with a 20-character purpose.
func typicalCopy() Claim {
	c := typicalCertificate()
	c.Copy = &UsageCopy{
		ID:         "C3f9a07b2c41d8e6590ab",
		Purpose:    "仅用于沈阳市浑南区某住宅小区项目投标使用",
		ValidFrom:  registration.MustDate("2026-03-02"),
		ValidUntil: registration.MustDate("2026-08-28"),
	}
	return c
}

// worstCase has a 32-character name (registration.MaxPersonNameRunes), 5
// specialties of which one is not in registration.Specialties, a
// 20-character purpose and a status reference.
func worstCase() Claim {
	c := typicalCopy()
	c.HolderName = "阿卜杜克热木·买买提明·艾则孜·吐尔逊托合提·热依拉·努尔阿米娜" // 32 characters, no repeated run
	c.Specialties = []Specialty{
		{"建筑工程", registration.MustDate("2028-06-30")},
		{"市政公用工程", registration.MustDate("2029-01-15")},
		{"机电工程", registration.MustDate("2027-12-31")},
		{"公路工程", registration.MustDate("2028-02-29")},
		{"通信与广电工程", registration.MustDate("2029-11-30")}, // not a 二级 specialty: encoded as text
	}
	c.Status = &StatusRef{List: "LN-2026-03", Index: 4294967295}
	return c
}

func TestWorstCaseShape(t *testing.T) {
	c := worstCase()
	if n := len([]rune(c.HolderName)); n != registration.MaxPersonNameRunes {
		t.Fatalf("worst-case name has %d characters", n)
	}
	if n := len([]rune(c.Copy.Purpose)); n != 20 {
		t.Fatalf("purpose has %d characters", n)
	}
}

func TestRoundTrip(t *testing.T) {
	f := newFixture(t)
	tests := map[string]Claim{"certificate": typicalCertificate(), "usage copy": typicalCopy(), "worst case": worstCase()}
	noStatus := typicalCertificate()
	noStatus.Status = nil
	tests["no status"] = noStatus
	noPurpose := typicalCopy()
	noPurpose.Copy.Purpose = ""
	tests["no purpose"] = noPurpose
	for name, c := range tests {
		t.Run(name, func(t *testing.T) {
			s := f.encode(t, c)
			if !strings.HasPrefix(s, Prefix) {
				t.Fatalf("no prefix: %s", s)
			}
			got, res, err := Decode(s, f.keys, signedAt.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if !got.IssuedAt.Equal(c.IssuedAt) {
				t.Errorf("iat %v, want %v", got.IssuedAt, c.IssuedAt)
			}
			got.IssuedAt = c.IssuedAt
			if !reflect.DeepEqual(*got, c) {
				t.Errorf("decoded\n%+v\nwant\n%+v", *got, c)
			}
			if !bytes.Equal(res.KeyID, cose.KeyID(f.issuer)) || res.Issuer != f.issuer || res.Expired {
				t.Errorf("result %+v", res)
			}
			if !res.Expires.Equal(c.Expiry()) {
				t.Errorf("exp %v, want %v", res.Expires, c.Expiry())
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	cert, cp := typicalCertificate(), typicalCopy()
	// The latest specialty ends 2029-01-15; its end is midnight China time.
	if got, want := cert.Expiry(), time.Date(2029, 1, 15, 16, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("certificate exp %v, want %v", got, want)
	}
	if got, want := cp.Expiry(), time.Date(2026, 8, 28, 16, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("copy exp %v, want %v", got, want)
	}
}

func TestDecodeTime(t *testing.T) {
	f := newFixture(t)
	c := typicalCopy()
	s := f.encode(t, c)
	exp := c.Expiry()
	tests := []struct {
		name string
		now  time.Time
		want error
	}{
		{"at iat", signedAt, nil},
		{"clock 5 min behind", signedAt.Add(-ClockSkew), nil},
		{"clock 5 min 1 s behind", signedAt.Add(-ClockSkew - time.Second), ErrNotYetValid},
		{"last second", exp.Add(-time.Second), nil},
		{"at exp", exp, ErrExpired},
		{"years later", exp.AddDate(3, 0, 0), ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, res, err := Decode(s, f.keys, tt.now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %v, want %v", err, tt.want)
			}
			switch {
			case tt.want == nil || errors.Is(tt.want, ErrExpired):
				// An expired claim is genuine: it comes back with its contents.
				if got == nil || res == nil || got.LicenceID != licenceID || res.Expired != (tt.want != nil) {
					t.Fatalf("claim %v result %+v", got, res)
				}
			default:
				if got != nil || res != nil {
					t.Fatal("refused claim returned")
				}
			}
		})
	}
}

// reencode applies change to the COSE message inside s and re-wraps it.
func reencode(t testing.TB, s string, change func([]byte) []byte) string {
	t.Helper()
	z, err := base45.Decode(strings.TrimPrefix(s, Prefix))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := coseMessage(z)
	if err != nil {
		t.Fatal(err)
	}
	return Prefix + base45.Encode(deflate(t, change(bytes.Clone(msg))))
}

func deflate(t testing.TB, b []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}

func TestDecodeRefuses(t *testing.T) {
	f := newFixture(t)
	good := f.encode(t, typicalCopy())
	other := newFixture(t)
	// The COSE message starts d2 84 51 <17-byte protected header> a0 59 <2-byte length> <payload>.
	const protStart, kidStart, payloadStart = 3, 3 + 9, 3 + 17 + 1 + 3
	flipAt := func(off int) func([]byte) []byte {
		return func(b []byte) []byte { b[off] ^= 1; return b }
	}
	flipFromEnd := func(n int) func([]byte) []byte {
		return func(b []byte) []byte { b[len(b)-n] ^= 1; return b }
	}
	bomb := deflate(t, make([]byte, 1<<20))
	justOver := deflate(t, make([]byte, MaxInflated+1))
	tests := []struct {
		name string
		s    string
		keys *KeySet
		want error
	}{
		{"payload byte", reencode(t, good, flipAt(payloadStart+10)), f.keys, ErrInvalidSignature},
		{"signature byte", reencode(t, good, flipFromEnd(1)), f.keys, ErrInvalidSignature},
		{"kid byte", reencode(t, good, flipAt(kidStart)), f.keys, ErrUnknownIssuer},
		{"alg byte", reencode(t, good, flipAt(protStart+6)), f.keys, ErrInvalidSignature},
		{"another authority's keys", good, other.keys, ErrUnknownIssuer},
		{"empty key set", good, KeySetFromCertificates(), ErrUnknownIssuer},
		{"nil key set", good, nil, ErrUnknownIssuer},
		{"no prefix", strings.TrimPrefix(good, Prefix), f.keys, ErrFormat},
		{"HC1 prefix", "HC1:" + strings.TrimPrefix(good, Prefix), f.keys, ErrFormat},
		{"lower case", strings.ToLower(good), f.keys, ErrFormat},
		{"truncated", good[:len(good)-3], f.keys, ErrFormat},
		{"character changed", good[:20] + string(good[20]^1) + good[21:], f.keys, ErrFormat},
		{"not zlib", Prefix + base45.Encode([]byte("not zlib at all")), f.keys, ErrFormat},
		{"zip bomb", Prefix + base45.Encode(bomb), f.keys, ErrFormat},
		{"one byte over the bound", Prefix + base45.Encode(justOver), f.keys, ErrFormat},
		{"data after zlib", Prefix + base45.Encode(append(deflate(t, []byte{0}), 0)), f.keys, ErrFormat},
		{"untagged COSE", reencode(t, good, func(b []byte) []byte { return b[1:] }), f.keys, ErrFormat},
		{"too long", Prefix + strings.Repeat("0", MaxEncodedLen+1), f.keys, ErrFormat},
		{"empty", "", f.keys, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, res, err := Decode(tt.s, tt.keys, signedAt)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %v, want %v", err, tt.want)
			}
			if c != nil || res != nil {
				t.Fatal("refused claim returned")
			}
		})
	}
	if _, _, err := Decode(good, f.keys, signedAt); err != nil {
		t.Fatalf("the untampered claim: %v", err)
	}
}

// A zip bomb is refused without inflating it: the bound, not the input,
// decides how much is read.
func TestInflateBound(t *testing.T) {
	if _, err := inflate(deflate(t, make([]byte, MaxInflated))); err != nil {
		t.Fatalf("exactly MaxInflated bytes refused: %v", err)
	}
	_, err := inflate(deflate(t, make([]byte, 8<<20)))
	if err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("8 MiB bomb: %v", err)
	}
}

// Claims signed by an issuer key outside its certificate's validity are
// refused, even though the signature is good.
func TestIssuerValidity(t *testing.T) {
	f := newFixture(t)
	for _, iat := range []time.Time{f.issuer.NotBefore.Add(-time.Second), f.issuer.NotAfter.Add(time.Second)} {
		c := typicalCertificate()
		c.IssuedAt = iat
		c.IssueDate = registration.Today(iat)
		for i := range c.Specialties {
			c.Specialties[i].ValidUntil = registration.Today(iat).AddYears(3)
		}
		_, _, err := Decode(f.encode(t, c), f.keys, iat)
		if !errors.Is(err, ErrIssuerValidity) {
			t.Errorf("iat %v: Decode = %v, want ErrIssuerValidity", iat, err)
		}
	}
}

// Two certificates share a kid: the one whose key verifies is reported.
func TestKidCollision(t *testing.T) {
	f := newFixture(t)
	other := newFixture(t)
	kid := string(cose.KeyID(f.issuer))
	ks := &KeySet{byKID: map[string][]*smx509.Certificate{kid: {other.issuer, f.issuer}}}
	_, res, err := Decode(f.encode(t, typicalCertificate()), ks, signedAt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Issuer != f.issuer {
		t.Fatal("reported the wrong certificate")
	}
	ks = &KeySet{byKID: map[string][]*smx509.Certificate{kid: {other.issuer}}}
	if _, _, err := Decode(f.encode(t, typicalCertificate()), ks, signedAt); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("only a colliding certificate: %v, want ErrInvalidSignature", err)
	}
}

func TestEncodeRefuses(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		change func(*Claim)
	}{
		{"full ID number", func(c *Claim) { c.MaskedID = "21010219850101123X" }},
		{"no iat", func(c *Claim) { c.IssuedAt = time.Time{} }},
		{"no licence id", func(c *Claim) { c.LicenceID = "" }},
		{"version 0", func(c *Claim) { c.Version = 0 }},
		{"no name", func(c *Claim) { c.HolderName = "" }},
		{"name too long", func(c *Claim) { c.HolderName = strings.Repeat("张", maxNameRunes+1) }},
		{"control character", func(c *Claim) { c.HolderName = "张\n三" }},
		{"invalid UTF-8", func(c *Claim) { c.RegistrationNo = "\xff" }},
		{"no specialties", func(c *Claim) { c.Specialties = nil }},
		{"specialty without date", func(c *Claim) { c.Specialties[0].ValidUntil = registration.Date{} }},
		{"no issue date", func(c *Claim) { c.IssueDate = registration.Date{} }},
		{"copy without id", func(c *Claim) { c.Copy.ID = "" }},
		{"copy ends before it starts", func(c *Claim) { c.Copy.ValidUntil = c.Copy.ValidFrom.AddDays(-1) }},
		{"purpose too long", func(c *Claim) { c.Copy.Purpose = strings.Repeat("用", maxPurposeRune+1) }},
		{"status without list", func(c *Claim) { c.Status.List = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := typicalCopy()
			tt.change(&c)
			if _, err := Encode(context.Background(), f.ca.Signer, f.issuer, c); !errors.Is(err, ErrInvalidClaim) {
				t.Fatalf("Encode = %v, want ErrInvalidClaim", err)
			}
		})
	}
	if _, err := Encode(context.Background(), f.ca.Signer, f.ca.Root, typicalCopy()); err == nil {
		t.Fatal("Encode with a certificate of another key succeeded")
	}
}

// purpose40 is a purpose of 40 characters, the longest the product accepts.
const purpose40 = "仅用于沈阳市浑南区某住宅小区二期工程施工总承包项目投标及合同备案使用，复印件无效"

// TestQRSize checks that claims fit the QR code the certificate prints: at
// most version 18 at level Q (certgen's TestPDFClaimQRDecodes reads no
// larger one from a page rendered at 100 dpi). Base45's alphabet is the QR
// alphanumeric set, so the encoder uses alphanumeric mode. docs/qr-claim.md
// lists the sizes this test logs.
func TestQRSize(t *testing.T) {
	f := newFixture(t)
	worst40 := worstCase()
	worst40.Copy.Purpose = purpose40
	if n := utf8.RuneCountInString(purpose40); n != 40 {
		t.Fatalf("purpose40 has %d characters", n)
	}
	tests := []struct {
		name       string
		c          Claim
		maxVersion int
	}{
		{"typical certificate", typicalCertificate(), 18},
		{"typical usage copy", typicalCopy(), 18},
		{"worst case", worstCase(), 18},
		{"worst case, 40-character purpose", worst40, 19},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := f.encode(t, tt.c)
			for _, r := range s {
				if !strings.ContainsRune("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", r) {
					t.Fatalf("character %q is not QR alphanumeric", r)
				}
			}
			q, err := qrcode.New(s, qrcode.High) // go-qrcode's High is level Q (25 %)
			if err != nil {
				t.Fatal(err)
			}
			cwt, err := marshalCWT(&tt.c)
			if err != nil {
				t.Fatal(err)
			}
			z, err := base45.Decode(strings.TrimPrefix(s, Prefix))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: CWT %d bytes, %d characters, QR version %d-Q, zlib %v", tt.name, len(cwt), len(s), q.VersionNumber, z[0] != coseSign1Head)
			if q.VersionNumber > tt.maxVersion {
				t.Fatalf("QR version %d-Q, want at most %d-Q", q.VersionNumber, tt.maxVersion)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	fx := newFixture(f)
	good, err := Encode(context.Background(), fx.ca.Signer, fx.issuer, typicalCopy())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(fx.encode(f, worstCase()))
	long := typicalCopy()
	long.Copy.Purpose = strings.Repeat("投标", 30)
	f.Add(fx.encode(f, long)) // compressed
	f.Add(Prefix + base45.Encode(deflate(f, make([]byte, MaxInflated+1))))
	f.Add("EC1:BB8")
	f.Fuzz(func(t *testing.T, s string) {
		c, res, err := Decode(s, fx.keys, signedAt)
		if (err == nil || errors.Is(err, ErrExpired)) != (c != nil && res != nil) {
			t.Fatalf("claim %v result %v with error %v", c, res, err)
		}
		if err == nil && s != good {
			// Base45 and CBOR are canonical; only zlib could give the
			// same COSE message another text.
			if _, _, err := Decode(good, fx.keys, signedAt); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzUnmarshalCWT checks that every CWT the parser accepts is the one
// marshalCWT writes for the claim it yields: each claim has exactly one
// encoding, so no two QR texts sign the same claim differently.
func FuzzUnmarshalCWT(f *testing.F) {
	other := typicalCopy()
	other.LicenceID = "1.2.156.3005.2.11100000000013338W009.X"
	other.Copy.ID = "JZ2026030200123"
	other.Specialties = append(other.Specialties, Specialty{"10401010", registration.MustDate("2028-01-01")})
	for _, c := range []Claim{typicalCertificate(), typicalCopy(), worstCase(), other} {
		b, err := marshalCWT(&c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, _, err := unmarshalCWT(b)
		if err != nil {
			return
		}
		again, err := marshalCWT(c)
		if err != nil {
			t.Fatalf("accepted claim does not marshal: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("accepted\n%x\nbut the claim marshals to\n%x", b, again)
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	f := newFixture(b)
	c := typicalCopy()
	ctx := context.Background()
	for b.Loop() {
		if _, err := Encode(ctx, f.ca.Signer, f.issuer, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	f := newFixture(b)
	s := f.encode(b, typicalCopy())
	now := signedAt.Add(time.Hour)
	for b.Loop() {
		if _, _, err := Decode(s, f.keys, now); err != nil {
			b.Fatal(err)
		}
	}
}

// withCert returns the CWT of c with the certificate map's key k set to v,
// or removed if v is the zero Value, and the keys drop removed.
func withCert(t *testing.T, c Claim, k int64, v cbor.Value, drop ...int64) []byte {
	t.Helper()
	b, err := marshalCWT(&c)
	if err != nil {
		t.Fatal(err)
	}
	top, err := cbor.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var out []cbor.Pair
	for key, val := range top.Entries() {
		if n, _ := key.Int64(); n == KeyCertificate {
			var cert []cbor.Pair
			for ck, cv := range val.Entries() {
				if n, _ := ck.Int64(); n != k && !slices.Contains(drop, n) {
					cert = append(cert, cbor.Pair{Key: ck, Val: cv})
				}
			}
			if v.Kind() != cbor.KindInvalid {
				cert = append(cert, pair(k, v))
			}
			val = cbor.Map(cert...)
		}
		out = append(out, cbor.Pair{Key: key, Val: val})
	}
	b, err = cbor.Marshal(cbor.Map(out...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The compact encodings of docs/qr-claim.md decode to exactly what was
// encoded, and each value has one encoding: the other forms are refused.
func TestCompactEncodings(t *testing.T) {
	textForms := typicalCopy()
	textForms.LicenceID = "1.2.156.3005.2.11100000000013338W009.11210000MB0123456K.2025000124.002.K"
	textForms.HolderName = "ZHANG Xiaoming"
	textForms.MaskedID = "2101**"
	textForms.Copy.ID = "C3F9A07B2C41D8E6590AB" // upper-case hex: not issuance's form
	textForms.Copy.Purpose = "tender"
	textForms.Status.List = "ln/2026"
	textForms.Specialties = append(textForms.Specialties, Specialty{"10401010", registration.MustDate("2028-01-01")})
	shortID := typicalCopy()
	shortID.Copy.ID = "C3f9a07b2c41d8e6590a"
	bareLicence := typicalCopy()
	bareLicence.LicenceID = licencePrefix // nothing after the prefix
	for name, c := range map[string]Claim{"compact forms": worstCase(), "text forms": textForms, "short copy id": shortID, "bare prefix": bareLicence} {
		t.Run(name, func(t *testing.T) {
			b, err := marshalCWT(&c)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := unmarshalCWT(b)
			if err != nil {
				t.Fatal(err)
			}
			got.IssuedAt = c.IssuedAt
			if !reflect.DeepEqual(*got, c) {
				t.Errorf("decoded\n%+v\nwant\n%+v", *got, c)
			}
		})
	}

	c := typicalCopy()
	spec := func(first cbor.Value) cbor.Value {
		return cbor.Array(first, dateValue(c.Specialties[0].ValidUntil))
	}
	copyWith := func(id, purpose cbor.Value) cbor.Value {
		return cbor.Map(pair(cID, id), pair(cPurpose, purpose),
			pair(cValidFrom, dateValue(c.Copy.ValidFrom)), pair(cValidUntil, dateValue(c.Copy.ValidUntil)))
	}
	purpose := cjkValue(c.Copy.Purpose)
	tail, _ := pack(strings.TrimPrefix(licenceID, licencePrefix))
	tests := []struct {
		name string
		k    int64
		v    cbor.Value
	}{
		{"known specialty as text", fSpecialties, spec(cbor.Text("建筑工程"))},

		{"known specialty as UTF-16", fSpecialties, spec(cbor.Bytes(utf16BE("建筑工程")))},
		{"unknown specialty code", fSpecialties, spec(cbor.Uint(10401003))},
		{"specialty code as negative integer", fSpecialties, spec(cbor.Int(-10401001))},
		{"odd specialty array", fSpecialties, cbor.Array(cbor.Uint(10401001))},
		{"copy id as text in issuance's form", fCopy, copyWith(cbor.Text(c.Copy.ID), purpose)},
		{"copy id of 9 bytes", fCopy, copyWith(cbor.Bytes(make([]byte, 9)), purpose)},
		{"copy id of 11 bytes", fCopy, copyWith(cbor.Bytes(make([]byte, 11)), purpose)},
		{"purpose as UTF-8", fCopy, copyWith(copyIDValue(c.Copy.ID), cbor.Text(c.Copy.Purpose))},
		{"empty purpose", fCopy, copyWith(copyIDValue(c.Copy.ID), cbor.Text(""))},
		{"ASCII purpose as UTF-16", fCopy, copyWith(copyIDValue(c.Copy.ID), cbor.Bytes(utf16BE("tender")))},
		{"unpaired surrogate", fHolderName, cbor.Bytes([]byte{0xd8, 0x00, 0x4e, 0x2d, 0x4e, 0x2d})},
		{"odd UTF-16", fHolderName, cbor.Bytes([]byte{0x4e, 0x2d, 0x4e})},
		{"holder name as UTF-8", fHolderName, cbor.Text(c.HolderName)},
		{"masked id as text", fMaskedID, cbor.Text(c.MaskedID)},
		{"packed triple out of range", fMaskedID, cbor.Bytes([]byte{0xfa, 0x00, 0x00, 0x01})},
		{"padding inside", fMaskedID, cbor.Bytes([]byte{0x00, 0x27, 0x00, 0x01})},
		{"whole triple of padding", fMaskedID, cbor.Bytes([]byte{0x00, 0x01, 0xf9, 0xff})},
		{"odd packed length", fMaskedID, cbor.Bytes([]byte{0x00, 0x01, 0x00})},
		{"no licence id", fLicenceTail, cbor.Value{}},
		{"licence tail as text", fLicenceTail, cbor.Text(strings.TrimPrefix(licenceID, licencePrefix))},
		{"both licence keys", fLicenceID, cbor.Bytes(tail)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := unmarshalCWT(withCert(t, c, tt.k, tt.v)); !errors.Is(err, errCWT) {
				t.Fatalf("unmarshalCWT = %v, want errCWT", err)
			}
		})
	}
	if _, _, err := unmarshalCWT(withCert(t, c, fLicenceID, packedValue(licenceID), fLicenceTail)); err == nil ||
		!strings.Contains(err.Error(), "not written as its tail") {
		t.Errorf("licence id with its prefix under key %d: %v", fLicenceID, err)
	}
	if _, _, err := unmarshalCWT(withCert(t, c, fMaskedID, packedValue(c.MaskedID))); err != nil {
		t.Fatalf("unchanged claim: %v", err)
	}
}

// A claim that zlib does not shorten goes uncompressed; one that it does is
// compressed; Decode reads both.
func TestCompression(t *testing.T) {
	f := newFixture(t)
	long := typicalCopy()
	long.Copy.Purpose = strings.Repeat("投标", 30)
	for name, tt := range map[string]struct {
		c          Claim
		compressed bool
	}{"typical copy": {typicalCopy(), false}, "repetitive purpose": {long, true}} {
		t.Run(name, func(t *testing.T) {
			s := f.encode(t, tt.c)
			z, err := base45.Decode(strings.TrimPrefix(s, Prefix))
			if err != nil {
				t.Fatal(err)
			}
			if got := z[0] != coseSign1Head; got != tt.compressed {
				t.Fatalf("compressed = %v (first byte %#x), want %v", got, z[0], tt.compressed)
			}
			if _, _, err := Decode(s, f.keys, signedAt); err != nil {
				t.Fatal(err)
			}
		})
	}
}
