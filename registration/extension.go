package registration

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Extension is a policy extension of registration validity (延期): every
// registration whose valid-until falls in From..To (both inclusive) is
// treated as valid until NewValidUntil. Extensions are data, not code: the
// shipped list is embedded from defaults/extensions.json and more can be loaded
// with LoadExtensions.
type Extension struct {
	Name          string `json:"name"`
	From          Date   `json:"from"`
	To            Date   `json:"to"`
	NewValidUntil Date   `json:"new_valid_until"`
}

// Applies reports whether the extension covers a registration valid until e.
func (x Extension) Applies(e Date) bool {
	return !e.Before(x.From) && !e.After(x.To)
}

// Validate checks that the extension is well formed: a name, From <= To, and
// a new valid-until after To (an extension never shortens a validity).
func (x Extension) Validate() error {
	switch {
	case x.Name == "":
		return errors.New("extension: name is empty")
	case x.From.IsZero() || x.To.IsZero() || x.NewValidUntil.IsZero():
		return fmt.Errorf("extension %q: from, to and new_valid_until are all required", x.Name)
	case x.To.Before(x.From):
		return fmt.Errorf("extension %q: to %s is before from %s", x.Name, x.To, x.From)
	case !x.NewValidUntil.After(x.To):
		return fmt.Errorf("extension %q: new_valid_until %s must be after to %s", x.Name, x.NewValidUntil, x.To)
	}
	return nil
}

//go:embed defaults/extensions.json
var embeddedExtensions []byte

var defaultExtensions = mustLoadExtensions(embeddedExtensions)

func mustLoadExtensions(b []byte) []Extension {
	x, err := ParseExtensions(b)
	if err != nil {
		panic("registration: embedded defaults/extensions.json: " + err.Error())
	}
	return x
}

// DefaultExtensions returns a copy of the shipped extensions; the 2022
// extension (2022-03-12..2022-06-30 → 2022-07-31) is the first entry.
func DefaultExtensions() []Extension {
	return append([]Extension(nil), defaultExtensions...)
}

// Limits on an extensions file.
const (
	maxExtensionsFile = 1 << 20
	maxExtensions     = 1000
	maxExtensionName  = 500
)

// ParseExtensions parses an extensions document:
//
//	{"extensions": [{"name": "...", "from": "2022-03-12", "to": "2022-06-30", "new_valid_until": "2022-07-31"}]}
//
// Unknown fields are rejected so that a misspelt key is not silently ignored.
func ParseExtensions(b []byte) ([]Extension, error) {
	if len(b) > maxExtensionsFile {
		return nil, fmt.Errorf("extensions: document is %d bytes, limit %d", len(b), maxExtensionsFile)
	}
	var doc struct {
		Extensions []Extension `json:"extensions"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("extensions: %w", err)
	}
	if dec.More() {
		return nil, errors.New("extensions: trailing data after the JSON document")
	}
	if len(doc.Extensions) > maxExtensions {
		return nil, fmt.Errorf("extensions: %d entries, limit %d", len(doc.Extensions), maxExtensions)
	}
	for i, x := range doc.Extensions {
		if !utf8.ValidString(x.Name) || len(x.Name) > maxExtensionName {
			return nil, fmt.Errorf("extensions: entry %d: name is not valid UTF-8 or longer than %d bytes", i+1, maxExtensionName)
		}
		if err := x.Validate(); err != nil {
			return nil, fmt.Errorf("extensions: entry %d: %w", i+1, err)
		}
	}
	return doc.Extensions, nil
}

// LoadExtensions reads an extensions document (see ParseExtensions) from r,
// typically a file of additional extensions to append to DefaultExtensions.
func LoadExtensions(r io.Reader) ([]Extension, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxExtensionsFile+1))
	if err != nil {
		return nil, fmt.Errorf("extensions: read: %w", err)
	}
	return ParseExtensions(b)
}

// ExtendValidUntil applies the extensions to a valid-until date e and returns
// the effective valid-until and the extensions that applied, in order. An
// extension can apply to the result of another one (chained extensions);
// the loop is bounded by the number of extensions.
func ExtendValidUntil(e Date, exts []Extension) (Date, []Extension) {
	var applied []Extension
	used := make([]bool, len(exts))
	for range exts {
		changed := false
		for i, x := range exts {
			if !used[i] && x.Applies(e) && x.NewValidUntil.After(e) {
				e, used[i], changed = x.NewValidUntil, true, true
				applied = append(applied, x)
			}
		}
		if !changed {
			break
		}
	}
	return e, applied
}

// BaseValidUntil is the registration's own valid-until before extensions: the
// registration-level date, or when that is missing the latest valid-until of
// its specialties.
func BaseValidUntil(reg Registration) Date {
	if !reg.ValidUntil.IsZero() {
		return reg.ValidUntil
	}
	var e Date
	for _, s := range reg.Specialties {
		if e.IsZero() || s.ValidUntil.After(e) {
			e = s.ValidUntil
		}
	}
	return e
}

// EffectiveValidUntil is the last valid day of reg after policy extensions.
// Every rule about expiry (renewal window, change window, automatic
// cancellation) uses this date.
func EffectiveValidUntil(reg Registration, exts []Extension) Date {
	e, _ := ExtendValidUntil(BaseValidUntil(reg), exts)
	return e
}
