package intake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// utf8BOM is the byte order mark some editors put at the start of a file.
var utf8BOM = []byte("\ufeff")

// textField is one string field of a record, named as in the input.
type textField struct {
	name, value string
}

// textFields lists every string field of r.
func (r *Approval) textFields() []textField {
	f := []textField{
		{"case_id", r.CaseID}, {"business_type", string(r.BusinessType)},
		{"person.name", r.Person.Name}, {"person.id_number", r.Person.IDNumber}, {"person.phone", r.Person.Phone},
		{"registration.number", r.Registration.Number},
		{"registration.employer.name", r.Registration.Employer.Name},
		{"registration.employer.credit_code", r.Registration.Employer.CreditCode},
	}
	for i, s := range r.Registration.Specialties {
		f = append(f, textField{fmt.Sprintf("registration.specialties[%d].code", i), s.Code},
			textField{fmt.Sprintf("registration.specialties[%d].name", i), s.Name})
	}
	if q := r.Qualification; q != nil {
		f = append(f, textField{"qualification.certificate_no", q.CertificateNo}, textField{"qualification.specialty", q.Specialty})
	}
	return f
}

// textProblem says why s cannot be kept as text, or returns "". Refused are
// invalid UTF-8; control characters (Cc: NUL, escape, C1 controls); format
// characters (Cf: bidi controls such as U+202E, zero-width characters, a
// byte order mark), which change how a name reads without being seen; line
// and paragraph separators; and U+FFFD, which encoding/json puts in place of
// input it could not decode (a lone surrogate escape such as \ud800).
func textProblem(s string) string {
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	if strings.TrimFunc(s, unicode.IsSpace) != s {
		// The certificate template refuses it, so such a record could
		// never be issued; and " 张三" is not the person's name.
		return "leading or trailing space"
	}
	i := strings.IndexFunc(s, refusedRune)
	if i < 0 {
		return ""
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	kind := "a control character"
	switch {
	case r == utf8.RuneError:
		kind = "the replacement character: the input held invalid text"
	case unicode.Is(unicode.Cf, r):
		kind = "a format character (bidi control, zero width or byte order mark)"
	case unicode.In(r, unicode.Zl, unicode.Zp):
		kind = "a line or paragraph separator"
	}
	return fmt.Sprintf("contains U+%04X at character %d, %s", r, utf8.RuneCountInString(s[:i])+1, kind)
}

func refusedRune(r rune) bool {
	return r == utf8.RuneError || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
}

// checkRawLine refuses what encoding/json would silently change: invalid
// UTF-8 (it becomes U+FFFD) and a byte order mark (a syntax error that does
// not say what is wrong).
func checkRawLine(line []byte) error {
	if bytes.HasPrefix(line, utf8BOM) {
		return fmt.Errorf("line starts with a UTF-8 byte order mark (U+FEFF): only the first line of a file may carry one")
	}
	if utf8.Valid(line) {
		return nil
	}
	off := firstInvalid(line)
	where := "line"
	if f := fieldAt(line, off); f != "" {
		where = f
	}
	return &ValidationError{Problems: []string{fmt.Sprintf("%s: not valid UTF-8 (byte 0x%02X at column %d)", where, line[off], off+1)}}
}

func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// jsonFrame is one open object or array while walking a line's tokens.
type jsonFrame struct {
	object  bool
	key     string // object: the current field
	index   int    // array: the current element
	wantKey bool
}

// fieldAt names the field (e.g. "person.name") whose string holds byte off
// of line, or "" when no string does or the line is not JSON.
func fieldAt(line []byte, off int) string {
	dec := json.NewDecoder(bytes.NewReader(line))
	var stack []jsonFrame
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		end := int(dec.InputOffset())
		var top *jsonFrame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if s, ok := tok.(string); ok {
			if top != nil && top.object && top.wantKey {
				top.key, top.wantKey = s, false
				if end > off {
					top.key = ""
					return strings.TrimPrefix(jsonPath(stack)+" (a field name)", " ")
				}
				continue
			}
			if end > off {
				return jsonPath(stack)
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, jsonFrame{object: true, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, jsonFrame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
			if top.object {
				top.wantKey = true
			} else {
				top.index++
			}
		}
	}
}

func jsonPath(stack []jsonFrame) string {
	var b strings.Builder
	for _, f := range stack {
		switch {
		case !f.object:
			fmt.Fprintf(&b, "[%d]", f.index)
		case f.key != "":
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
		}
	}
	return b.String()
}
