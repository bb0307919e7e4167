package intake_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/sampledata"
)

func validLine(t testing.TB) []byte {
	a := sampledata.Generate(1, sampledata.Options{Seed: 1})[0]
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeValid(t *testing.T) {
	for i, a := range sampledata.Generate(500, sampledata.Options{Seed: 7}) {
		b, _ := json.Marshal(a)
		got, err := intake.Decode(b)
		if err != nil {
			t.Fatalf("sample %d does not decode: %v\n%s", i, err, b)
		}
		if got.CaseID != a.CaseID || got.Person.Name != a.Person.Name {
			t.Fatalf("sample %d: round trip changed the record", i)
		}
	}
}

func TestDecodeRefusals(t *testing.T) {
	base := validLine(t)
	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(base, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	reg := func(m map[string]any) map[string]any { return m["registration"].(map[string]any) }
	tests := []struct {
		name string
		line []byte
		want []string
	}{
		{"not json", []byte(`{"case_id":`), []string{"malformed JSON"}},
		{"two values", append(append([]byte{}, base...), []byte(` {}`)...), []string{"more than one value"}},
		{"unknown field", mutate(func(m map[string]any) { m["extra"] = 1 }), []string{"unknown field"}},
		{"bad check digit", mutate(func(m map[string]any) {
			p := m["person"].(map[string]any)
			id := p["id_number"].(string)
			last := byte('0')
			if id[17] == '0' {
				last = '1'
			}
			p["id_number"] = id[:17] + string(last)
		}), []string{"person.id_number", "check character"}},
		{"every problem at once", mutate(func(m map[string]any) {
			m["case_id"] = ""
			m["business_type"] = "promotion"
			reg(m)["specialties"] = []any{}
			reg(m)["employer"] = map[string]any{"name": "", "credit_code": "123"}
		}), []string{"case_id", "business_type: unknown", "specialties", "employer.name", "credit_code"}},
		{"unknown specialty", mutate(func(m map[string]any) {
			reg(m)["specialties"] = []any{map[string]any{"name": "园林工程"}}
		}), []string{"unknown specialty"}},
		{"code and name disagree", mutate(func(m map[string]any) {
			reg(m)["specialties"] = []any{map[string]any{"code": "10401001", "name": "公路工程"}}
		}), []string{"10401001 is 建筑工程"}},
		{"validity reversed", mutate(func(m map[string]any) {
			reg(m)["valid_from"], reg(m)["valid_until"] = reg(m)["valid_until"], reg(m)["valid_from"]
		}), []string{"not after valid_from"}},
		{"notice missing", mutate(func(m map[string]any) { m["business_type"] = "initial"; delete(m, "notice_end") }), []string{"notice_end: required"}},
		{"bad registration number", mutate(func(m map[string]any) { reg(m)["number"] = "X123" }), []string{"registration.number"}},
		{"bad date", mutate(func(m map[string]any) { m["approved_on"] = "2025-02-30" }), []string{"malformed JSON", "2025-02-30"}},
		{"control char in name", mutate(func(m map[string]any) { m["person"].(map[string]any)["name"] = "张\u0000三" }), []string{"person.name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := intake.Decode(tt.line)
			if err == nil {
				t.Fatalf("accepted: %s", tt.line)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestErrorsNeverContainFullIDNumber(t *testing.T) {
	a := sampledata.Generate(1, sampledata.Options{Seed: 3})[0]
	id := a.Person.IDNumber
	a.Person.IDNumber = id[:17] + "Z"
	a.Registration.Number = id
	b, _ := json.Marshal(a)
	_, err := intake.Decode(b)
	if err == nil {
		t.Fatal("accepted a bad record")
	}
	if strings.Contains(err.Error(), id[:17]) {
		t.Fatalf("error leaks the ID number: %v", err)
	}
}

func TestScannerLinesAndLimits(t *testing.T) {
	good := string(validLine(t))
	input := good + "\n\n   \n" + "{broken\n" + strings.Repeat("x", intake.MaxLineBytes+10) + "\n" + good
	s := intake.NewScanner(strings.NewReader(input))
	type got struct {
		no int
		ok bool
	}
	var lines []got
	total := 0
	for s.Scan() {
		l := s.Line()
		lines = append(lines, got{l.No, l.Err == nil})
		total += l.Bytes
	}
	if s.Err() != nil {
		t.Fatal(s.Err())
	}
	want := []got{{1, true}, {4, false}, {5, false}, {6, true}}
	if len(lines) != len(want) {
		t.Fatalf("lines = %v, want %v", lines, want)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Fatalf("line %d = %v, want %v", i, lines[i], want[i])
		}
	}
	if total != len(input) {
		t.Errorf("bytes consumed %d, input %d", total, len(input))
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(validLine(f))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"case_id":"A","registration":{"specialties":[{"name":"建筑工程"}]}}`))
	f.Add([]byte(`[1,2,3]`))
	f.Fuzz(func(t *testing.T, line []byte) {
		a, err := intake.Decode(line)
		if err != nil {
			return
		}
		// Anything accepted must validate again and survive a round trip.
		if err := a.Validate(); err != nil {
			t.Fatalf("accepted record fails validation: %v", err)
		}
		renderable(t, a)
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := intake.Decode(b); err != nil {
			t.Fatalf("re-encoded record refused: %v", err)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	line := validLine(b)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := intake.Decode(line); err != nil {
			b.Fatal(err)
		}
	}
}
