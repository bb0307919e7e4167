package qr

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecert/ecert/internal/testenv"
	skip2 "github.com/skip2/go-qrcode"
)

// testData returns n bytes of text that any encoder writes in byte mode
// (no digit or upper-case runs an optimiser could put in another mode).
func testData(rng *rand.Rand, n int) []byte {
	const chars = "abcdefghijklmnopqrstuvwxyz?=&_~"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[rng.IntN(len(chars))]
	}
	return b
}

// formatMask reads the mask pattern from the first format information copy
// of a bitmap with a 4-module quiet zone.
func formatMask(bm [][]bool) int {
	at := func(x, y int) int {
		if bm[y+QuietZone][x+QuietZone] {
			return 1
		}
		return 0
	}
	var bits int
	for i := 0; i <= 5; i++ {
		bits |= at(8, i) << i
	}
	bits |= at(8, 7)<<6 | at(8, 8)<<7 | at(7, 8)<<8
	for i := 9; i < 15; i++ {
		bits |= at(14-i, 8) << i
	}
	bits ^= 0x5412
	return bits >> 10 & 7
}

// Every version 1-40: with the mask skip2 chose, our symbol is identical
// module for module (version choice, codewords, Reed-Solomon, interleaving,
// placement, function patterns, format and version information).
func TestMatchesSkip2WithSameMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Each version filled exactly (no room for a terminator), and a few in between.
	lengths := []int{1, 17, 100, 300}
	for v := 1; v <= 40; v++ {
		lengths = append(lengths, (8*dataCodewords(v)-4-countBits(v))/8)
	}
	agree := 0
	for _, n := range lengths {
		data := testData(rng, n)
		q, err := skip2.New(string(data), skip2.Medium)
		if err != nil {
			t.Fatal(err)
		}
		want := q.Bitmap()
		mask := formatMask(want)
		s, err := encode(data, mask)
		if err != nil {
			t.Fatal(err)
		}
		got := s.bitmap()
		if len(got) != len(want) {
			t.Fatalf("%d bytes: size %d, skip2 %d", n, len(got), len(want))
		}
		for y := range want {
			for x := range want[y] {
				if got[y][x] != want[y][x] {
					t.Fatalf("%d bytes (version %d, mask %d): module (%d,%d) differs", n, (s.size-17)/4, mask, x, y)
				}
			}
		}
		if best, _ := encode(data, -1); best.mask == mask {
			agree++
		}
	}
	t.Logf("mask choice agrees with skip2 for %d of %d symbols (skip2 scores penalties its own way)", agree, len(lengths))
	if _, err := Encode(make([]byte, MaxBytes+1)); err == nil {
		t.Error("data beyond version 40 accepted")
	}
}

// The smallest version that holds the data is chosen.
func TestVersionChoice(t *testing.T) {
	for v := 1; v <= 40; v++ {
		c := (8*dataCodewords(v) - 4 - countBits(v)) / 8
		for _, tc := range []struct{ n, want int }{{c, v}, {c + 1, v + 1}} {
			if tc.want > 40 {
				continue
			}
			s, err := encode(make([]byte, tc.n), -1)
			if err != nil {
				t.Fatal(err)
			}
			if got := (s.size - 17) / 4; got != tc.want {
				t.Errorf("%d bytes: version %d, want %d", tc.n, got, tc.want)
			}
		}
	}
	if c := (8*dataCodewords(40) - 4 - 16) / 8; c != MaxBytes {
		t.Errorf("version 40-M holds %d bytes, MaxBytes says %d", c, MaxBytes)
	}
}

