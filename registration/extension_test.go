package registration

import (
	"strings"
	"testing"
)

func TestDefaultExtensions2022(t *testing.T) {
	exts := DefaultExtensions()
	if len(exts) == 0 {
		t.Fatal("no default extensions")
	}
	x := exts[0]
	if x.From != MustDate("2022-03-12") || x.To != MustDate("2022-06-30") || x.NewValidUntil != MustDate("2022-07-31") {
		t.Fatalf("first extension = %+v", x)
	}
	exts[0].Name = "changed"
	if DefaultExtensions()[0].Name == "changed" {
		t.Error("DefaultExtensions returns shared storage")
	}
}

func TestEffectiveValidUntilBoundaries(t *testing.T) {
	exts := DefaultExtensions()
	for _, tc := range []struct{ until, want string }{
		{"2022-03-11", "2022-03-11"}, // the day before the range: not extended
		{"2022-03-12", "2022-07-31"}, // first day of the range
		{"2022-05-15", "2022-07-31"},
		{"2022-06-30", "2022-07-31"}, // last day of the range
		{"2022-07-01", "2022-07-01"}, // the day after: not extended
	} {
		reg := Registration{ValidUntil: MustDate(tc.until)}
		if got := EffectiveValidUntil(reg, exts); got != MustDate(tc.want) {
			t.Errorf("EffectiveValidUntil(%s) = %s, want %s", tc.until, got, tc.want)
		}
	}
	// Without extensions nothing moves.
	if got := EffectiveValidUntil(Registration{ValidUntil: MustDate("2022-03-12")}, nil); got != MustDate("2022-03-12") {
		t.Errorf("no extensions: %s", got)
	}
	// Registration-level date missing: the latest specialty date is used.
	reg := Registration{Specialties: []RegisteredSpecialty{
		{Specialty: Specialties[0], ValidUntil: MustDate("2021-01-01")},
		{Specialty: Specialties[1], ValidUntil: MustDate("2022-04-01")},
	}}
	if got := EffectiveValidUntil(reg, exts); got != MustDate("2022-07-31") {
		t.Errorf("from specialties: %s", got)
	}
}

func TestChainedExtensions(t *testing.T) {
	more, err := ParseExtensions([]byte(`{"extensions":[{"name":"second","from":"2022-07-01","to":"2022-07-31","new_valid_until":"2022-09-30"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	exts := append(DefaultExtensions(), more...)
	got, applied := ExtendValidUntil(MustDate("2022-04-01"), exts)
	if got != MustDate("2022-09-30") || len(applied) != 2 {
		t.Errorf("chained = %s via %d extensions", got, len(applied))
	}
	// Order of the list does not matter for the result.
	got, _ = ExtendValidUntil(MustDate("2022-04-01"), []Extension{more[0], exts[0]})
	if got != MustDate("2022-09-30") {
		t.Errorf("reverse order = %s", got)
	}
}

func TestLoadExtensionsErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`{"extensions":[{"name":"x","from":"2022-03-12","to":"2022-03-01","new_valid_until":"2022-07-31"}]}`, "before from"},
		{`{"extensions":[{"name":"x","from":"2022-03-12","to":"2022-06-30","new_valid_until":"2022-06-30"}]}`, "must be after"},
		{`{"extensions":[{"name":"","from":"2022-03-12","to":"2022-06-30","new_valid_until":"2022-07-31"}]}`, "name is empty"},
		{`{"extensions":[{"name":"x","from":"2022-03-12","to":"2022-06-30"}]}`, "required"},
		{`{"extensions":[{"name":"x","from":"2022-3-12","to":"2022-06-30","new_valid_until":"2022-07-31"}]}`, "want YYYY-MM-DD"},
		{`{"extension":[]}`, "unknown field"},
		{`{"extensions":[]} {}`, "trailing data"},
		{`not json`, "invalid character"},
	} {
		_, err := LoadExtensions(strings.NewReader(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadExtensions(%s) error = %v, want %q", tc.doc, err, tc.want)
		}
	}
	big := `{"extensions":[` + strings.Repeat(" ", maxExtensionsFile) + `]}`
	if _, err := LoadExtensions(strings.NewReader(big)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized document: %v", err)
	}
}

func FuzzParseExtensions(f *testing.F) {
	f.Add([]byte(embeddedExtensions))
	f.Add([]byte(`{"extensions":[]}`))
	f.Add([]byte(`{"extensions":[{"name":"a","from":"2022-01-01","to":"2022-01-01","new_valid_until":"2022-01-02"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		exts, err := ParseExtensions(b)
		if err != nil {
			return
		}
		for _, x := range exts {
			if err := x.Validate(); err != nil {
				t.Fatalf("accepted invalid extension: %v", err)
			}
		}
		// Whatever was accepted, extending never shortens a validity.
		e := MustDate("2022-05-01")
		if got, _ := ExtendValidUntil(e, exts); got.Before(e) {
			t.Fatalf("extension shortened %s to %s", e, got)
		}
	})
}
