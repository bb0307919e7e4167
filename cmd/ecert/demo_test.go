package main

import (
	"regexp"
	"strings"
	"testing"
)

var demoPress = regexp.MustCompile(`press \d, 用途 [^:]*: copy (C[0-9a-f]+)`)

// The quick start's first command must keep working: it imports, checks,
// issues, re-stamps and verifies on embedded defaults, and twice in a row.
func TestDemoRunsOnEmbeddedDefaults(t *testing.T) {
	dir := t.TempDir()
	for run := 1; run <= 2; run++ {
		out, err := runCLI(t, "--data-dir", dir, "demo")
		if err != nil {
			t.Fatalf("demo run %d: %v\n%s", run, err, out)
		}
		for _, want := range []string{"line 101: ", "line 152: ", "[renewal_window]", "✔ 可以申报", "[age_over_65]",
			"press 2, 用途 投标（演示）: copy", "from cache", "press 3, 用途 资格预审（演示）: copy", "[registration_expired]"} {
			if !strings.Contains(out, want) {
				t.Errorf("demo run %d output lacks %q", run, want)
			}
		}
		presses := demoPress.FindAllStringSubmatch(out, -1)
		if len(presses) != 3 || presses[0][1] != presses[1][1] || presses[2][1] == presses[0][1] {
			t.Errorf("demo run %d: presses %v; want the same copy twice, then another for the other purpose", run, presses)
		}
		if n := strings.Count(out, "VALID   "); n != 3 || strings.Contains(out, "INVALID") {
			t.Errorf("demo run %d: %d files verified valid, want 3\n%s", run, n, out)
		}
		if run == 1 && !strings.Contains(out, "205 issued") {
			t.Errorf("first run did not issue 205 certificates:\n%s", out)
		}
		if run == 2 && !strings.Contains(out, "205 skipped") {
			t.Errorf("second run re-issued certificates:\n%s", out)
		}
	}
}
