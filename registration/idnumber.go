package registration

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Gender is encoded in the 17th digit of a resident ID number (odd: male).
type Gender int

const (
	GenderUnknown Gender = iota
	Male
	Female
)

// Chinese returns 男 or 女.
func (g Gender) Chinese() string {
	switch g {
	case Male:
		return "男"
	case Female:
		return "女"
	}
	return ""
}

// ErrIDNumber is wrapped by every ID number validation failure.
var ErrIDNumber = errors.New("invalid resident ID number")

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// IDCheckChar returns the GB 11643 check character (ISO 7064 MOD 11-2) of the
// first 17 digits of a resident ID number.
func IDCheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("%w: need 17 digits before the check character", ErrIDNumber)
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: character %d is %q, want a digit", ErrIDNumber, i+1, c)
		}
		sum += int(c-'0') * idWeights[i]
	}
	return idCheckChars[sum%11], nil
}

// IDNumber is a validated 18-character resident ID number (GB 11643-1999).
type IDNumber struct {
	value     string
	BirthDate Date
	Gender    Gender
}

// ParseIDNumber validates s (a lower-case x is accepted and upper-cased) and
// extracts the birth date and gender. The error never repeats the full number.
func ParseIDNumber(s string) (IDNumber, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 18 {
		return IDNumber{}, fmt.Errorf("%w: length %d, want 18", ErrIDNumber, len(s))
	}
	want, err := IDCheckChar(s[:17])
	if err != nil {
		return IDNumber{}, err
	}
	if s[17] != want {
		return IDNumber{}, fmt.Errorf("%w: check character is %q, want %q", ErrIDNumber, s[17], want)
	}
	if s[0] < '1' || s[0] > '9' {
		return IDNumber{}, fmt.Errorf("%w: region code cannot start with %q", ErrIDNumber, s[0])
	}
	y, m, d := atoi(s[6:10]), atoi(s[10:12]), atoi(s[12:14])
	birth := NewDate(y, monthOf(m), d)
	if y < 1900 {
		return IDNumber{}, fmt.Errorf("%w: birth year %s is before 1900", ErrIDNumber, s[6:10])
	}
	if m < 1 || m > 12 || d < 1 || birth.Year != y || int(birth.Month) != m || birth.Day != d {
		return IDNumber{}, fmt.Errorf("%w: birth date %s-%s-%s does not exist", ErrIDNumber, s[6:10], s[10:12], s[12:14])
	}
	g := Female
	if (s[16]-'0')%2 == 1 {
		g = Male
	}
	return IDNumber{value: s, BirthDate: birth, Gender: g}, nil
}

// String returns the full number. Use Masked for anything a log or a public page shows.
func (id IDNumber) String() string { return id.value }

// Masked keeps the first 6 and last 4 characters: 210102********123X.
func (id IDNumber) Masked() string { return MaskID(id.value) }

// MaskID masks any identifier-like string, keeping its first 6 and last 4 characters.
func MaskID(s string) string {
	r := []rune(s)
	if len(r) <= 10 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:6]) + strings.Repeat("*", len(r)-10) + string(r[len(r)-4:])
}

// Birthday returns the day on which n full years of age are completed: the
// same month and day n years after the birth date or, for a birth on
// 29 February in a year without that day, 28 February (Civil Code art. 201:
// with no corresponding day, the last day of the month ends the period).
func (id IDNumber) Birthday(n int) Date {
	b := id.BirthDate
	y := b.Year + n
	if b.Month == time.February && b.Day == 29 && !isLeap(y) {
		return Date{Year: y, Month: time.February, Day: 28}
	}
	return Date{Year: y, Month: b.Month, Day: b.Day}
}

// AgeOn returns the age in completed years on day d, counting a birthday
// as Birthday does.
func (id IDNumber) AgeOn(d Date) int {
	age := d.Year - id.BirthDate.Year
	if d.Before(id.Birthday(age)) {
		age--
	}
	return age
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func monthOf(m int) time.Month { return time.Month(m) }
