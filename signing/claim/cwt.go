package claim

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/ecert/ecert/internal/cbor"
	"github.com/ecert/ecert/registration"
)

// CWT claim keys (RFC 8392 §4) and the key of ecert's private claim. There
// is no iss: the COSE kid names the issuer certificate, whose subject names
// the authority.
const (
	keyExp = 4
	keyIat = 6
	// KeyCertificate is the CWT claim holding the certificate fields. CWT
	// claim keys below -65536 are for private use (RFC 8392 §9.1).
	KeyCertificate = -65537
)

// Keys of the certificate claim map (docs/qr-claim.md).
const (
	fLicenceID   = 1
	fVersion     = 2
	fHolderName  = 3
	fMaskedID    = 4
	fRegNo       = 5
	fSpecialties = 6
	fIssueDate   = 7
	fCopy        = 8
	fStatus      = 9
	// fLicenceTail replaces fLicenceID for a 二级建造师 licence: the licence
	// id without licencePrefix.
	fLicenceTail = 10
)

// licencePrefix starts the licence id of every 二级建造师注册证书: the GB/T
// 36904 arc and the licence type code. Claims omit it (key 10).
const licencePrefix = registration.LicenceIDPrefix + "." + registration.TypeCodeConstructor2 + "."

// Keys of the usage copy map.
const (
	cID         = 1
	cPurpose    = 2
	cValidFrom  = 3
	cValidUntil = 4
)

// epoch is day 0 of the date encoding: dates are whole days since
// 1970-01-01 (the epoch-days form of RFC 8943, untagged).
var epoch = registration.NewDate(1970, time.January, 1)

func dateValue(d registration.Date) cbor.Value { return cbor.Int(int64(epoch.DaysUntil(d))) }

// specialtyValue encodes a specialty name: a specialty of
// registration.Specialties as its national code, an unsigned integer
// (10401010 for 市政公用工程), any other as its text name.
func specialtyValue(name string) cbor.Value {
	if s, ok := registration.LookupSpecialty(name); ok && s.Name == name {
		if code, err := strconv.ParseUint(s.Code, 10, 64); err == nil {
			return cbor.Uint(code)
		}
	}
	return cjkValue(name)
}

// specialtyName decodes specialtyValue's encoding. It refuses a code that is
// not in registration.Specialties and, so that every claim has one
// encoding, a known specialty written as text.
func specialtyName(v cbor.Value) (string, error) {
	if code, ok := v.Uint64(); ok {
		s, ok := registration.LookupSpecialty(strconv.FormatUint(code, 10))
		if !ok || s.Code != strconv.FormatUint(code, 10) {
			return "", fmt.Errorf("unknown specialty code %d", code)
		}
		return s.Name, nil
	}
	name, err := cjkText(v)
	if err != nil {
		return "", fmt.Errorf("specialty: %w", err)
	}
	if specialtyValue(name).Kind() == cbor.KindUint {
		return "", fmt.Errorf("known specialty %q written as text, not as its code", name)
	}
	return name, nil
}

// cjkValue encodes a text that is mostly Chinese (holder name, purpose,
// specialty name): as a byte string holding its UTF-16BE encoding when that
// is shorter than UTF-8 (a Chinese character takes 2 bytes instead of 3),
// else as text.
func cjkValue(s string) cbor.Value {
	if b := utf16BE(s); len(b) < len(s) {
		return cbor.Bytes(b)
	}
	return cbor.Text(s)
}