// The penalty rules on grids whose scores can be worked out by hand.
func TestPenaltyRules(t *testing.T) {
	const n = 21
	light := make([]byte, n*n)
	// N1: 42 lines of 21 equal modules: 3 + 16 each. N2: 400 blocks x 3.
	// N3: none. N4: 0 % dark: k = 9.
	if got, want := refPenalty(light, n), 42*(3+16)+400*3+9*10; got != want {
		t.Errorf("all light: penalty %d, want %d", got, want)
	}
	// A 1:1:3:1:1 dark/light pattern at the start of row 0, rest light:
	// light on both sides (the border before it counts as light), so it
	// scores N3 twice, once per side; columns hold no pattern.
	m := make([]byte, n*n)
	for _, x := range []int{0, 2, 3, 4, 6} {
		m[x] = 1
	}
	base := refPenalty(light, n)
	got := refPenalty(m, n)
	// Row 0: runs 1,1,3,1,1 then 14 light: N1 for the 14-run is 3+9=12
	// instead of 3+16=19 (-7); finder pattern 2 x 40. Columns 0,2,3,4,6: a
	// dark top module breaks the 21-run into 1 + 20: 3+15 = 18 instead of
	// 19 (-1 each, -5). 2x2 blocks touching those 5 dark modules in row 0
	// are no longer uniform: columns pairs (0,1),(1,2),(2,3),(3,4),(4,5),
	// (5,6),(6,7) = 7 blocks fewer (-21). Dark share 5/441: k still 9.
	if want := base - 7 + 80 - 5 - 21; got != want {
		t.Errorf("finder-like row: penalty %d, want %d", got, want)
	}
}

// The packed scorer used by encode gives the reference score for every
// mask of symbols of every version.
func TestPackedPenaltyMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for v := 1; v <= 40; v++ {
		for _, n := range []int{(8*dataCodewords(v) - 4 - countBits(v)) / 8, rng.IntN((8*dataCodewords(v)-4-countBits(v))/8) + 1} {
			data := testData(rng, n)
			ver := 0
			for vv := 1; vv <= 40; vv++ {
				if 4+countBits(vv)+8*len(data) <= 8*dataCodewords(vv) {
					ver = vv
					break
				}
			}
			tb := tables(ver)
			sz := tb.size
			cw := interleave(ver, codewords(ver, data))
			base := append([]byte(nil), tb.function...)
			for i, p := range tb.order {
				if i>>3 < len(cw) {
					base[p] = cw[i>>3] >> (7 - uint(i&7)) & 1
				}
			}
			rows, cols := tb.pack(base)
			work := newPacked(sz)
			m := make([]byte, sz*sz)
			for k := 0; k < 8; k++ {
				tb.apply(m, base, k)
				if got, want := tb.score(rows, cols, k, work), refPenalty(m, sz); got != want {
					t.Fatalf("version %d, %d bytes, mask %d: packed score %d, reference %d", ver, n, k, got, want)
				}
			}
		}
	}
}

// refPenalty is the straightforward module-by-module scorer the packed
// one must agree with. It scores a masked symbol: runs of five or more modules of one
// colour (N1), 2x2 blocks (N2), finder-like 1:1:3:1:1 patterns preceded
// or followed by four light modules, each side counted, the area outside
// the symbol counting as light (N3), and the deviation of the dark
// proportion from 50 % in steps of 5 % (N4).
func refPenalty(m []byte, n int) int {
	return refPenaltyScratch(m, make([]byte, n*n), n)
}

// refPenaltyScratch is refPenalty using t (n*n bytes) for the columns.
func refPenaltyScratch(m, t []byte, n int) int {
	score := 0
	for y := 0; y < n; y++ {
		score += refLinePenalty(m[y*n:(y+1)*n], n)
	}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			t[x*n+y] = m[y*n+x]
		}
	}
	for x := 0; x < n; x++ {
		score += refLinePenalty(t[x*n:(x+1)*n], n)
	}
	dark := 0
	for _, v := range m[:n] {
		dark += int(v)
	}
	for y := 1; y < n; y++ {
		up, row := m[(y-1)*n:y*n], m[y*n:(y+1)*n]
		dark += int(row[0])
		for x := 1; x < n; x++ {
			v := row[x]
			dark += int(v)
			if v == row[x-1] && v == up[x] && v == up[x-1] {
				score += penaltyN2
			}
		}
	}
	total := n * n
	k := (abs(dark*20-total*10)+total-1)/total - 1
	return score + k*penaltyN4
}

