package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/storage/registry"
)

func ndjson(t *testing.T, recs ...any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// `-` reads the approvals from standard input, for import and issue --from.
func TestImportAndIssueReadStandardInput(t *testing.T) {
	dir := t.TempDir()
	conf.Database = ""
	recs := sampledata.Generate(2, sampledata.Options{Seed: 91, Prefix: "STDIN", Base: registration.Today(time.Now()).AddDays(-40)})
	rootCmd.SetIn(strings.NewReader(ndjson(t, recs[0])))
	t.Cleanup(func() { rootCmd.SetIn(nil) })
	out, err := runCLI(t, "--data-dir", dir, "import", "-q", "-")
	if err != nil || !strings.Contains(out, "1 new") {
		t.Fatalf("import -: %v\n%s", err, out)
	}
	rootCmd.SetIn(strings.NewReader(ndjson(t, recs[1])))
	out, err = runCLI(t, "--data-dir", dir, "issue", "-q", "--from", "-")
	if err != nil {
		t.Fatalf("issue --from -: %v\n%s", err, out)
	}
	reg, err := registry.Open(context.Background(), filepath.Join(dir, "ecert.db"), registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	if _, err := reg.CertificateByCase(context.Background(), recs[1].CaseID); err != nil {
		t.Fatalf("the case read from stdin was not issued: %v\n%s", err, out)
	}
}

var idShaped = regexp.MustCompile(`[0-9]{17}[0-9Xx]`)

// What `ecert import` prints and writes to --rejects never holds a full ID
// number, wherever the input put one: in a field, as a field name, as a case
// id the registry reports on.
func TestImportOutputMasksIDNumbers(t *testing.T) {
	ctx := context.Background()
	reg, err := registry.Open(ctx, filepath.Join(t.TempDir(), "r.db"), registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	recs := sampledata.Generate(2, sampledata.Options{Seed: 92})
	id := recs[1].Person.IDNumber
	good := ndjson(t, recs[0])
	lines := []string{good}
	for _, field := range []string{`"business_type"`, `"approved_on"`, `"case_id"`} {
		lines = append(lines, strings.Replace(good, field+`:"`, field+`:"`+id, 1))
	}
	lines = append(lines,
		strings.Replace(good, `"case_id"`, `"`+id+`":1,"case_id"`, 1),                                      // a field name
		strings.Replace(good, `"number":"`, `"number":"\"`+id, 1),                                          // a quote before it
		strings.Replace(good, `"credit_code":"`, `"credit_code":"`+id+`","x":"`, 1),                        // and an unknown field
		strings.Replace(good, `"case_id":"`+recs[0].CaseID, `"case_id":"`+id, 1)+"\n",                      // a case id that is one: refused
		strings.Replace(strings.Replace(good, recs[0].Person.IDNumber, id, 1), recs[0].CaseID, id+"-2", 1), // a case id starting with one
	)
	var stderr, rejects bytes.Buffer
	s, err := runImport(ctx, reg, strings.NewReader(strings.Join(lines, "")), -1, importOptions{stderr: &stderr, rejects: &rejects})
	if err != nil {
		t.Fatal(err)
	}
	if s.Rejected != 7 || s.Inserted != 2 {
		t.Fatalf("%+v: want 7 lines rejected, 2 recorded\n%s", s, stderr.String())
	}
	for name, out := range map[string]string{"terminal": stderr.String(), "rejects file": rejects.String()} {
		if m := idShaped.FindAllString(out, -1); len(m) > 0 {
			t.Errorf("%s shows ID numbers %q:\n%s", name, m, out)
		}
	}
}
