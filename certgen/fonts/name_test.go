package fonts

import (
	"bytes"
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

// FuzzTrimName: any name table gives either itself back or a well-formed
// format 0 table whose records all point inside its string storage.
func FuzzTrimName(f *testing.F) {
	for _, n := range []string{"DejaVuSans.ttf", "HanaMinB-subset.ttf"} {
		f.Add(load(f, n).tables["name"])
	}
	f.Add([]byte{0, 0, 0, 1, 0, 18, 0, 3, 0, 1, 4, 9, 0, 1, 0, 2, 0, 0, 'a', 'b'})
	f.Fuzz(func(t *testing.T, b []byte) {
		out := trimName(b)
		if bytes.Equal(out, b) {
			return
		}
		if len(out) < 6 || be16(out, 0) != 0 {
			t.Fatalf("trimmed table has no format 0 header: % x", out)
		}
		count, strOff := be16(out, 2), be16(out, 4)
		if strOff != 6+12*count || strOff > len(out) {
			t.Fatalf("count %d, string offset %d, %d bytes", count, strOff, len(out))
		}
		for i := 0; i < count; i++ {
			r := out[6+12*i:]
			if id, ln, off := be16(r, 6), be16(r, 8), be16(r, 10); id > 6 || strOff+off+ln > len(out) {
				t.Fatalf("record %d: name ID %d, [%d,+%d) outside %d bytes", i, id, off, ln, len(out))
			}
		}
	})
}
