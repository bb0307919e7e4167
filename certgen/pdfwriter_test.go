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
