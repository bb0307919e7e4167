package registration

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/6tail/lunar-go/HolidayUtil"
)

// Kinds of a calendar day in calendar data.
const (
	DayHoliday = "holiday" // public holiday (法定节假日 or its bridged days): not a working day
	DayWorkday = "workday" // make-up working day (调休上班), usually a Saturday or Sunday
	DayNormal  = "normal"  // ordinary day: Monday to Friday work; removes an upstream entry
)

// CalendarDay is one entry of calendar data.
type CalendarDay struct {
	Date Date   `json:"date"`
	Kind string `json:"kind"`
	Name string `json:"name,omitempty"`
}

// CalendarData is an override document for the working-day calendar.
// Years lists the years the document defines completely: the upstream data
// of those years is dropped and replaced by Days. Days in other years correct
// the upstream data one day at a time.
type CalendarData struct {
	Source string        `json:"source,omitempty"`
	Years  []int         `json:"years"`
	Days   []CalendarDay `json:"days"`
}

// Limits on a calendar data document.
const (
	maxCalendarFile = 1 << 20
	maxCalendarDays = 20000
	minCalendarYear = 1990
	maxCalendarYear = 2200
)

// ParseCalendarData parses and validates a calendar data document.
func ParseCalendarData(b []byte) (CalendarData, error) {
	var doc CalendarData
	if len(b) > maxCalendarFile {
		return doc, fmt.Errorf("calendar data: document is %d bytes, limit %d", len(b), maxCalendarFile)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return CalendarData{}, fmt.Errorf("calendar data: %w", err)
	}
	if dec.More() {
		return CalendarData{}, errors.New("calendar data: trailing data after the JSON document")
	}
	if len(doc.Days) > maxCalendarDays {
		return CalendarData{}, fmt.Errorf("calendar data: %d days, limit %d", len(doc.Days), maxCalendarDays)
	}
	for _, y := range doc.Years {
		if y < minCalendarYear || y > maxCalendarYear {
			return CalendarData{}, fmt.Errorf("calendar data: year %d outside %d..%d", y, minCalendarYear, maxCalendarYear)
		}
	}
	seen := make(map[Date]bool, len(doc.Days))
	for i, d := range doc.Days {
		switch {
		case d.Date.IsZero():
			return CalendarData{}, fmt.Errorf("calendar data: day %d: date is missing", i+1)
		case d.Date.Year < minCalendarYear || d.Date.Year > maxCalendarYear:
			return CalendarData{}, fmt.Errorf("calendar data: day %d: %s outside %d..%d", i+1, d.Date, minCalendarYear, maxCalendarYear)
		case d.Kind != DayHoliday && d.Kind != DayWorkday && d.Kind != DayNormal:
			return CalendarData{}, fmt.Errorf("calendar data: day %d (%s): kind %q, want holiday, workday or normal", i+1, d.Date, d.Kind)
		case !utf8.ValidString(d.Name) || len(d.Name) > 200:
			return CalendarData{}, fmt.Errorf("calendar data: day %d (%s): name is not valid UTF-8 or too long", i+1, d.Date)
		case seen[d.Date]:
			return CalendarData{}, fmt.Errorf("calendar data: day %d: %s listed twice", i+1, d.Date)
		}
		seen[d.Date] = true
	}
	return doc, nil
}

// LoadCalendarData reads a calendar data document from r (see ParseCalendarData).
func LoadCalendarData(r io.Reader) (CalendarData, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxCalendarFile+1))
	if err != nil {
		return CalendarData{}, fmt.Errorf("calendar data: read: %w", err)
	}
	return ParseCalendarData(b)
}

//go:embed defaults/holidays.json
var embeddedCalendar []byte

type dayEntry struct {
	work bool // true: make-up working day; false: holiday
	name string
}

// Calendar is the official working-day calendar: Monday to Friday are working
// days except public holidays; make-up days (调休) are working days even on a
// weekend. It is immutable once built and safe for concurrent use.
type Calendar struct {
	days  map[Date]dayEntry
	years map[int]bool
}

// ErrCalendarNotCovered is returned when a computation needs a year the
// calendar has no official data for; load an override file for that year.
var ErrCalendarNotCovered = errors.New("working-day calendar has no official data for this year")

var upstream = sync.OnceValue(func() map[Date]dayEntry {
	m := make(map[Date]dayEntry, 1000)
	for y := minCalendarYear; y <= maxCalendarYear; y++ {
		for e := HolidayUtil.GetHolidaysByYear(y).Front(); e != nil; e = e.Next() {
			h := e.Value.(*HolidayUtil.Holiday)
			d, err := ParseDate(h.GetDay())
			if err != nil {
				continue // the upstream data is fixed; a bad entry is simply unusable
			}
			name := h.GetName()
			if h.IsWork() {
				name += "调休"
			}
			m[d] = dayEntry{work: h.IsWork(), name: name}
		}
	}
	return m
})

// upstreamYears are the years the upstream data covers completely: those
// with an entry for New Year's Day (the first upstream entries, from
// 2001-12-29, belong to the 2002 New Year holiday).
func upstreamYears(m map[Date]dayEntry) map[int]bool {
	years := map[int]bool{}
	for d := range m {
		if d.Month == time.January && d.Day == 1 {
			years[d.Year] = true
		}
	}
	return years
}

