package registration

import (
	"strings"
	"testing"
	"time"
)

func TestDateValueRefusesWhatCannotBeReadBack(t *testing.T) {
	for _, tt := range []struct {
		d  Date
		ok bool
	}{
		{Date{}, true}, {NewDate(1900, 1, 1), true}, {NewDate(9998, 12, 31), true},
		{NewDate(1899, 12, 31), false}, {NewDate(9999, 12, 31), false}, {NewDate(9999, 12, 31).AddDays(1), false}, {Date{0, 1, 1}, false},
	} {
		_, err := tt.d.Value()
		if (err == nil) != tt.ok {
			t.Errorf("Value(%v): %v, want ok %v", tt.d, err, tt.ok)
		}
	}
}

func TestDateScanReadsEveryYearWritten(t *testing.T) {
	for _, tt := range []struct {
		src  any
		want Date
		err  string
	}{
		{"2025-03-01", NewDate(2025, 3, 1), ""},
		{[]byte("10000-01-01"), Date{10000, 1, 1}, ""},
		{"0000-01-01", Date{0, 1, 1}, ""},
		{nil, Date{}, ""},
		{time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), NewDate(2025, 3, 1), ""},
		{"soon", Date{}, `"soon"`},
		{"10000-02-30", Date{}, "no such day"},
		{42, Date{}, "unsupported type"},
	} {
		var d Date
		err := d.Scan(tt.src)
		switch {
		case tt.err == "" && (err != nil || d != tt.want):
			t.Errorf("Scan(%v) = %v, %v; want %v", tt.src, d, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("Scan(%v): error %v, want one mentioning %s", tt.src, err, tt.err)
		}
	}
}
