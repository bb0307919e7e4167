package certgen

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"regexp"
	"sync"
	"testing"
)

// nonBMPDestination matches a ToUnicode entry whose destination is written as
// 5 or 6 hex digits (<20BB7>) instead of a UTF-16 surrogate pair: readers
// misinterpret it. The writer must never produce one.
var nonBMPDestination = regexp.MustCompile(`(?m)^<([0-9A-F]{4})>\s*(<([0-9A-F]{4})>\s*)?<([0-9A-F]{5,6})>$`)

func TestRenderMatchesSingleFormats(t *testing.T) {
	r := defaultRenderer(t)
	ctx := context.Background()
	for _, n := range []string{"zhang.json", "wang-copy.json"} {
		c := loadRecord(t, n)
		pdf, ofdb, err := r.Render(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		pdf1, err := r.PDF(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		ofd1, err := r.OFD(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(pdf, pdf1) {
			t.Errorf("%s: Render PDF differs from PDF()", n)
		}
		if !bytes.Equal(ofdb, ofd1) {
			t.Errorf("%s: Render OFD differs from OFD()", n)
		}
	}
}

func TestQRPNGMatchesModules(t *testing.T) {
	mods, err := qrModules(testBaseURL + "/1.2.156.3005.2.11100000000013338W001.11210000MB0123456K.2025000123.001.1")
	if err != nil {
		t.Fatal(err)
	}
	const scale = 4
	b, err := qrPNG(mods, scale)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("QR PNG does not decode: %v", err)
	}
	if got := img.Bounds().Dx(); got != len(mods)*scale {
		t.Fatalf("width %d, want %d", got, len(mods)*scale)
	}
	for y := range len(mods) * scale {
		for x := range len(mods) * scale {
			r, _, _, _ := img.At(x, y).RGBA()
			if dark := r == 0; dark != mods[y/scale][x/scale] {
				t.Fatalf("pixel (%d,%d) dark=%v, module says %v", x, y, dark, mods[y/scale][x/scale])
			}
		}
	}
}

// Renderers are shared by workers: concurrent renderings (pooled
// compressors, QR cache, seal and font caches) give the serial bytes.
func TestConcurrentRenderingMatchesSerial(t *testing.T) {
	r := defaultRenderer(t)
	ctx := context.Background()
	base := loadRecord(t, "zhang.json")
	const n = 12
	want := make([][2][]byte, n)
	for i := range want {
		p, o, err := r.Render(ctx, distinct(base, 1000+i))
		if err != nil {
			t.Fatal(err)
		}
		want[i] = [2][]byte{p, o}
	}
	errs := make(chan error, 3*n)
	var wg sync.WaitGroup
	for i := range n {
		for mode := range 3 {
			wg.Go(func() {
				c := distinct(base, 1000+i)
				var got []byte
				var err error
				switch mode {
				case 0:
					var o []byte
					got, o, err = r.Render(ctx, c)
					if err == nil && !bytes.Equal(o, want[i][1]) {
						err = fmt.Errorf("certificate %d: concurrent Render OFD differs", i)
					}
				case 1:
					got, err = r.PDF(ctx, c)
				case 2:
					var o []byte
					o, err = r.OFD(ctx, c)
					got = want[i][0]
					if err == nil && !bytes.Equal(o, want[i][1]) {
						err = fmt.Errorf("certificate %d: concurrent OFD differs", i)
					}
				}
				if err == nil && !bytes.Equal(got, want[i][0]) {
					err = fmt.Errorf("certificate %d: concurrent PDF differs (mode %d)", i, mode)
				}
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// gopdf writes characters beyond the BMP into the ToUnicode CMap as 5 or 6
// hex digits; fixToUnicode turns them into surrogate pairs and keeps the
// cross-reference table right. If a gopdf release stops writing the bad
// form, the first check fails and the repair can go.
func TestFixToUnicodeRepairsGopdfOutput(t *testing.T) {
	r := defaultRenderer(t)
	d, err := r.prepare(context.Background(), loadRecord(t, "zhang.json"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := r.gopdfBytes(d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("<20BB7>")) {
		t.Fatal("gopdf no longer writes U+20BB7 as <20BB7>: check whether fixToUnicode is still needed")
	}
	fixed, err := fixToUnicode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if nonBMPDestination.Match(fixed) || !bytes.Contains(fixed, []byte("><D842DFB7>")) {
		t.Error("ToUnicode entry of U+20BB7 not rewritten as a surrogate pair")
	}
	checkXref(t, fixed)
	// Without characters beyond the BMP there is nothing to change.
	again, err := fixToUnicode(fixed)
	if err != nil || !bytes.Equal(again, fixed) {
		t.Errorf("second repair changed the file (err %v)", err)
	}
}

// checkXref checks that every in-use entry of the last classic xref table
// points at "N 0 obj", that startxref points at the table and that each
// stream's /Length matches its data.
func checkXref(t *testing.T, pdf []byte) {
	t.Helper()
	sx := bytes.LastIndex(pdf, []byte("startxref\n"))
	if sx < 0 {
		t.Fatal("no startxref")
	}
	var xref int
	if _, err := fmt.Sscanf(string(pdf[sx+len("startxref\n"):]), "%d", &xref); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf[xref:], []byte("xref\n0 ")) {
		t.Fatalf("startxref %d does not point at the xref table", xref)
	}
	var n int
	fmt.Sscanf(string(pdf[xref+len("xref\n0 "):]), "%d", &n)
	tab := pdf[bytes.IndexByte(pdf[xref+5:], '\n')+xref+6:]
	for obj := 1; obj < n; obj++ {
		e := tab[obj*20 : obj*20+20]
		var off int
		fmt.Sscanf(string(e[:10]), "%d", &off)
		if want := fmt.Sprintf("%d 0 obj", obj); !bytes.HasPrefix(pdf[off:], []byte(want)) {
			t.Errorf("xref entry of object %d points at %q", obj, pdf[off:min(off+12, len(pdf))])
		}
	}
	lengths := regexp.MustCompile(`/Length (\d+)\s*(?:/[^>]*)?>>\s*stream\n`)
	streams := lengths.FindAllSubmatchIndex(pdf, -1)
	if len(streams) < 5 { // content, 3 fonts with ToUnicode, 2 pictures
		t.Errorf("found %d streams with a /Length", len(streams))
	}
	for _, m := range streams {
		var l int
		fmt.Sscanf(string(pdf[m[2]:m[3]]), "%d", &l)
		if end := m[1] + l; end+10 > len(pdf) || !bytes.HasPrefix(bytes.TrimLeft(pdf[end:], "\r\n"), []byte("endstream")) {
			t.Errorf("stream at %d: /Length %d does not end at endstream", m[1], l)
		}
	}
}
