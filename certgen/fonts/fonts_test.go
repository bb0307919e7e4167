package fonts

import (
	"os"
	"testing"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

func load(t testing.TB, name string) *Font {
	t.Helper()
	b, err := os.ReadFile("../../templates/fonts/" + name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(name, b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The subset must be a valid font for an independent parser and keep each
// character's glyph outline and advance.
func TestSubsetReadableByIndependentParser(t *testing.T) {
	for _, tc := range []struct{ font, text string }{
		{"DroidSansFallbackFull.ttf", "张堃喆王䶮，：（）中华人民共和国"},
		{"DejaVuSans.ttf", "0123456789X.-:/ABCabc"},
		{"HanaMinB-subset.ttf", "𠮷"},
	} {
		f := load(t, tc.font)
		sub, err := f.Subset([]rune(tc.text))
		if err != nil {
			t.Fatal(err)
		}
		if len(sub) > 64<<10 {
			t.Errorf("%s: subset of %d characters is %d bytes", tc.font, len([]rune(tc.text)), len(sub))
		}
		orig, _ := sfnt.Parse(f.Bytes())
		sf, err := sfnt.Parse(sub)
		if err != nil {
			t.Fatalf("%s: x/image/font/sfnt rejects the subset: %v", tc.font, err)
		}
		var b1, b2 sfnt.Buffer
		for _, r := range tc.text {
			g2, err := sf.GlyphIndex(&b2, r)
			if err != nil || g2 == 0 {
				t.Fatalf("%s: subset lacks %q: %v", tc.font, r, err)
			}
			g1, _ := orig.GlyphIndex(&b1, r)
			s1, err1 := orig.LoadGlyph(&b1, g1, fixed.I(1000), nil)
			n1 := len(s1)
			s2, err2 := sf.LoadGlyph(&b2, g2, fixed.I(1000), nil)
			if err1 != nil || err2 != nil || n1 != len(s2) {
				t.Errorf("%s %q: outline differs (%d vs %d segments, %v %v)", tc.font, r, n1, len(s2), err1, err2)
			}
			a1, _ := orig.GlyphAdvance(&b1, g1, fixed.I(1000), 0)
			a2, _ := sf.GlyphAdvance(&b2, g2, fixed.I(1000), 0)
			if a1 != a2 {
				t.Errorf("%s %q: advance %v, want %v", tc.font, r, a2, a1)
			}
		}
		back, err := Parse("subset", sub)
		if err != nil {
			t.Fatalf("own parser rejects subset: %v", err)
		}
		for _, r := range tc.text {
			if back.RuneAdvance(r) != f.RuneAdvance(r) {
				t.Errorf("%q: advance changed", r)
			}
		}
	}
}

func TestRequiredCoverage(t *testing.T) {
	fs := []*Font{load(t, "DroidSansFallbackFull.ttf"), load(t, "DejaVuSans.ttf"), load(t, "HanaMinB-subset.ttf")}
	for _, r := range "堃喆䶮𠮷，。：；（）【】“”0123456789X" {
		ok := false
		for _, f := range fs {
			ok = ok || f.Has(r)
		}
		if !ok {
			t.Errorf("no shipped font covers %q (U+%04X)", r, r)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for name, b := range map[string][]byte{
		"ttc":   []byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x00"),
		"cff":   []byte("OTTO\x00\x00\x00\x00\x00\x00\x00\x00"),
		"short": []byte("\x00\x01"),
	} {
		if _, err := Parse(name, b); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	b, _ := os.ReadFile("../../templates/fonts/HanaMinB-subset.ttf")
	f.Add(b[:4096])
	sub, _ := func() ([]byte, error) {
		ft, err := Parse("x", b)
		if err != nil {
			return nil, err
		}
		return ft.Subset([]rune("𠮷"))
	}()
	f.Add(sub)
	f.Fuzz(func(t *testing.T, data []byte) {
		ft, err := Parse("fuzz", data)
		if err != nil {
			return
		}
		for _, r := range ft.Runes() {
			ft.RuneAdvance(r)
		}
		if rs := ft.Runes(); len(rs) > 0 && len(rs) < 50 {
			ft.Subset(rs)
		}
	})
}
