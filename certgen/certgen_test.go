package certgen

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecert/ecert/internal/testenv"
)

func TestSecondTemplateWithoutCodeChanges(t *testing.T) {
	tmpl, err := LoadTemplate(os.DirFS("testdata"), "card.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(tmpl, Options{VerifyBaseURL: testBaseURL})
	if err != nil {
		t.Fatal(err)
	}
	c := loadRecord(t, "zhang.json")
	b, err := r.PDF(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.SealRectPDF(); got.W < 79 || got.W > 80 {
		t.Errorf("seal rect %+v: want 28 mm = 79.37 pt wide", got)
	}
	fn := filepath.Join(t.TempDir(), "card.pdf")
	os.WriteFile(fn, b, 0o644)
	out, err := exec.Command(testenv.Tool(t, "pdftotext"), fn, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"注册证书（卡）", c.HolderName, c.IDNumber, "1. 建筑工程 2028年03月31日"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("card PDF text lacks %q:\n%s", want, out)
		}
	}
	info, err := exec.Command(testenv.Tool(t, "pdfinfo"), fn).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(info), "340.16 x 226.77 pts") {
		t.Errorf("card page size wrong:\n%s", info)
	}
}

func TestMissingGlyphNamesCharacterAndField(t *testing.T) {
	r := defaultRenderer(t)
	c := loadRecord(t, "zhang.json")
	c.Employer = "沈阳\U0002A6D6建设公司" // CJK Ext-B character outside the shipped subset
	_, err := r.PDF(context.Background(), c)
	if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "U+2A6D6") || !strings.Contains(err.Error(), "employer") {
		t.Fatalf("want an error naming U+2A6D6 and employer, got %v", err)
	}
	c = loadRecord(t, "zhang.json")
	c.HolderName = "张\u0E01" // Thai: no shipped font
	if _, err := r.OFD(context.Background(), c); err == nil || !strings.Contains(err.Error(), "U+0E01") || !strings.Contains(err.Error(), "holder_name") {
		t.Fatalf("OFD: want an error naming U+0E01 and holder_name, got %v", err)
	}
}

func TestTooLongFieldIsRefused(t *testing.T) {
	tmpl, err := LoadTemplate(os.DirFS("testdata"), "card.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(tmpl, Options{VerifyBaseURL: testBaseURL})
	if err != nil {
		t.Fatal(err)
	}
	c := loadRecord(t, "zhang.json")
	c.Employer = strings.Repeat("建", 60)
	_, err = r.PDF(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("want a too-long error, got %v", err)
	}
}

func TestToUnicodeSurrogatePairs(t *testing.T) {
	r := defaultRenderer(t)
	c := loadRecord(t, "zhang.json")
	b, err := r.PDF(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("<D842DFB7>")) { // 𠮷 U+20BB7
		t.Error("ToUnicode lacks the surrogate pair of U+20BB7")
	}
	if nonBMPDestination.Match(b) {
		t.Error("a 5/6-digit ToUnicode destination is left")
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) || !bytes.HasSuffix(b, []byte("%%EOF\n")) || bytes.Contains(b, []byte("/ObjStm")) || bytes.Contains(b, []byte("/XRef")) {
		t.Error("PDF is not a plain classic-xref file ending in the EOF marker")
	}
}

func TestRecordValidation(t *testing.T) {
	good, _ := os.ReadFile("testdata/zhang.json")
	cases := map[string]string{
		"unknown field": strings.Replace(string(good), `"gender"`, `"sex": "男", "gender"`, 1),
		"bad id":        strings.Replace(string(good), "21010219850716093X", "210102198507160931", 1),
		"gender":        strings.Replace(string(good), `"男"`, `"女"`, 1),
		"trailing":      string(good) + "{}",
		"no specialty":  strings.Replace(string(good), `"specialties": [`, `"specialties": [], "x": [`, 1),
		"code with O":   strings.Replace(string(good), `"K7QM9XR2HT"`, `"K7QM9XR2HO"`, 1),
		"code short":    strings.Replace(string(good), `"K7QM9XR2HT"`, `"K7QM9XR2H"`, 1),
		"code lower":    strings.Replace(string(good), `"K7QM9XR2HT"`, `"k7qm9xr2ht"`, 1),
	}
	for name, rec := range cases {
		if _, err := ParseRecord(strings.NewReader(rec)); err == nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: want ErrInvalid, got %v", name, err)
		}
	}
	_, err := ParseRecord(strings.NewReader(strings.Replace(string(good), "21010219850716093X", "210102198507160931", 1)))
	if err != nil && strings.Contains(err.Error(), "210102198507160931") {
		t.Error("error message repeats the full ID number")
	}
}

func FuzzParseRecord(f *testing.F) {
	for _, n := range []string{"zhang.json", "wang-copy.json"} {
		b, _ := os.ReadFile(filepath.Join("testdata", n))
		f.Add(b)
	}
	f.Add([]byte(`{"holder_name":"\u0000"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseRecord(bytes.NewReader(b))
		if err != nil {
			if c != nil {
				t.Fatal("certificate returned with an error")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed record fails validation: %v", err)
		}
	})
}

func FuzzParseTemplate(f *testing.F) {
	b, _ := os.ReadFile("testdata/card.json")
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		tm, err := ParseTemplate(b)
		if err == nil && tm.check() != nil {
			t.Fatal("accepted template fails its own check")
		}
	})
}
