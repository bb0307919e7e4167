package registration

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestIDCheckCharPublishedExamples(t *testing.T) {
	// Examples printed in GB 11643-1999 itself.
	for _, tc := range []struct{ first17, want string }{
		{"11010519491231002", "X"},
		{"44052418800101001", "4"},
	} {
		got, err := IDCheckChar(tc.first17)
		if err != nil {
			t.Fatalf("IDCheckChar(%s): %v", tc.first17, err)
		}
		if string(got) != tc.want {
			t.Errorf("IDCheckChar(%s) = %c, want %s", tc.first17, got, tc.want)
		}
	}
}

func TestParseIDNumber(t *testing.T) {
	for _, tc := range []struct {
		in     string
		birth  string
		gender Gender
	}{
		{"11010519491231002X", "1949-12-31", Female},
		{"11010519491231002x", "1949-12-31", Female}, // lower-case x accepted
		{" 11010519491231002X ", "1949-12-31", Female},
		{"210102196002291230", "1960-02-29", Male}, // leap day in a leap year
		{"210102199001011237", "1990-01-01", Male},
	} {
		id, err := ParseIDNumber(tc.in)
		if err != nil {
			t.Fatalf("ParseIDNumber(%q): %v", tc.in, err)
		}
		if id.BirthDate != MustDate(tc.birth) || id.Gender != tc.gender {
			t.Errorf("ParseIDNumber(%q) = birth %s gender %v, want %s %v", tc.in, id.BirthDate, id.Gender, tc.birth, tc.gender)
		}
		if got := id.String(); got != strings.ToUpper(strings.TrimSpace(tc.in)) {
			t.Errorf("String() = %q", got)
		}
	}
}

func TestParseIDNumberErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, wantMsg string
	}{
		{"empty", "", "length 0, want 18"},
		{"short", "11010519491231002", "length 17, want 18"},
		{"long", "11010519491231002X1", "length 19, want 18"},
		{"letter in body", "1101051949123A002X", "character 14 is 'A', want a digit"},
		{"X not last", "X10105194912310021", "character 1 is 'X', want a digit"},
		{"bad check digit", "110105194912310021", `check character is '1', want 'X'`},
		{"check is not X", "210102199001011238", `check character is '8', want '7'`},
		{"30 February", "210102196002301232", "birth date 1960-02-30 does not exist"},
		{"29 February non-leap", "210102196102291238", "birth date 1961-02-29 does not exist"},
		{"month 13", idWithCheck("21010219601301123"), "birth date 1960-13-01 does not exist"},
		{"day 00", idWithCheck("21010219600100123"), "birth date 1960-01-00 does not exist"},
		{"before 1900", "440524188001010014", "birth year 1880 is before 1900"},
		{"region starts with 0", idWithCheck("01010219900101123"), "region code cannot start with '0'"},
		{"full-width digits", "２１０１０２１９９００１０１１２３７", "length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseIDNumber(tc.in)
			if err == nil {
				t.Fatalf("ParseIDNumber(%q) accepted", tc.in)
			}
			if !errors.Is(err, ErrIDNumber) {
				t.Errorf("error %v does not wrap ErrIDNumber", err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q, want it to mention %q", err, tc.wantMsg)
			}
			if len(tc.in) >= 14 && strings.Contains(err.Error(), strings.TrimSpace(tc.in)) {
				t.Errorf("error repeats the full number: %v", err)
			}
		})
	}
}

// idWithCheck appends the correct check character, so that a test reaches the
// validation that follows the check digit.
func idWithCheck(first17 string) string {
	c, err := IDCheckChar(first17)
	if err != nil {
		panic(err)
	}
	return first17 + string(c)
}

// TestIDNumberBirthday: the day n full years are completed is the same month
// and day, or 28 February for a 29 February birth in a common year (Civil
// Code art. 201: no corresponding day → the last day of the month).
func TestIDNumberBirthday(t *testing.T) {
	for _, tc := range []struct {
		born string
		age  int
		want string
	}{
		{"1960-02-29", 65, "2025-02-28"},
		{"1960-02-29", 64, "2024-02-29"},
		{"1960-02-29", 40, "2000-02-29"}, // 2000 is a leap year
		{"1960-02-29", 1, "1961-02-28"},
		{"1960-02-29", 0, "1960-02-29"},
		{"1960-02-28", 65, "2025-02-28"},
		{"1960-03-01", 65, "2025-03-01"},
		{"1960-12-31", 65, "2025-12-31"},
		{"1980-02-29", 120, "2100-02-28"}, // 2100 is not a leap year
	} {
		id, err := ParseIDNumber(idWithCheck("210102" + strings.ReplaceAll(tc.born, "-", "") + "123"))
		if err != nil {
			t.Fatal(err)
		}
		if got := id.Birthday(tc.age).String(); got != tc.want {
			t.Errorf("born %s: Birthday(%d) = %s, want %s", tc.born, tc.age, got, tc.want)
		}
	}
}