func utf16BE(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.BigEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// cjkText decodes cjkValue's encoding, refusing UTF-16 that is malformed
// or, so that every claim has one encoding, not shorter than the UTF-8.
func cjkText(v cbor.Value) (string, error) {
	if s, ok := v.TextString(); ok {
		if len(utf16BE(s)) < len(s) {
			return "", fmt.Errorf("text %q written as UTF-8, not as UTF-16", s)
		}
		return s, nil
	}
	b, ok := v.ByteString()
	if !ok {
		return "", fmt.Errorf("%s, want text or UTF-16 bytes", v.Kind())
	}
	if len(b)%2 != 0 {
		return "", fmt.Errorf("UTF-16 of odd length %d", len(b))
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.BigEndian.Uint16(b[2*i:])
	}
	s := string(utf16.Decode(u))
	if !bytes.Equal(utf16BE(s), b) {
		return "", errors.New("malformed UTF-16 (unpaired surrogate)")
	}
	if len(b) >= len(s) {
		return "", fmt.Errorf("text %q written as UTF-16, not as UTF-8", s)
	}
	return s, nil
}

// packAlphabet is the alphabet of packed texts; index 39 pads the last
// triple.
const packAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.*-"

const packPad = len(packAlphabet)

// packedValue encodes an identifier (licence id, masked ID number, status
// list id): if it uses only packAlphabet and packing is shorter, as a byte
// string of 2 bytes (big-endian a·40² + b·40 + c) per 3 characters, the
// last triple padded with index 39; else as text.
func packedValue(s string) cbor.Value {
	if b, ok := pack(s); ok {
		return cbor.Bytes(b)
	}
	return cbor.Text(s)
}

func pack(s string) ([]byte, bool) {
	idx := make([]int, 0, len(s)+2)
	for i := 0; i < len(s); i++ {
		j := strings.IndexByte(packAlphabet, s[i])
		if j < 0 {
			return nil, false
		}
		idx = append(idx, j)
	}
	for len(idx)%3 != 0 {
		idx = append(idx, packPad)
	}
	b := make([]byte, 0, len(idx)/3*2)
	for i := 0; i < len(idx); i += 3 {
		b = binary.BigEndian.AppendUint16(b, uint16(idx[i]*1600+idx[i+1]*40+idx[i+2]))
	}
	return b, len(b) < len(s)
}

// packedText decodes packedValue's encoding, refusing a malformed packing
// and, so that every claim has one encoding, a text that would have been
// packed.
func packedText(v cbor.Value) (string, error) {
	if s, ok := v.TextString(); ok {
		if _, ok := pack(s); ok {
			return "", fmt.Errorf("text %q not packed", s)
		}
		return s, nil
	}
	b, ok := v.ByteString()
	if !ok {
		return "", fmt.Errorf("%s, want text or packed bytes", v.Kind())
	}
	if len(b)%2 != 0 {
		return "", fmt.Errorf("packed text of odd length %d", len(b))
	}
	var sb strings.Builder
	pads := 0
	for i := 0; i < len(b); i += 2 {
		n := int(binary.BigEndian.Uint16(b[i:]))
		if n >= 40*40*40 {
			return "", fmt.Errorf("packed triple %d out of range", n)
		}
		for _, j := range [3]int{n / 1600, n / 40 % 40, n % 40} {
			switch {
			case j == packPad:
				pads++
			case pads > 0:
				return "", errors.New("packed text: padding before the end")
			default:
				sb.WriteByte(packAlphabet[j])
			}
		}
	}
	s := sb.String()
	if pads > 2 {
		return "", errors.New("packed text: a whole triple of padding")
	}
	if p, ok := pack(s); !ok || !bytes.Equal(p, b) {
		return "", fmt.Errorf("text %q should not be packed", s)
	}
	return s, nil
}

// copyIDBytes is the length of the random part of a usage copy id: ids are
// "C" followed by 2×copyIDBytes lower-case hex digits (issuance.createCopy).
const copyIDBytes = 10

// copyIDRandom returns the random bytes of an id of the form "C" + 20
// lower-case hex digits.
func copyIDRandom(id string) ([]byte, bool) {
	hexPart, ok := strings.CutPrefix(id, "C")
	if !ok || len(hexPart) != 2*copyIDBytes || strings.ToLower(hexPart) != hexPart {
		return nil, false
	}
	b, err := hex.DecodeString(hexPart)
	return b, err == nil
}

// copyIDValue encodes a usage copy id: one of the form "C" + 20 lower-case
// hex digits as its 10 bytes, any other as text.
func copyIDValue(id string) cbor.Value {
	if b, ok := copyIDRandom(id); ok {
		return cbor.Bytes(b)
	}
	return cbor.Text(id)
}

// copyID decodes copyIDValue's encoding back to the exact id, refusing a
// byte string of another length and, so that every claim has one
// encoding, a text id that would have been written as bytes.
func copyID(v cbor.Value) (string, error) {
	if b, ok := v.ByteString(); ok {
		if len(b) != copyIDBytes {
			return "", fmt.Errorf("copy id of %d bytes, want %d", len(b), copyIDBytes)
		}
		return "C" + hex.EncodeToString(b), nil
	}
	id, ok := v.TextString()
	if !ok {
		return "", fmt.Errorf("copy id is %s, want bytes or text", v.Kind())
	}
	if _, ok := copyIDRandom(id); ok {
		return "", fmt.Errorf("copy id %q written as text, not as bytes", id)
	}
	return id, nil
}

// licencePair encodes the licence id under fLicenceTail without
// licencePrefix when it has that prefix, else whole under fLicenceID; both
// packed (packedValue).
func licencePair(id string) cbor.Pair {
	if tail, ok := strings.CutPrefix(id, licencePrefix); ok && tail != "" {
		return pair(fLicenceTail, packedValue(tail))
	}
	return pair(fLicenceID, packedValue(id))
}

func pair(k int64, v cbor.Value) cbor.Pair { return cbor.Pair{Key: cbor.Int(k), Val: v} }

// marshalCWT returns the CWT claims set of c, with exp from c.Expiry.
func marshalCWT(c *Claim) ([]byte, error) {
	specs := make([]cbor.Value, 0, 2*len(c.Specialties))
	for _, s := range c.Specialties {
		specs = append(specs, specialtyValue(s.Name), dateValue(s.ValidUntil))
	}
	cert := []cbor.Pair{
		licencePair(c.LicenceID),
		pair(fVersion, cbor.Int(int64(c.Version))),
		pair(fHolderName, cjkValue(c.HolderName)),
		pair(fMaskedID, packedValue(c.MaskedID)),
		pair(fRegNo, cbor.Text(c.RegistrationNo)),
		pair(fSpecialties, cbor.Array(specs...)),
		pair(fIssueDate, dateValue(c.IssueDate)),
	}
	if cp := c.Copy; cp != nil {
		m := []cbor.Pair{
			pair(cID, copyIDValue(cp.ID)),
			pair(cValidFrom, dateValue(cp.ValidFrom)),
			pair(cValidUntil, dateValue(cp.ValidUntil)),
		}
		if cp.Purpose != "" {
			m = append(m, pair(cPurpose, cjkValue(cp.Purpose)))
		}
		cert = append(cert, pair(fCopy, cbor.Map(m...)))
	}
	if st := c.Status; st != nil {
		cert = append(cert, pair(fStatus, cbor.Array(packedValue(st.List), cbor.Uint(st.Index))))
	}
	return cbor.Marshal(cbor.Map(
		pair(keyIat, cbor.Int(c.IssuedAt.Unix())),
		pair(keyExp, cbor.Int(c.Expiry().Unix())),
		pair(KeyCertificate, cbor.Map(cert...)),
	))
}

// fields reads an integer-keyed map, refusing keys it does not know: the
// prefix, not ignorable fields, says which version of the format this is.
type fields struct {
	where string
	m     map[int64]cbor.Value
	err   error
}

func readFields(where string, v cbor.Value, known ...int64) *fields {
	f := &fields{where: where, m: map[int64]cbor.Value{}}
	pairs, ok := v.Pairs()
	if !ok {
		f.err = fmt.Errorf("%s: not a map", where)
		return f
	}
	for _, p := range pairs {
		k, ok := p.Key.Int64()
		if !ok || !contains(known, k) {
			f.err = fmt.Errorf("%s: unknown key %v", where, p.Key)
			return f
		}
		f.m[k] = p.Val
	}
	return f
}

func contains(s []int64, k int64) bool {
	for _, x := range s {
		if x == k {
			return true
		}
	}
	return false
}

func (f *fields) fail(k int64, format string, args ...any) {
	if f.err == nil {
		f.err = fmt.Errorf("%s key %d: %s", f.where, k, fmt.Sprintf(format, args...))
	}
}

func (f *fields) get(k int64, optional bool) (cbor.Value, bool) {
	v, ok := f.m[k]
	if !ok && !optional {
		f.fail(k, "missing")
	}
	return v, ok && f.err == nil
}

func (f *fields) text(k int64, optional bool) string {
	v, ok := f.get(k, optional)
	if !ok {
		return ""
	}
	s, ok := v.TextString()
	if !ok {
		f.fail(k, "%s, want text", v.Kind())
	}
	return s
}

func (f *fields) cjk(k int64, optional bool) string {
	v, ok := f.get(k, optional)
	if !ok {
		return ""
	}
	s, err := cjkText(v)
	if err != nil {
		f.fail(k, "%v", err)
	}
	return s
}

func (f *fields) packed(k int64) string {
	v, ok := f.get(k, false)
	if !ok {
		return ""
	}
	s, err := packedText(v)
	if err != nil {
		f.fail(k, "%v", err)
	}
	return s
}

func (f *fields) copyID(k int64) string {
	v, ok := f.get(k, false)
	if !ok {
		return ""
	}
	id, err := copyID(v)
	if err != nil {
		f.fail(k, "%v", err)
	}
	return id
}

func (f *fields) int(k int64) int64 {
	v, ok := f.get(k, false)
	if !ok {
		return 0
	}
	i, ok := v.Int64()
	if !ok {
		f.fail(k, "%s, want an integer", v.Kind())
	}
	return i
}

func (f *fields) date(k int64) registration.Date {
	return f.dateOf(k, f.int(k))
}

func (f *fields) dateOf(k, days int64) registration.Date {
	// Years 1900..9998 are about ±2.9 million days from 1970.
	if days < -30000 || days > 3000000 {
		f.fail(k, "date %d days from 1970-01-01 out of range", days)
		return registration.Date{}
	}
	return epoch.AddDays(int(days))
}

func (f *fields) value(k int64, optional bool) (cbor.Value, bool) { return f.get(k, optional) }

var errCWT = errors.New("malformed CWT claims")

// unmarshalCWT parses a CWT claims set written by marshalCWT and returns
// the claim and its exp.
func unmarshalCWT(b []byte) (*Claim, time.Time, error) {
	v, err := cbor.Unmarshal(b)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %w", errCWT, err)
	}
	top := readFields("claims", v, keyExp, keyIat, KeyCertificate)
	c := &Claim{}
	iat, exp := top.int(keyIat), top.int(keyExp)
	cv, _ := top.value(KeyCertificate, false)
	if top.err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %w", errCWT, top.err)
	}
	c.IssuedAt = time.Unix(iat, 0)
	f := readFields("certificate claim", cv, fLicenceID, fLicenceTail, fVersion, fHolderName, fMaskedID, fRegNo, fSpecialties, fIssueDate, fCopy, fStatus)
	_, whole := f.m[fLicenceID]
	_, tail := f.m[fLicenceTail]
	switch {
	case whole && tail:
		f.fail(fLicenceTail, "both licence id and its tail")
	case whole:
		c.LicenceID = f.packed(fLicenceID)
		if strings.HasPrefix(c.LicenceID, licencePrefix) && len(c.LicenceID) > len(licencePrefix) {
			f.fail(fLicenceID, "licence id %q not written as its tail (key %d)", c.LicenceID, fLicenceTail)
		}
	default:
		if tail := f.packed(fLicenceTail); tail != "" {
			c.LicenceID = licencePrefix + tail
		}
	}
	if ver := f.int(fVersion); ver < 1 || ver > math.MaxInt32 {
		f.fail(fVersion, "version %d out of range", ver)
	} else {
		c.Version = int(ver)
	}
	c.HolderName = f.cjk(fHolderName, false)
	c.MaskedID = f.packed(fMaskedID)
	c.RegistrationNo = f.text(fRegNo, false)
	c.IssueDate = f.date(fIssueDate)
	if sv, ok := f.value(fSpecialties, false); ok {
		items, ok := sv.Items()
		if !ok {
			f.fail(fSpecialties, "%s, want an array", sv.Kind())
		}
		if len(items)%2 != 0 {
			f.fail(fSpecialties, "%d items, want name, valid-until pairs", len(items))
			items = nil
		}
		for i := 0; i < len(items); i += 2 {
			name, err := specialtyName(items[i])
			if err != nil {
				f.fail(fSpecialties, "%v", err)
				break
			}
			days, ok := items[i+1].Int64()
			if !ok {
				f.fail(fSpecialties, "valid-until is %s, want an integer", items[i+1].Kind())
				break
			}
			c.Specialties = append(c.Specialties, Specialty{Name: name, ValidUntil: f.dateOf(fSpecialties, days)})
		}
	}
	if cpv, ok := f.value(fCopy, true); ok {
		cf := readFields("usage copy", cpv, cID, cPurpose, cValidFrom, cValidUntil)
		c.Copy = &UsageCopy{
			ID:         cf.copyID(cID),
			Purpose:    cf.cjk(cPurpose, true),
			ValidFrom:  cf.date(cValidFrom),
			ValidUntil: cf.date(cValidUntil),
		}
		if _, ok := cf.m[cPurpose]; ok && c.Copy.Purpose == "" {
			cf.fail(cPurpose, "empty (an absent purpose has no key)")
		}
		if cf.err != nil && f.err == nil {
			f.err = cf.err
		}
	}
	if stv, ok := f.value(fStatus, true); ok {
		items, ok := stv.Items()
		var list string
		var idx uint64
		var ok1, ok2 bool
		if ok && len(items) == 2 {
			var err error
			list, err = packedText(items[0])
			ok1 = err == nil
			idx, ok2 = items[1].Uint64()
		}
		if !ok1 || !ok2 {
			f.fail(fStatus, "not [list id, index]")
		}
		c.Status = &StatusRef{List: list, Index: idx}
	}
	if f.err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %w", errCWT, f.err)
	}
	if err := c.Validate(); err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %w", errCWT, err)
	}
	if want := c.Expiry().Unix(); exp != want {
		return nil, time.Time{}, fmt.Errorf("%w: exp %d, but the claim's validity ends at %d", errCWT, exp, want)
	}
	return c, time.Unix(exp, 0), nil
}
