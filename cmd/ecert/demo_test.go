package main

import (
	"regexp"
	"strconv"
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
		if n := strings.Count(out, "VALID (development root, not for production): "); n != 3 || strings.Contains(out, "INVALID") {
			t.Errorf("demo run %d: %d files verified valid, want 3\n%s", run, n, out)
		}
		checkDemoSummary(t, run, out)
	}
}

var demoSummary = regexp.MustCompile(`205 cases: (\d+) issued, (\d+) skipped \(already issued\), 0 invalidated \(cancellations\), (\d+) refused \(registration no longer in force\), 0 failed`)

// checkDemoSummary: every case is issued (first run) or skipped (second run)
// unless its registration has ended by today, and those are refused as
// expired, never issued (issue 13 item 10).
func checkDemoSummary(t *testing.T, run int, out string) {
	t.Helper()
	m := demoSummary.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("demo run %d: no summary of 205 cases without failures:\n%s", run, out)
	}
	issued, skipped, refused := atoi(m[1]), atoi(m[2]), atoi(m[3])
	done := map[int]int{1: issued, 2: skipped}[run]
	if done+refused != 205 || done < 5 {
		t.Errorf("demo run %d: %d issued, %d skipped, %d refused of 205:\n%s", run, issued, skipped, refused, out)
	}
	if refused > 0 && !strings.Contains(out, "✘ [registration_expired] 注册有效期至 ") {
		t.Errorf("demo run %d: refusals without the domain's reason:\n%s", run, out)
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
