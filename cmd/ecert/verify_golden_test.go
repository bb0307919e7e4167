package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/signing/signtest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// normalizers replace what differs from run to run in verify's output.
var normalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\b[0-9a-f]{64}\b`), "<sha256>"},
	{regexp.MustCompile(`\(serial [0-9a-f]+\)`), "(serial <hex>)"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`), "<time>"},
	{regexp.MustCompile(`of \d+ bytes`), "of <n> bytes"},
}

func normalize(out string, dirs map[string]string) string {
	for dir, name := range dirs {
		out = strings.ReplaceAll(out, dir, name)
	}
	for _, n := range normalizers {
		out = n.re.ReplaceAllString(out, n.with)
	}
	return out
}

// TestVerifyOutputGolden pins what people read: the full report of one file
// (with a root, without one, with a development root) and the lines and
// summary of several. go test -run VerifyOutputGolden -update rewrites them.
func TestVerifyOutputGolden(t *testing.T) {
	docs, devDocs := t.TempDir(), t.TempDir()
	pdf, _, root := signedFiles(t, docs, "good", signtest.NewCA(t, time.Now()))
	devPDF, _, devRoot := signedFiles(t, devDocs, "dev", developmentCA(t))
	os.WriteFile(filepath.Join(docs, "bad.pdf"), append(mustRead(t, pdf), "\n% appended\n"...), 0o644)
	dirs := map[string]string{docs: "<docs>", devDocs: "<dev>", filepath.Dir(root): "<roots>", filepath.Dir(devRoot): "<devroots>"}
	tests := []struct {
		golden string
		args   []string
	}{
		{"verify-pdf.golden", []string{"--trust", root, pdf}},
		{"verify-no-root.golden", []string{pdf}},
		{"verify-development-root.golden", []string{"--trust", devRoot, devPDF}},
		{"verify-many.golden", []string{"--trust", root, "--trust", devRoot, docs, devPDF, filepath.Join(docs, "missing.pdf")}},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			out, _, _ := verifyRun(t, tc.args...)
			got := normalize(out, dirs)
			path := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}
