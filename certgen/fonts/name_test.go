package fonts

import (
	"testing"

	"golang.org/x/image/font/sfnt"
)

// Subsets keep the identifying names (family, PostScript name) and drop
// the long records such as DejaVu's 15 KB licence text.
func TestSubsetNameTable(t *testing.T) {
	for _, n := range []string{"DroidSansFallbackFull.ttf", "DejaVuSans.ttf", "HanaMinB-subset.ttf"} {
		f := load(t, n)
		sub, err := f.Subset([]rune("0"))
		if n == "HanaMinB-subset.ttf" {
			sub, err = f.Subset([]rune("𠮷"))
		} else if n == "DroidSansFallbackFull.ttf" {
			sub, err = f.Subset([]rune("张"))
		}
		if err != nil {
			t.Fatal(err)
		}
		orig, err := sfnt.Parse(f.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		sf, err := sfnt.Parse(sub)
		if err != nil {
			t.Fatalf("%s: subset does not parse: %v", n, err)
		}
		var b sfnt.Buffer
		for _, id := range []sfnt.NameID{sfnt.NameIDFamily, sfnt.NameIDFull, sfnt.NameIDPostScript} {
			want, err1 := orig.Name(&b, id)
			got, err2 := sf.Name(&b, id)
			if err1 != nil || err2 != nil || got != want || got == "" {
				t.Errorf("%s: name %d = %q (%v), original %q (%v)", n, id, got, err2, want, err1)
			}
		}
		if lic, err := sf.Name(&b, sfnt.NameIDLicense); err == nil && lic != "" {
			t.Errorf("%s: subset still holds the licence text (%d bytes)", n, len(lic))
		}
	}
	if got := trimName([]byte{0, 0, 0, 9, 0, 6}); len(got) != 6 {
		t.Error("a name table with records beyond its end is not kept as it is")
	}
}
