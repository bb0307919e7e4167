package certgen

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
)

// fill repeats the runes of pattern after prefix up to n runes, ending in suffix.
func fill(n int, prefix, pattern, suffix string) string {
	s := []rune(prefix)
	p := []rune(pattern)
	for i := 0; len(s) < n-utf8.RuneCountInString(suffix); i++ {
		s = append(s, p[i%len(p)])
	}
	return string(s) + suffix
}

// Longest values intake accepts: a holder name of MaxPersonNameRunes and a
// group company's branch of MaxEmployerNameRunes, rare characters included.
var (
	longestName     = fill(registration.MaxPersonNameRunes, "阿卜杜热合曼·", "𠮷䶮堃喆买提明", "")
	longestEmployer = fill(registration.MaxEmployerNameRunes, "中国建筑第八工程局有限公司（辽宁分公司沈阳经济技术开发区项目部",
		"浑南区城乡建设与基础设施𠮷投资开发集团第三工程分公司", "）")
)

// TestLongestAcceptedValuesRender: what intake accepts, the template prints
// (OFD and PDF, wrapped where needed), and one character more is refused by
// both intake and the renderer.
func TestLongestAcceptedValuesRender(t *testing.T) {
	a := sampledata.Generate(1, sampledata.Options{Seed: 5})[0]
	decode := func(name, employer string) error {
		a.Person.Name, a.Registration.Employer.Name = name, employer
		line, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		_, err = intake.Decode(line)
		return err
	}
	if err := decode(longestName, longestEmployer); err != nil {
		t.Fatalf("intake refuses the longest values: %v", err)
	}
	if err := decode(longestName+"堃", longestEmployer); err == nil || !strings.Contains(err.Error(), "person.name") {
		t.Errorf("intake accepts a name of %d characters: %v", registration.MaxPersonNameRunes+1, err)
	}
	if err := decode(longestName, longestEmployer+"司"); err == nil || !strings.Contains(err.Error(), "registration.employer.name") {
		t.Errorf("intake accepts an employer of %d characters: %v", registration.MaxEmployerNameRunes+1, err)
	}

	r := defaultRenderer(t)
	c := loadRecord(t, "zhang.json")
	c.HolderName, c.Employer = longestName, longestEmployer
	ofd, err := r.OFD(context.Background(), c)
	if err != nil || len(ofd) == 0 {
		t.Fatalf("OFD of the longest values: %v", err)
	}
	pdf, err := r.PDF(context.Background(), c)
	if err != nil {
		t.Fatalf("PDF of the longest values: %v", err)
	}
	fn := filepath.Join(t.TempDir(), "longest.pdf")
	if err := os.WriteFile(fn, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(testenv.Tool(t, "pdftotext"), fn, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(out)), "")
	for _, want := range []string{longestName, longestEmployer} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q:\n%s", want, out)
		}
	}

	for _, tc := range []struct{ field, name, employer string }{
		{"holder_name", longestName + "堃", longestEmployer},
		{"employer", longestName, longestEmployer + "司"},
	} {
		c.HolderName, c.Employer = tc.name, tc.employer
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("renderer accepts one more character in %s: %v", tc.field, err)
		}
	}
}