func TestIDNumberAgeAndMask(t *testing.T) {
	id, err := ParseIDNumber("210102196002291230")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		on   string
		want int
	}{
		{"2025-02-27", 64}, {"2025-02-28", 65}, {"2025-03-01", 65}, // no 29 Feb in 2025: art. 201
		{"2024-02-28", 63}, {"2024-02-29", 64},
	} {
		if got := id.AgeOn(MustDate(tc.on)); got != tc.want {
			t.Errorf("AgeOn(%s) = %d, want %d", tc.on, got, tc.want)
		}
	}
	if got := id.Masked(); got != "210102********1230" {
		t.Errorf("Masked() = %q", got)
	}
	if got := MaskID("short"); got != "*****" {
		t.Errorf("MaskID(short) = %q", got)
	}
	if Male.Chinese() != "男" || Female.Chinese() != "女" || GenderUnknown.Chinese() != "" {
		t.Error("gender labels")
	}
}

func FuzzParseIDNumber(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "210102196002291230", "210102196002301232", "", "X", "1101051949123100２X"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseIDNumber(s)
		if err != nil {
			if !errors.Is(err, ErrIDNumber) {
				t.Fatalf("error %v does not wrap ErrIDNumber", err)
			}
			return
		}
		v := id.String()
		if len(v) != 18 {
			t.Fatalf("accepted %q of length %d", v, len(v))
		}
		c, err := IDCheckChar(v[:17])
		if err != nil || c != v[17] {
			t.Fatalf("accepted %q with wrong check character", v)
		}
		if id.BirthDate.String() != v[6:10]+"-"+v[10:12]+"-"+v[12:14] {
			t.Fatalf("birth date %s does not match %q", id.BirthDate, v)
		}
		if id.BirthDate.Year < 1900 || (id.Gender != Male && id.Gender != Female) {
			t.Fatalf("bad fields for %q: %+v", v, id)
		}
		again, err := ParseIDNumber(v)
		if err != nil || again != id {
			t.Fatalf("re-parse of %q: %v %+v", v, err, again)
		}
	})
}

func TestDate(t *testing.T) {
	d := MustDate("2024-02-29")
	if d.AddYears(1) != MustDate("2025-03-01") {
		t.Errorf("AddYears(1) = %s", d.AddYears(1))
	}
	if d.AddDays(1) != MustDate("2024-03-01") || d.AddDays(-60) != MustDate("2023-12-31") {
		t.Errorf("AddDays")
	}
	if got := MustDate("2024-12-31").DaysUntil(MustDate("2025-01-31")); got != 31 {
		t.Errorf("DaysUntil = %d", got)
	}
	if got := MustDate("2025-01-31").DaysUntil(MustDate("2024-12-31")); got != -31 {
		t.Errorf("DaysUntil negative = %d", got)
	}
	// Across the change of year and a leap day.
	if got := MustDate("2023-03-01").DaysUntil(MustDate("2024-03-01")); got != 366 {
		t.Errorf("DaysUntil leap year = %d", got)
	}
	if !MustDate("2025-01-01").Before(MustDate("2025-01-02")) || MustDate("2025-01-01").After(MustDate("2025-01-01")) {
		t.Error("Before/After")
	}
	if MustDate("2024-10-12").Weekday() != time.Saturday {
		t.Error("Weekday")
	}
	if d.String() != "2024-02-29" || d.Chinese() != "2024年02月29日" || (Date{}).String() != "" {
		t.Error("formatting")
	}
	for _, bad := range []string{"2024-02-30", "2024-2-1", "20240201", "", "2024-13-01"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
	// 23:30 UTC on 2024-12-31 is already 2025-01-01 in China.
	if got := Today(time.Date(2024, 12, 31, 23, 30, 0, 0, time.UTC)); got != MustDate("2025-01-01") {
		t.Errorf("Today = %s", got)
	}
	var u Date
	if err := u.UnmarshalText([]byte("2025-05-27")); err != nil || u != MustDate("2025-05-27") {
		t.Errorf("UnmarshalText: %v %s", err, u)
	}
	if err := u.Scan([]byte("bad")); err == nil {
		t.Error("Scan accepted bad text")
	}
	if v, _ := (Date{}).Value(); v != nil {
		t.Error("zero Value not NULL")
	}
}
