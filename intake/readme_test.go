package intake_test

import (
	"bytes"
	"os"
	"regexp"
	"testing"

	"github.com/ecert/ecert/intake"
)

// The record shown in the README must be one the decoder accepts.
func TestREADMEExampleDecodes(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```json\n(\\{\"case_id\".*?)\n```").FindSubmatch(b)
	if m == nil {
		t.Fatal("README has no NDJSON example")
	}
	line := bytes.ReplaceAll(m[1], []byte("\n"), nil)
	a, err := intake.Decode(line)
	if err != nil {
		t.Fatalf("README example refused: %v", err)
	}
	if a.Person.Name != "张𠮷" {
		t.Fatalf("name %q", a.Person.Name)
	}
}
