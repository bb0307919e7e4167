package registration

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestCalendarCoverage(t *testing.T) {
	cal := DefaultCalendar()
	years := cal.Years()
	t.Logf("official holiday data covers %d..%d (%d years)", years[0], years[len(years)-1], len(years))
	// lunar-go v1.4.7 ships the State Council schedules from 2002 to 2027.
	if years[0] != 2002 || years[len(years)-1] < 2027 || len(years) != years[len(years)-1]-2002+1 {
		t.Errorf("covered years = %v", years)
	}
	if cal.Covers(2001) || cal.Covers(2028) {
		t.Errorf("claims coverage of 2001 or 2028")
	}
}

func TestIsWorkingDayNationalDay2024(t *testing.T) {
	cal := DefaultCalendar()
	for _, tc := range []struct {
		day  string
		work bool
	}{
		{"2024-09-27", true},  // Friday
		{"2024-09-28", false}, // Saturday
		{"2024-09-29", true},  // Sunday, make-up working day
		{"2024-09-30", true},  // Monday
		{"2024-10-01", false}, {"2024-10-02", false}, {"2024-10-03", false}, {"2024-10-04", false},
		{"2024-10-05", false}, {"2024-10-06", false}, {"2024-10-07", false}, // holiday 10-01..10-07
		{"2024-10-08", true},
		{"2024-10-12", true},  // Saturday, make-up working day
		{"2024-10-13", false}, // Sunday
		{"2024-10-19", false}, // ordinary Saturday
	} {
		if got := cal.IsWorkingDay(MustDate(tc.day)); got != tc.work {
			t.Errorf("IsWorkingDay(%s) = %v, want %v (%s)", tc.day, got, tc.work, cal.DayName(MustDate(tc.day)))
		}
	}
	if n := cal.DayName(MustDate("2024-10-01")); n != "国庆节" {
		t.Errorf("DayName(2024-10-01) = %q", n)
	}
	if n := cal.DayName(MustDate("2024-10-12")); n != "国庆节调休" {
		t.Errorf("DayName(2024-10-12) = %q", n)
	}
}

func TestIsWorkingDaySpringFestival2025(t *testing.T) {
	cal := DefaultCalendar()
	for _, tc := range []struct {
		day  string
		work bool
	}{
		{"2025-01-01", false},                                                                      // New Year's Day, Wednesday
		{"2025-01-25", false},                                                                      // Saturday
		{"2025-01-26", true},                                                                       // Sunday, make-up working day
		{"2025-01-27", true},                                                                       // Monday
		{"2025-01-28", false}, {"2025-01-31", false}, {"2025-02-03", false}, {"2025-02-04", false}, // holiday 01-28..02-04
		{"2025-02-05", true},
		{"2025-02-08", true}, // Saturday, make-up working day
		{"2025-02-09", false},
	} {
		if got := cal.IsWorkingDay(MustDate(tc.day)); got != tc.work {
			t.Errorf("IsWorkingDay(%s) = %v, want %v", tc.day, got, tc.work)
		}
	}
}

