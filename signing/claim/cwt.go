package claim

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ecert/ecert/internal/cbor"
	"github.com/ecert/ecert/registration"
)

// CWT claim keys (RFC 8392 §4) and the key of ecert's private claim.
const (
	keyIss = 1
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
)

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

func pair(k int64, v cbor.Value) cbor.Pair { return cbor.Pair{Key: cbor.Int(k), Val: v} }

// marshalCWT returns the CWT claims set of c, with exp from c.Expiry.
func marshalCWT(c *Claim) ([]byte, error) {
	specs := make([]cbor.Value, len(c.Specialties))
	for i, s := range c.Specialties {
		specs[i] = cbor.Array(cbor.Text(s.Name), dateValue(s.ValidUntil))
	}
	cert := []cbor.Pair{
		pair(fLicenceID, cbor.Text(c.LicenceID)),
		pair(fVersion, cbor.Int(int64(c.Version))),
		pair(fHolderName, cbor.Text(c.HolderName)),
		pair(fMaskedID, cbor.Text(c.MaskedID)),
		pair(fRegNo, cbor.Text(c.RegistrationNo)),
		pair(fSpecialties, cbor.Array(specs...)),
		pair(fIssueDate, dateValue(c.IssueDate)),
	}
	if cp := c.Copy; cp != nil {
		m := []cbor.Pair{
			pair(cID, cbor.Text(cp.ID)),
			pair(cValidFrom, dateValue(cp.ValidFrom)),
			pair(cValidUntil, dateValue(cp.ValidUntil)),
		}
		if cp.Purpose != "" {
			m = append(m, pair(cPurpose, cbor.Text(cp.Purpose)))
		}
		cert = append(cert, pair(fCopy, cbor.Map(m...)))
	}
	if st := c.Status; st != nil {
		cert = append(cert, pair(fStatus, cbor.Array(cbor.Text(st.List), cbor.Uint(st.Index))))
	}
	return cbor.Marshal(cbor.Map(
		pair(keyIss, cbor.Text(c.Issuer)),
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
	top := readFields("claims", v, keyIss, keyExp, keyIat, KeyCertificate)
	c := &Claim{Issuer: top.text(keyIss, false)}
	iat, exp := top.int(keyIat), top.int(keyExp)
	cv, _ := top.value(KeyCertificate, false)
	if top.err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %w", errCWT, top.err)
	}
	c.IssuedAt = time.Unix(iat, 0)
	f := readFields("certificate claim", cv, fLicenceID, fVersion, fHolderName, fMaskedID, fRegNo, fSpecialties, fIssueDate, fCopy, fStatus)
	c.LicenceID = f.text(fLicenceID, false)
	if ver := f.int(fVersion); ver < 1 || ver > math.MaxInt32 {
		f.fail(fVersion, "version %d out of range", ver)
	} else {
		c.Version = int(ver)
	}
	c.HolderName = f.text(fHolderName, false)
	c.MaskedID = f.text(fMaskedID, false)
	c.RegistrationNo = f.text(fRegNo, false)
	c.IssueDate = f.date(fIssueDate)
	if sv, ok := f.value(fSpecialties, false); ok {
		items, ok := sv.Items()
		if !ok {
			f.fail(fSpecialties, "%s, want an array", sv.Kind())
		}
		for _, it := range items {
			pair, ok := it.Items()
			if !ok || len(pair) != 2 {
				f.fail(fSpecialties, "item is not [name, valid-until]")
				break
			}
			name, ok1 := pair[0].TextString()
			days, ok2 := pair[1].Int64()
			if !ok1 || !ok2 {
				f.fail(fSpecialties, "item is not [text, integer]")
				break
			}
			c.Specialties = append(c.Specialties, Specialty{Name: name, ValidUntil: f.dateOf(fSpecialties, days)})
		}
	}
	if cpv, ok := f.value(fCopy, true); ok {
		cf := readFields("usage copy", cpv, cID, cPurpose, cValidFrom, cValidUntil)
		c.Copy = &UsageCopy{
			ID:         cf.text(cID, false),
			Purpose:    cf.text(cPurpose, true),
			ValidFrom:  cf.date(cValidFrom),
			ValidUntil: cf.date(cValidUntil),
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
			list, ok1 = items[0].TextString()
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
