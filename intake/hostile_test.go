package intake_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/registration"
)

// fixedDay is "today" for the date tests: 2026-12-05 in China.
var fixedDay = intake.Options{Clock: func() time.Time { return time.Date(2026, 12, 5, 10, 0, 0, 0, registration.ChinaTZ) }}

// mutateLine decodes the valid sample line into a map, lets f change it and
// encodes it again.
func mutateLine(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(validLine(t), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func obj(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}

func TestDecodeRefusesImplausibleDates(t *testing.T) {
	tests := []struct {
		name string
		f    func(m map[string]any)
		want []string
	}{
		{"notice_end 9999-12-31", func(m map[string]any) { m["business_type"] = "initial"; m["notice_end"] = "9999-12-31" }, []string{"notice_end"}},
		{"notice_end 9999 on a renewal", func(m map[string]any) { m["business_type"] = "renewal"; m["notice_end"] = "9999-12-31" }, []string{"notice_end"}},
		{"approved_on year 0", func(m map[string]any) { m["approved_on"] = "0000-01-01" }, []string{"approved_on"}},
		{"approved_on 2099", func(m map[string]any) { m["approved_on"] = "2099-01-01" }, []string{"approved_on"}},
		{"valid_until 2099", func(m map[string]any) {
			obj(m, "registration")["valid_until"] = "2099-12-31"
			for _, s := range obj(m, "registration")["specialties"].([]any) {
				s.(map[string]any)["valid_until"] = "2099-12-31"
			}
		}, []string{"registration.valid_until"}},
		{"valid_from 1899", func(m map[string]any) { obj(m, "registration")["valid_from"] = "1899-12-31" }, []string{"registration.valid_from"}},
		{"specialty valid_until year 1", func(m map[string]any) {
			obj(m, "registration")["specialties"].([]any)[0].(map[string]any)["valid_until"] = "0001-01-01"
		}, []string{"registration.specialties[0].valid_until"}},
		{"qualification approved in the future", func(m map[string]any) {
			obj(m, "qualification")["approval_date"] = "2090-01-01"
			obj(m, "qualification")["issue_date"] = "2090-02-01"
		}, []string{"qualification.approval_date"}},
		{"qualification issued before approval", func(m map[string]any) {
			q := obj(m, "qualification")
			q["issue_date"] = "2019-01-01"
			q["approval_date"] = "2019-06-01"
		}, []string{"qualification.issue_date"}},
		{"registration approved before the qualification", func(m map[string]any) {
			q := obj(m, "qualification")
			q["approval_date"], q["issue_date"] = m["approved_on"], m["approved_on"]
			m["approved_on"] = "2010-01-01"
			m["notice_end"] = "2010-01-10"
		}, []string{"approved_on", "qualification.approval_date"}},
		{"notice_end before approved_on", func(m map[string]any) { m["business_type"] = "initial"; m["notice_end"] = "2000-01-01" }, []string{"notice_end"}},
		{"cancellation with a far valid_until", func(m map[string]any) {
			m["business_type"] = "cancellation"
			obj(m, "registration")["valid_until"] = "9999-12-31"
		}, []string{"registration.valid_until"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := mutateLine(t, tt.f)
			_, err := intake.DecodeWith(line, fixedDay)
			if err == nil {
				t.Fatalf("accepted: %s", line)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// Each date limit admits its last day and refuses the day after.
func TestDecodeDateLimitsAtTheBoundary(t *testing.T) {
	set := func(act, validity, qual string) func(m map[string]any) {
		return func(m map[string]any) {
			m["business_type"] = "initial"
			m["approved_on"], m["notice_end"] = act, act
			r := obj(m, "registration")
			r["valid_from"], r["valid_until"] = act, validity
			r["specialties"] = []any{map[string]any{"code": "10401001", "valid_until": validity}}
			q := obj(m, "qualification")
			q["approval_date"], q["issue_date"] = qual, qual
		}
	}
	tests := []struct {
		name                string
		act, validity, qual string
		want                []string // nil: accepted
	}{
		{"every date at its limit", "2027-12-05", "2032-12-05", "2026-12-05", nil},
		{"acts a day too late", "2027-12-06", "2032-12-05", "2026-12-05", []string{"approved_on", "notice_end", "registration.valid_from"}},
		{"validity a day too long", "2027-12-05", "2032-12-06", "2026-12-05", []string{"registration.valid_until", "registration.specialties[0].valid_until"}},
		{"qualification from tomorrow", "2027-12-05", "2032-12-05", "2026-12-06", []string{"qualification.approval_date", "qualification.issue_date"}},
		{"the earliest dates", "1900-01-02", "1903-01-01", "1900-01-01", nil},
		{"qualification before 1900", "1900-01-02", "1903-01-01", "1899-12-31", []string{"qualification.approval_date: 1899-12-31 is before 1900-01-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := mutateLine(t, set(tt.act, tt.validity, tt.qual))
			_, err := intake.DecodeWith(line, fixedDay)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: %s", line)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestDecodeRefusesBadText(t *testing.T) {
	replaceName := func(raw string) []byte {
		line := mutateLine(t, func(m map[string]any) { obj(m, "person")["name"] = "@@NAME@@" })
		return []byte(strings.Replace(string(line), "@@NAME@@", raw, 1))
	}
	tests := []struct {
		name string
		line []byte
		want []string
	}{
		{"invalid UTF-8 in the name", replaceName("\xff\xfe"), []string{"person.name", "UTF-8"}},
		{"lone surrogate escape in the name", replaceName(`\ud800`), []string{"person.name"}},
		{"NUL in the phone", mutateLine(t, func(m map[string]any) { obj(m, "person")["phone"] = "138\x0000000000" }), []string{"person.phone", "U+0000"}},
		{"NUL in the qualification number", mutateLine(t, func(m map[string]any) { obj(m, "qualification")["certificate_no"] = "LN2020\x00" }), []string{"qualification.certificate_no", "U+0000"}},
		{"bidi override in the name", mutateLine(t, func(m map[string]any) { obj(m, "person")["name"] = "张\u202e三" }), []string{"person.name", "U+202E"}},
		{"zero-width space in the employer", mutateLine(t, func(m map[string]any) {
			obj(m, "registration", "employer")["name"] = "某建设\u200b集团有限公司"
		}), []string{"registration.employer.name", "U+200B"}},
		{"line separator in the specialty", mutateLine(t, func(m map[string]any) { obj(m, "qualification")["specialty"] = "建筑\u2028工程" }), []string{"qualification.specialty", "U+2028"}},
		{"BOM inside the line", append([]byte("\ufeff"), validLine(t)...), []string{"byte order mark"}},
		{"invalid UTF-8 in a field name", []byte(strings.Replace(string(validLine(t)), `"case_id"`, "\"\xff\":1,\"case_id\"", 1)), []string{"(a field name): not valid UTF-8"}},
		{"invalid UTF-8 in the second specialty", []byte(strings.Replace(string(mutateLine(t, func(m map[string]any) {
			obj(m, "registration")["specialties"] = []any{map[string]any{"code": "10401001"}, map[string]any{"code": "10401002", "name": "@@"}}
		})), "@@", "\xc3", 1)), []string{"registration.specialties[1].name: not valid UTF-8 (byte 0xC3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := intake.Decode(tt.line)
			if err == nil {
				t.Fatalf("accepted: %q", tt.line)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestScannerBOMAndInvalidUTF8(t *testing.T) {
	good := string(validLine(t))
	bad := strings.Replace(good, `"phone":"`, "\"phone\":\"\xff", 1)
	input := "\ufeff" + good + "\n" + bad + "\n" + good + "\n"
	s := intake.NewScanner(strings.NewReader(input))
	var errs []string
	for s.Scan() {
		if err := s.Line().Err; err != nil {
			errs = append(errs, err.Error())
		} else {
			errs = append(errs, "")
		}
	}
	if len(errs) != 3 || errs[0] != "" || errs[2] != "" {
		t.Fatalf("lines: %q, want the first and third accepted", errs)
	}
	for _, w := range []string{"person.phone", "UTF-8"} {
		if !strings.Contains(errs[1], w) {
			t.Errorf("line 2 error %q does not mention %q", errs[1], w)
		}
	}
}

var idShaped = regexp.MustCompile(`[0-9]{17}[0-9Xx]`)

// Every message the decoder produces masks an ID number, wherever in the
// line it was put: in any field, in a field name, quoted or not.
func TestErrorsMaskIDNumbersEverywhere(t *testing.T) {
	const id = "21010219850716093X"
	put := map[string]func(m map[string]any){
		"case_id":          func(m map[string]any) { m["case_id"] = id + "!" },
		"business_type":    func(m map[string]any) { m["business_type"] = id },
		"approved_on":      func(m map[string]any) { m["approved_on"] = id },
		"notice_end":       func(m map[string]any) { m["notice_end"] = id },
		"unknown field":    func(m map[string]any) { m[id] = 1 },
		"nested unknown":   func(m map[string]any) { obj(m, "person")[id] = id },
		"person.name":      func(m map[string]any) { obj(m, "person")["name"] = id + "\x00" },
		"person.phone":     func(m map[string]any) { obj(m, "person")["phone"] = id + "0000" },
		"id_number check":  func(m map[string]any) { obj(m, "person")["id_number"] = id[:17] + "1" },
		"reg number":       func(m map[string]any) { obj(m, "registration")["number"] = id },
		"reg number quote": func(m map[string]any) { obj(m, "registration")["number"] = `"` + id },
		"employer name":    func(m map[string]any) { obj(m, "registration", "employer")["name"] = strings.Repeat(id, 6) },
		"credit code":      func(m map[string]any) { obj(m, "registration", "employer")["credit_code"] = id },
		"specialty code": func(m map[string]any) {
			obj(m, "registration")["specialties"] = []any{map[string]any{"code": id}}
		},
		"specialty name": func(m map[string]any) {
			obj(m, "registration")["specialties"] = []any{map[string]any{"code": "10401001", "name": id}}
		},
		"valid_from":       func(m map[string]any) { obj(m, "registration")["valid_from"] = id },
		"qualification no": func(m map[string]any) { obj(m, "qualification")["certificate_no"] = strings.Repeat(id, 4) },
		"qualification specialty": func(m map[string]any) {
			obj(m, "qualification")["specialty"] = id + "\u202e"
		},
		"wrong type": func(m map[string]any) { obj(m, "person")["phone"] = map[string]any{id: id} },
	}
	for name, f := range put {
		t.Run(name, func(t *testing.T) {
			line := mutateLine(t, f)
			_, err := intake.Decode(line)
			if err == nil {
				t.Fatalf("accepted: %s", line)
			}
			if idShaped.MatchString(err.Error()) {
				t.Errorf("error shows an ID number: %v", err)
			}
		})
	}
}