func TestDueDates(t *testing.T) {
	cal := DefaultCalendar()
	for _, tc := range []struct {
		name     string
		typ      BusinessType
		accepted string
		want     string
	}{
		// National Day 2024. Renewal (5 working days) accepted Friday 09-27:
		// 09-28 Sat no; 1 = 09-29 (make-up Sunday); 2 = 09-30; 10-01..10-07 holiday;
		// 3 = 10-08; 4 = 10-09; 5 = 10-10.
		{"renewal before National Day", Renewal, "2024-09-27", "2024-10-10"},
		// Initial (15) accepted 09-27: 1 = 09-29, 2 = 09-30, 3..6 = 10-08..10-11,
		// 7 = 10-12 (make-up Saturday), 8..12 = 10-14..10-18, 13..15 = 10-21..10-23.
		{"initial before National Day", Initial, "2024-09-27", "2024-10-23"},
		// Change (5) accepted Tuesday 10-08: 10-09, 10-10, 10-11, 10-12 (make-up
		// Saturday), 10-14. Without the make-up day it would be 10-15.
		{"change over the make-up Saturday", Change, "2024-10-08", "2024-10-14"},
		// Accepted on a holiday: 10-08, 10-09, 10-10, 10-11, 10-12 (make-up Saturday).
		{"cancellation accepted on a holiday", Cancellation, "2024-10-03", "2024-10-12"},
		// Spring Festival 2025. Renewal (5) accepted Friday 01-24: 01-25 Sat no;
		// 1 = 01-26 (make-up Sunday); 2 = 01-27; 01-28..02-04 holiday; 3 = 02-05;
		// 4 = 02-06; 5 = 02-07.
		{"renewal before Spring Festival", Renewal, "2025-01-24", "2025-02-07"},
		// Add specialty (15) accepted 01-24: 1 = 01-26, 2 = 01-27, 3..5 = 02-05..02-07,
		// 6 = 02-08 (make-up Saturday), 7..11 = 02-10..02-14, 12..15 = 02-17..02-20.
		{"add specialty before Spring Festival", AddSpecialty, "2025-01-24", "2025-02-20"},
		// Lost reissue (5) accepted Thursday 02-06: 02-07, 02-08 (make-up Saturday),
		// 02-10, 02-11, 02-12.
		{"reissue over the make-up Saturday", LostReissue, "2025-02-06", "2025-02-12"},
		// An ordinary week: renewal accepted Monday 2025-03-10 → Monday 03-17.
		{"ordinary week", Renewal, "2025-03-10", "2025-03-17"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DueDate(Case{ID: "C", Type: tc.typ, AcceptedOn: MustDate(tc.accepted)}, cal)
			if err != nil {
				t.Fatal(err)
			}
			if got != MustDate(tc.want) {
				t.Errorf("DueDate(%s accepted %s) = %s, want %s", tc.typ, tc.accepted, got, tc.want)
			}
			if n := cal.WorkingDaysBetween(MustDate(tc.accepted), got); n != tc.typ.ReviewWorkingDays() {
				t.Errorf("WorkingDaysBetween = %d", n)
			}
		})
	}
	if _, err := DueDate(Case{ID: "C", Type: Renewal}, cal); err == nil || !strings.Contains(err.Error(), "not accepted") {
		t.Errorf("unaccepted case: %v", err)
	}
	if _, err := DueDate(Case{ID: "C", Type: "x", AcceptedOn: MustDate("2025-01-01")}, cal); err == nil {
		t.Error("unknown type accepted")
	}
	if d, err := cal.AddWorkingDays(MustDate("2025-01-01"), 0); err != nil || d != MustDate("2025-01-01") {
		t.Errorf("n=0: %s %v", d, err)
	}
	if _, err := cal.AddWorkingDays(MustDate("2025-01-01"), -1); err == nil {
		t.Error("negative n accepted")
	}
}

