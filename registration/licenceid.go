package registration

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// LicenceIDPrefix is the OID arc of national electronic licences (GB/T 36904).
const LicenceIDPrefix = "1.2.156.3005.2"

// TypeCodeConstructor2 is the licence type code of the 二级建造师注册证书:
// the ministry's unified social credit code followed by 001.
const TypeCodeConstructor2 = "11100000000013338W001"

// ErrLicenceID is wrapped by every licence identifier validation failure.
var ErrLicenceID = errors.New("invalid licence identifier")

// Limits on licence identifier parts.
const (
	maxLicenceIDLen   = 256
	maxLicencePartLen = 64
	maxLicenceVersion = 999
)

// LicenceID is an electronic licence identifier (电子证照标识, GB/T 36904):
//
//	1.2.156.3005.2.<type code>.<issuer code>.<serial>.<version>.<check>
//
// Version is printed with 3 digits and increases with every new file of the
// same licence (renewal, change, reissue). The check character is ISO/IEC
// 7064 MOD 37,36 over type code + issuer code + serial + version.
type LicenceID struct {
	TypeCode   string // e.g. TypeCodeConstructor2
	IssuerCode string // the issuing authority's unified social credit code
	Serial     string // unique per issuer, e.g. year + sequence
	Version    int    // 1..999
}

const licenceAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// Mod3736 returns the ISO/IEC 7064 MOD 37,36 check character of s, which
// must consist of 0-9 and A-Z.
func Mod3736(s string) (byte, error) {
	p := 36
	for i := 0; i < len(s); i++ {
		v := strings.IndexByte(licenceAlphabet, s[i])
		if v < 0 {
			return 0, fmt.Errorf("%w: character %q is not in 0-9A-Z", ErrLicenceID, s[i])
		}
		t := (p + v) % 36
		if t == 0 {
			t = 36
		}
		p = (2 * t) % 37
	}
	return licenceAlphabet[(37-p)%36], nil
}

func checkLicencePart(name, s string) error {
	if s == "" || len(s) > maxLicencePartLen {
		return fmt.Errorf("%w: %s has length %d, want 1..%d", ErrLicenceID, name, len(s), maxLicencePartLen)
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(licenceAlphabet, s[i]) < 0 {
			return fmt.Errorf("%w: %s character %d is %q, want 0-9 or A-Z", ErrLicenceID, name, i+1, s[i])
		}
	}
	return nil
}

// Validate checks the parts: type code and serial of 0-9A-Z, an issuer code
// that is a valid unified social credit code, a version in 1..999.
func (l LicenceID) Validate() error {
	if err := checkLicencePart("type code", l.TypeCode); err != nil {
		return err
	}
	if err := checkLicencePart("issuer code", l.IssuerCode); err != nil {
		return err
	}
	if err := ValidateCreditCode(l.IssuerCode); err != nil {
		return fmt.Errorf("%w: issuer code: %w", ErrLicenceID, err)
	}
	if err := checkLicencePart("serial", l.Serial); err != nil {
		return err
	}
	if l.Version < 1 || l.Version > maxLicenceVersion {
		return fmt.Errorf("%w: version %d outside 1..%d", ErrLicenceID, l.Version, maxLicenceVersion)
	}
	return nil
}

func (l LicenceID) version() string { return fmt.Sprintf("%03d", l.Version) }

// CheckChar returns the MOD 37,36 check character of l.
func (l LicenceID) CheckChar() (byte, error) {
	if err := l.Validate(); err != nil {
		return 0, err
	}
	return Mod3736(l.TypeCode + l.IssuerCode + l.Serial + l.version())
}

// String returns the identifier with its check character, or "" when l is
// not valid (use Validate for the reason).
func (l LicenceID) String() string {
	c, err := l.CheckChar()
	if err != nil {
		return ""
	}
	return strings.Join([]string{LicenceIDPrefix, l.TypeCode, l.IssuerCode, l.Serial, l.version(), string(c)}, ".")
}

// NextVersion returns the identifier of the next file of the same licence.
func (l LicenceID) NextVersion() LicenceID {
	l.Version++
	return l
}

// ParseLicenceID parses and validates an identifier, including its check character.
func ParseLicenceID(s string) (LicenceID, error) {
	if len(s) > maxLicenceIDLen {
		return LicenceID{}, fmt.Errorf("%w: length %d, limit %d", ErrLicenceID, len(s), maxLicenceIDLen)
	}
	rest, ok := strings.CutPrefix(s, LicenceIDPrefix+".")
	if !ok {
		return LicenceID{}, fmt.Errorf("%w: does not start with %s.", ErrLicenceID, LicenceIDPrefix)
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 5 {
		return LicenceID{}, fmt.Errorf("%w: %d parts after %s, want 5 (type, issuer, serial, version, check)", ErrLicenceID, len(parts), LicenceIDPrefix)
	}
	ver := parts[3]
	if len(ver) != 3 || strings.Trim(ver, "0123456789") != "" {
		return LicenceID{}, fmt.Errorf("%w: version %q, want 3 digits", ErrLicenceID, ver)
	}
	n, _ := strconv.Atoi(ver)
	l := LicenceID{TypeCode: parts[0], IssuerCode: parts[1], Serial: parts[2], Version: n}
	want, err := l.CheckChar()
	if err != nil {
		return LicenceID{}, err
	}
	if len(parts[4]) != 1 || parts[4][0] != want {
		return LicenceID{}, fmt.Errorf("%w: check character %q, want %q", ErrLicenceID, parts[4], want)
	}
	return l, nil
}