// refLinePenalty scores N1 and N3 along one row or column.
func refLinePenalty(line []byte, n int) int {
	score := 0
	var hist [7]int
	color, run := byte(0), 0
	for _, v := range line {
		if v == color {
			run++
			if run == 5 {
				score += penaltyN1
			} else if run > 5 {
				score++
			}
			continue
		}
		addHistory(&hist, run, n)
		if color == 0 {
			score += finderPatterns(&hist) * penaltyN3
		}
		color, run = v, 1
	}
	if color == 1 { // close a dark run, then the light border
		addHistory(&hist, run, n)
		run = 0
	}
	addHistory(&hist, run+n, n)
	return score + finderPatterns(&hist)*penaltyN3
}

// zbarimg reads symbols of many versions back to the data.
func TestDecodesWithZbarimg(t *testing.T) {
	zbarimg := testenv.Tool(t, "zbarimg")
	rng := rand.New(rand.NewPCG(3, 4))
	dir := t.TempDir()
	var files []string
	var want []string
	for _, n := range []int{5, 30, 78, 120, 200, 260, 330, 420, 512} {
		data := testData(rng, n)
		bm, err := Encode(data)
		if err != nil {
			t.Fatal(err)
		}
		const scale = 4
		img := image.NewGray(image.Rect(0, 0, len(bm)*scale, len(bm)*scale))
		for y := range img.Rect.Dy() {
			for x := range img.Rect.Dx() {
				c := color.Gray{255}
				if bm[y/scale][x/scale] {
					c = color.Gray{0}
				}
				img.SetGray(x, y, c)
			}
		}
		fn := filepath.Join(dir, fmt.Sprintf("q%03d.png", n))
		f, err := os.Create(fn)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
		files = append(files, fn)
		want = append(want, string(data))
	}
	for i, fn := range files {
		out, err := exec.Command(zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", fn).Output()
		if err != nil {
			t.Fatalf("zbarimg cannot read %s: %v", filepath.Base(fn), err)
		}
		if got := strings.TrimSuffix(string(out), "\n"); got != want[i] {
			t.Errorf("%s decodes to %q, want %q", filepath.Base(fn), got, want[i])
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	// A certificate URL (version 6) and a usage copy's (version 8).
	for _, u := range []string{
		"https://ecert.jst.ln.gov.cn/v/1.2.156.3005.2.11100000000013338W001.11210000MB0123456K.2025000123.001.1",
		"https://ecert.jst.ln.gov.cn/v/1.2.156.3005.2.11100000000013338W001.11210000MB0123456K.2025000124.002.K?copy=JZ-2025-000042",
	} {
		data := []byte(u)
		s, _ := encode(data, -1)
		b.Run(fmt.Sprintf("v%d", (s.size-17)/4), func(b *testing.B) {
			// A different URL each time (as for a batch of certificates),
			// so no branch predictor learns the symbol.
			i := 0
			for b.Loop() {
				i++
				copy(data[len(data)-4:], fmt.Appendf(nil, "%04d", i%10000))
				if _, err := Encode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSkip2(b *testing.B) {
	data := []byte("https://ecert.jst.ln.gov.cn/v/1.2.156.3005.2.11100000000013338W001.11210000MB0123456K.2025000123.001.1")
	i := 0
	for b.Loop() {
		i++
		copy(data[len(data)-4:], fmt.Appendf(nil, "%04d", i%10000))
		q, err := skip2.New(string(data), skip2.Medium)
		if err != nil {
			b.Fatal(err)
		}
		q.Bitmap()
	}
}
