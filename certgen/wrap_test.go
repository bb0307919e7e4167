package certgen

import (
	"os"
	"strings"
	"testing"
)

// TestFitText: one line at the template size, shrunk by up to a tenth, else
// wrapped (before an opening bracket when it can, never before a closing
// one) at the largest size that fits, else refused.
func TestFitText(t *testing.T) {
	// Every rune 1 em wide: at 12 pt a line of 42.33 mm holds 10 runes.
	width := 10 * 12 / ptPerMM
	for _, tc := range []struct {
		name     string
		text     string
		maxLines int
		size     float64 // want
		lines    []string
		err      bool
	}{
		{"fits", "一二三四五六七八九十", 2, 12, []string{"一二三四五六七八九十"}, false},
		{"shrinks a little", "一二三四五六七八九十甲", 2, 12 * 10 / 11.0, []string{"一二三四五六七八九十甲"}, false},
		{"one line only: shrinks", "一二三四五六七八九十甲乙丙", 1, 12 * 10 / 13.0, []string{"一二三四五六七八九十甲乙丙"}, false},
		{"one line only: too long", strings.Repeat("一", 14), 1, 0, nil, true},
		{"wraps before a bracket", "沈阳建设公司（沈阳项目部）", 2, 12, []string{"沈阳建设公司", "（沈阳项目部）"}, false},
		{"bracket too early: greedy", "沈阳（建设公司沈阳项目部）", 2, 12, []string{"沈阳（建设公司沈阳项", "目部）"}, false},
		{"bracket in the second half", "一二三四五六七（八九十甲乙）", 2, 12, []string{"一二三四五六七", "（八九十甲乙）"}, false},
		{"no line starts with a closing bracket", "一二三四五六七八九十）甲", 2, 12, []string{"一二三四五六七八九", "十）甲"}, false},
		{"shrinks to fit two lines", strings.Repeat("一", 22), 2, 10.75, []string{strings.Repeat("一", 11), strings.Repeat("一", 11)}, false},
		{"too long for two lines", strings.Repeat("一", 28), 2, 0, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runes := []rune(tc.text)
			ems := make([]float64, len(runes))
			for i := range ems {
				ems[i] = 1
			}
			x := Text{Size: 12, MinSize: 9, MaxWidth: width, MaxLines: tc.maxLines}
			size, lines, err := fitText(x, runes, ems)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if tc.err {
				return
			}
			var got []string
			for _, l := range lines {
				got = append(got, string(runes[l[0]:l[1]]))
			}
			if diff := size - tc.size; diff > 1e-9 || diff < -1e-9 || strings.Join(got, "|") != strings.Join(tc.lines, "|") {
				t.Errorf("got %.3f pt %q, want %.3f pt %q", size, got, tc.size, tc.lines)
			}
		})
	}
}

// TestTemplateWrapSettings: wrapping needs a width, and the line settings
// are bounded.
func TestTemplateWrapSettings(t *testing.T) {
	base, err := os.ReadFile("../templates/ejz-registration.json")
	if err != nil {
		t.Fatal(err)
	}
	const employer = `"max_width": 162, "max_lines": 2, "line_height": 1.15`
	if !strings.Contains(string(base), employer) {
		t.Fatalf("template no longer has %s", employer)
	}
	for _, tc := range []struct {
		settings string
		ok       bool
	}{
		{employer, true},
		{`"max_width": 162, "max_lines": 3`, true},
		{`"max_lines": 2`, false},
		{`"max_width": 162, "max_lines": -1`, false},
		{`"max_width": 162, "max_lines": 11`, false},
		{`"max_width": 162, "max_lines": 2, "line_height": 0.5`, false},
	} {
		_, err := ParseTemplate([]byte(strings.Replace(string(base), employer, tc.settings, 1)))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok %v", tc.settings, err, tc.ok)
		}
	}
}