func TestCalendarOverrides(t *testing.T) {
	// A year the upstream data lacks: not covered, so a due date there is an error.
	_, err := DefaultCalendar().AddWorkingDays(MustDate("2027-12-28"), 5)
	if !errors.Is(err, ErrCalendarNotCovered) || !strings.Contains(err.Error(), "2028") {
		t.Fatalf("uncovered year: %v", err)
	}
	doc, err := LoadCalendarData(strings.NewReader(`{
		"years": [2028],
		"days": [
			{"date": "2028-01-01", "kind": "holiday", "name": "元旦"},
			{"date": "2028-01-03", "kind": "holiday", "name": "元旦"},
			{"date": "2028-01-08", "kind": "workday", "name": "元旦调休"},
			{"date": "2024-10-08", "kind": "holiday", "name": "correction"},
			{"date": "2024-10-12", "kind": "normal"}
		]}`))
	if err != nil {
		t.Fatal(err)
	}
	cal, err := NewCalendar(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !cal.Covers(2028) {
		t.Fatal("override year not covered")
	}
	// 2027-12-28 Tue: 12-29, 12-30, 12-31, (01-01 Sat holiday, 01-02 Sun,
	// 01-03 Mon holiday), 01-04, 01-05 → 5th working day 2028-01-05.
	if d, err := cal.AddWorkingDays(MustDate("2027-12-28"), 5); err != nil || d != MustDate("2028-01-05") {
		t.Errorf("across into 2028: %s %v", d, err)
	}
	if !cal.IsWorkingDay(MustDate("2028-01-08")) {
		t.Error("override make-up Saturday not a working day")
	}
	// Corrections: 10-08 is now a holiday and 10-12 an ordinary Saturday.
	if cal.IsWorkingDay(MustDate("2024-10-08")) || cal.IsWorkingDay(MustDate("2024-10-12")) {
		t.Error("corrections not applied")
	}
	// The default calendar is untouched.
	if !DefaultCalendar().IsWorkingDay(MustDate("2024-10-08")) || DefaultCalendar().Covers(2028) {
		t.Error("override leaked into the default calendar")
	}
	// Declaring a year drops its upstream data.
	doc2 := CalendarData{Years: []int{2025}}
	cal2, err := NewCalendar(doc2)
	if err != nil {
		t.Fatal(err)
	}
	if !cal2.IsWorkingDay(MustDate("2025-01-28")) || cal2.IsWorkingDay(MustDate("2025-01-26")) {
		t.Error("a declared year kept its upstream data")
	}
	if _, err := NewCalendar(CalendarData{Days: []CalendarDay{{Date: MustDate("2025-01-01"), Kind: "party"}}}); err == nil {
		t.Error("NewCalendar accepted a bad kind")
	}
}

func TestParseCalendarDataErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`{"days":[{"date":"2028-01-01","kind":"fest"}]}`, `kind "fest"`},
		{`{"days":[{"kind":"holiday"}]}`, "date is missing"},
		{`{"days":[{"date":"2028-02-30","kind":"holiday"}]}`, "want YYYY-MM-DD"},
		{`{"days":[{"date":"2028-01-01","kind":"holiday"},{"date":"2028-01-01","kind":"workday"}]}`, "listed twice"},
		{`{"years":[28]}`, "year 28 outside"},
		{`{"days":[{"date":"1800-01-01","kind":"holiday"}]}`, "outside"},
		{`{"dayz":[]}`, "unknown field"},
		{`{"days":[]}x`, "trailing data"},
	} {
		_, err := ParseCalendarData([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseCalendarData(%s) = %v, want %q", tc.doc, err, tc.want)
		}
	}
}

func FuzzParseCalendarData(f *testing.F) {
	f.Add(embeddedCalendar)
	f.Add([]byte(`{"years":[2028],"days":[{"date":"2028-01-01","kind":"holiday","name":"元旦"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := ParseCalendarData(b)
		if err != nil {
			return
		}
		cal, err := NewCalendar(doc)
		if err != nil {
			t.Fatalf("parsed document rejected by NewCalendar: %v", err)
		}
		for _, d := range doc.Days {
			want := d.Kind == DayWorkday || (d.Kind == DayNormal && d.Date.Weekday()%6 != 0)
			if cal.IsWorkingDay(d.Date) != want {
				t.Fatalf("%s %s: IsWorkingDay = %v", d.Date, d.Kind, !want)
			}
		}
	})
}

func BenchmarkDueDate(b *testing.B) {
	cal := DefaultCalendar()
	c := Case{ID: "C", Type: Initial, AcceptedOn: MustDate("2024-09-27")}
	for b.Loop() {
		if _, err := DueDate(c, cal); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewCalendar(b *testing.B) {
	for b.Loop() {
		if _, err := NewCalendar(); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleDueDate() {
	c := Case{ID: "C1", Type: Renewal, AcceptedOn: MustDate("2024-09-27")}
	due, err := DueDate(c, DefaultCalendar())
	fmt.Println(due, err)
	// Output: 2024-10-10 <nil>
}
