package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/storage/registry"
)

func writeNDJSON(t *testing.T, path string, recs ...intake.Approval) {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A line repeating a recorded case id with another name and phone is a
// rejected line (exit 3) naming the fields, for `ecert import` and for
// `ecert issue --from`; the person keeps the recorded name and phone and the
// conflicting line is not issued.
func TestImportAndIssueRejectConflictingCase(t *testing.T) {
	dir := t.TempDir()
	recs := sampledata.Generate(2, sampledata.Options{Seed: 62, Base: registration.Today(time.Now()).AddDays(-30)})
	first := filepath.Join(dir, "first.ndjson")
	writeNDJSON(t, first, recs...)
	if out, err := runCLI(t, "--data-dir", dir, "import", "-q", first); err != nil {
		t.Fatalf("first import: %v\n%s", err, out)
	}
	changed := recs[0]
	changed.Person.Name = "欧阳某某"
	changed.Person.Phone = "13912345678"
	second := filepath.Join(dir, "second.ndjson")
	writeNDJSON(t, second, changed, recs[1])

	for _, args := range [][]string{{"import", "-q", second}, {"issue", "-q", "--from", second}} {
		t.Run(args[0], func(t *testing.T) {
			out, err := runCLI(t, append([]string{"--data-dir", dir}, args...)...)
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != exitRejected {
				t.Fatalf("exit: %v, want code %d\n%s", err, exitRejected, out)
			}
			if !strings.Contains(out, "line 1: case "+recs[0].CaseID) || !strings.Contains(out, "person.name, person.phone differ") {
				t.Errorf("report lacks the conflict of line 1:\n%s", out)
			}
			if strings.Contains(out, "line 2:") || strings.Contains(out, changed.Person.Name) || strings.Contains(out, changed.Person.Phone) {
				t.Errorf("report shows more than the conflicting fields:\n%s", out)
			}
		})
	}
	reg, err := registry.Open(context.Background(), filepath.Join(dir, "ecert.db"), registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	p, err := reg.Person(context.Background(), recs[0].Person.IDNumber)
	if err != nil || p.Name != recs[0].Person.Name || p.Phone != recs[0].Person.Phone {
		t.Errorf("person after the conflicts: %+v %v", p, err)
	}
	if _, err := reg.CertificateByCase(context.Background(), recs[0].CaseID); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("the conflicting case was issued: %v", err)
	}
	if _, err := reg.CertificateByCase(context.Background(), recs[1].CaseID); err != nil {
		t.Errorf("the good line was not issued: %v", err)
	}
}