var defaultCalendar = sync.OnceValues(func() (*Calendar, error) {
	emb, err := ParseCalendarData(embeddedCalendar)
	if err != nil {
		return nil, fmt.Errorf("embedded defaults/holidays.json: %w", err)
	}
	return newCalendar(emb), nil
})

// DefaultCalendar returns the calendar built from the upstream official data
// and the embedded overrides.
func DefaultCalendar() *Calendar {
	c, err := defaultCalendar()
	if err != nil {
		panic("registration: " + err.Error())
	}
	return c
}

// NewCalendar builds a calendar from the upstream data, the embedded
// overrides and then each extra document in order (later documents win).
func NewCalendar(extra ...CalendarData) (*Calendar, error) {
	emb, err := ParseCalendarData(embeddedCalendar)
	if err != nil {
		return nil, fmt.Errorf("embedded defaults/holidays.json: %w", err)
	}
	for i, x := range extra {
		// Documents built in code bypass ParseCalendarData; validate them the same way.
		b, err := json.Marshal(x)
		if err != nil {
			return nil, fmt.Errorf("calendar data %d: %w", i+1, err)
		}
		if _, err := ParseCalendarData(b); err != nil {
			return nil, fmt.Errorf("calendar data %d: %w", i+1, err)
		}
	}
	return newCalendar(append([]CalendarData{emb}, extra...)...), nil
}

func newCalendar(docs ...CalendarData) *Calendar {
	up := upstream()
	c := &Calendar{days: make(map[Date]dayEntry, len(up)), years: upstreamYears(up)}
	for d, e := range up {
		c.days[d] = e
	}
	for _, doc := range docs {
		for _, y := range doc.Years {
			for d := range c.days {
				if d.Year == y {
					delete(c.days, d)
				}
			}
			c.years[y] = true
		}
		for _, d := range doc.Days {
			switch d.Kind {
			case DayHoliday:
				c.days[d.Date] = dayEntry{work: false, name: d.Name}
			case DayWorkday:
				c.days[d.Date] = dayEntry{work: true, name: d.Name}
			case DayNormal:
				delete(c.days, d.Date)
			}
		}
	}
	return c
}

// Covers reports whether the calendar has official data for the year.
func (c *Calendar) Covers(year int) bool { return c.years[year] }

// Years returns the covered years in ascending order.
func (c *Calendar) Years() []int {
	ys := make([]int, 0, len(c.years))
	for y := range c.years {
		ys = append(ys, y)
	}
	slices.Sort(ys)
	return ys
}

// IsWorkingDay reports whether d is a working day: a make-up working day, or
// Monday to Friday and not a public holiday. Outside the covered years only
// weekends are known; see Covers.
func (c *Calendar) IsWorkingDay(d Date) bool {
	if e, ok := c.days[d]; ok {
		return e.work
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// DayName returns the holiday or make-up day name of d (e.g. 国庆节, 春节调休),
// or "" for an ordinary day.
func (c *Calendar) DayName(d Date) string { return c.days[d].name }

// maxWorkingDays bounds AddWorkingDays.
const maxWorkingDays = 10000

// AddWorkingDays returns the n-th working day after start. As in Chinese
// administrative law the start day (acceptance) is not counted: the first
// day counted is the next working day. n = 0 returns start. Every day
// counted must lie in a covered year, otherwise the error wraps
// ErrCalendarNotCovered.
func (c *Calendar) AddWorkingDays(start Date, n int) (Date, error) {
	if n < 0 || n > maxWorkingDays {
		return Date{}, fmt.Errorf("add working days: n = %d outside 0..%d", n, maxWorkingDays)
	}
	d := start
	for n > 0 {
		d = d.AddDays(1)
		if !c.Covers(d.Year) {
			return Date{}, fmt.Errorf("add working days from %s: %w: %d", start, ErrCalendarNotCovered, d.Year)
		}
		if c.IsWorkingDay(d) {
			n--
		}
	}
	return d, nil
}

// WorkingDaysBetween counts the working days after from up to and including
// to (0 when to is not after from): the elapsed review time of a case.
func (c *Calendar) WorkingDaysBetween(from, to Date) int {
	n := 0
	for d := from.AddDays(1); !d.After(to); d = d.AddDays(1) {
		if c.IsWorkingDay(d) {
			n++
		}
	}
	return n
}

// DueDate is the last day of the review limit of a case: its acceptance
// date plus 15 working days (initial, re-registration, add specialty) or 5
// working days (renewal, change, cancellation, lost-certificate reissue).
func DueDate(c Case, cal *Calendar) (Date, error) {
	if !c.Type.Valid() {
		return Date{}, fmt.Errorf("due date of case %s: unknown business type %q", c.ID, c.Type)
	}
	if c.AcceptedOn.IsZero() {
		return Date{}, fmt.Errorf("due date of case %s: not accepted yet", c.ID)
	}
	d, err := cal.AddWorkingDays(c.AcceptedOn, c.Type.ReviewWorkingDays())
	if err != nil {
		return Date{}, fmt.Errorf("due date of case %s: %w", c.ID, err)
	}
	return d, nil
}
