package registration

import (
	"database/sql/driver"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Date is a civil calendar date (no time of day, no zone). Registration
// validity, renewal windows and working days are all counted in whole dates
// in China Standard Time; using a dedicated type keeps a time zone from ever
// moving a deadline by one day.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ChinaTZ is the zone in which "today" is decided for every rule.
var ChinaTZ = time.FixedZone("CST", 8*3600)

// NewDate returns the normalised date y-m-d (overflowing days roll over as time.Date does).
func NewDate(y int, m time.Month, d int) Date {
	return DateOf(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// DateOf returns the calendar date of t in its own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// Today returns the date of t in China Standard Time.
func Today(t time.Time) Date { return DateOf(t.In(ChinaTZ)) }

// ParseDate parses "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// MustDate is ParseDate for constants in code and tests; it panics on a bad literal.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// Time returns midnight at the start of d in loc.
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

func (d Date) utc() time.Time { return d.Time(time.UTC) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// AddDays returns d shifted by n calendar days.
func (d Date) AddDays(n int) Date { return DateOf(d.utc().AddDate(0, 0, n)) }

// AddYears returns d shifted by n years (29 February rolls to 1 March).
func (d Date) AddYears(n int) Date { return DateOf(d.utc().AddDate(n, 0, 0)) }

// DaysUntil returns the number of calendar days from d to e (e - d).
func (d Date) DaysUntil(e Date) int {
	return int(e.utc().Sub(d.utc()).Hours() / 24)
}

// Before reports whether d is strictly before e.
func (d Date) Before(e Date) bool { return d.utc().Before(e.utc()) }

// After reports whether d is strictly after e.
func (d Date) After(e Date) bool { return d.utc().After(e.utc()) }

// Compare returns -1, 0 or +1.
func (d Date) Compare(e Date) int { return d.utc().Compare(e.utc()) }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.utc().Weekday() }

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// Chinese formats d as YYYY年MM月DD日, as printed on certificates.
func (d Date) Chinese() string {
	return fmt.Sprintf("%04d年%02d月%02d日", d.Year, d.Month, d.Day)
}

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; an empty string is the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Years a stored date may have. A date is stored only if it, and the day
// after it, read back as YYYY-MM-DD: rules compute on stored dates (a notice
// end + 1 day), and 9999-12-31 + 1 day is not a four-digit year.
const (
	MinStoredYear = 1900
	MaxStoredYear = 9998
)

// Value implements driver.Valuer: dates are stored as "YYYY-MM-DD" text
// (NULL when zero). A year outside MinStoredYear..MaxStoredYear is refused,
// so that nothing is written that cannot be read back and computed on.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	if d.Year < MinStoredYear || d.Year > MaxStoredYear {
		return nil, fmt.Errorf("date %s: year outside %d..%d is not stored", d, MinStoredYear, MaxStoredYear)
	}
	return d.String(), nil
}

// storedDate matches what String writes for any year, including years
// outside 0000..9999 that an earlier version let into the database.
var storedDate = regexp.MustCompile(`^(-?[0-9]{4,9})-([0-9]{2})-([0-9]{2})$`)

// Scan implements sql.Scanner for text and time columns. It reads back
// whatever Value or an earlier version wrote, years of more than four digits
// included, so that one bad date never makes its row unreadable; a value
// that is no date at all is an error that shows it.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
		return nil
	case string:
		return d.scanText(v)
	case []byte:
		return d.scanText(string(v))
	case time.Time:
		*d = DateOf(v)
		return nil
	}
	return fmt.Errorf("scan date: unsupported type %T", src)
}

func (d *Date) scanText(s string) error {
	if v, err := ParseDate(s); err == nil {
		*d = v
		return nil
	}
	m := storedDate.FindStringSubmatch(s)
	if m == nil {
		return fmt.Errorf("stored date %q: want YYYY-MM-DD", s)
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	day, _ := strconv.Atoi(m[3])
	v := NewDate(y, time.Month(mo), day)
	if v != (Date{y, time.Month(mo), day}) {
		return fmt.Errorf("stored date %q: no such day", s)
	}
	*d = v
	return nil
}
