// Package qr encodes QR codes (ISO/IEC 18004) in byte mode at error
// correction level M, the form of the certificate's verification code.
//
// It does what a general encoder does — smallest version that fits,
// Reed-Solomon blocks interleaved, all eight masks scored with the
// standard penalty rules N1-N4 and the lowest kept — but with tables
// computed once per version, flat byte grids and no per-module allocation,
// so one code costs a few tens of microseconds.
package qr

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
)

// QuietZone is the light border, in modules, around the symbol returned by Encode.
const QuietZone = 4

// MaxBytes is the most data a version 40-M symbol holds in byte mode.
const MaxBytes = 2331

// ErrTooLong is returned for data beyond MaxBytes.
var ErrTooLong = errors.New("qr: data too long for a QR code at level M")

// Level M: error correction codewords per block and number of blocks, by version.
var (
	eccPerBlock = [41]int{0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
		26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28}
	numBlocks = [41]int{0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
		17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49}
)

// formatBitsM is level M's two format bits.
const formatBitsM = 0

// rawModules is the number of modules of a version available for data and
// error correction (all but function patterns, format and version information).
func rawModules(ver int) int {
	r := (16*ver+128)*ver + 64
	if ver >= 2 {
		na := ver/7 + 2
		r -= (25*na-10)*na - 55
		if ver >= 7 {
			r -= 36
		}
	}
	return r
}

func dataCodewords(ver int) int { return rawModules(ver)/8 - eccPerBlock[ver]*numBlocks[ver] }

func countBits(ver int) int {
	if ver <= 9 {
		return 8
	}
	return 16
}

// Encode returns the symbol for data including the quiet zone; true = dark.
func Encode(data []byte) ([][]bool, error) {
	s, err := encode(data, -1)
	if err != nil {
		return nil, err
	}
	return s.bitmap(), nil
}

// symbol is a finished code: size x size modules, 1 = dark.
type symbol struct {
	size int
	mask int
	m    []byte
}

func (s *symbol) bitmap() [][]bool {
	n := s.size + 2*QuietZone
	cells := make([]bool, n*n)
	out := make([][]bool, n)
	for y := range out {
		out[y] = cells[y*n : (y+1)*n]
	}
	for y := 0; y < s.size; y++ {
		row := out[y+QuietZone][QuietZone:]
		for x, v := range s.m[y*s.size : (y+1)*s.size] {
			row[x] = v != 0
		}
	}
	return out
}

// encode builds the symbol; mask < 0 picks the mask by penalty.
func encode(data []byte, mask int) (*symbol, error) {
	ver := 0
	for v := 1; v <= 40; v++ {
		if 4+countBits(v)+8*len(data) <= 8*dataCodewords(v) {
			ver = v
			break
		}
	}
	if ver == 0 {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLong, len(data), MaxBytes)
	}
	t := tables(ver)
	cw := interleave(ver, codewords(ver, data))

	n := t.size
	base := make([]byte, n*n)
	copy(base, t.function)
	for i, p := range t.order {
		if i>>3 >= len(cw) {
			break // remainder bits stay light
		}
		base[p] = cw[i>>3] >> (7 - uint(i&7)) & 1
	}

	s := &symbol{size: n, m: make([]byte, n*n)}
	if mask >= 0 {
		t.apply(s.m, base, mask)
		s.mask = mask
		return s, nil
	}
	best, bestScore := 0, -1
	rows, cols := t.pack(base)
	work := newPacked(n)
	for k := 0; k < 8; k++ {
		if sc := t.score(rows, cols, k, work); bestScore < 0 || sc < bestScore {
			best, bestScore = k, sc
		}
	}
	t.apply(s.m, base, best)
	s.mask = best
	return s, nil
}

// codewords returns the data codewords: mode, count, data, terminator, padding.
func codewords(ver int, data []byte) []byte {
	capBytes := dataCodewords(ver)
	out := make([]byte, 0, capBytes)
	var acc uint64
	var nb uint
	put := func(v uint64, bits uint) {
		acc = acc<<bits | v
		nb += bits
		for nb >= 8 {
			nb -= 8
			out = append(out, byte(acc>>nb))
		}
	}
	put(0b0100, 4)
	put(uint64(len(data)), uint(countBits(ver)))
	for _, b := range data {
		put(uint64(b), 8)
	}
	// Terminator (up to 4 zero bits) and padding to a byte.
	used := 8*len(out) + int(nb)
	put(0, uint(min(4, 8*capBytes-used)))
	if nb > 0 {
		put(0, 8-nb)
	}
	for pad := byte(0xEC); len(out) < capBytes; pad ^= 0xEC ^ 0x11 {
		out = append(out, pad)
	}
	return out
}

// interleave splits the data into blocks, appends each block's
// Reed-Solomon codewords and interleaves them (short blocks first).
func interleave(ver int, data []byte) []byte {
	nb, ecc := numBlocks[ver], eccPerBlock[ver]
	raw := rawModules(ver) / 8
	nShort := nb - raw%nb
	shortLen := raw / nb // data + ecc of a short block
	div := divisor(ecc)
	blocks := make([][]byte, nb)
	k := 0
	for i := range blocks {
		dl := shortLen - ecc
		if i >= nShort {
			dl++
		}
		b := make([]byte, 0, shortLen+1)
		b = append(b, data[k:k+dl]...)
		k += dl
		rem := remainder(b, div)
		if i < nShort {
			b = append(b, 0) // placeholder, skipped below
		}
		blocks[i] = append(b, rem...)
	}
	out := make([]byte, 0, raw)
	for i := range blocks[0] {
		for j, b := range blocks {
			if i != shortLen-ecc || j >= nShort {
				out = append(out, b[i])
			}
		}
	}
	return out
}

// GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1.
var gfExp, gfLog = func() (e [512]byte, l [256]byte) {
	x := 1
	for i := 0; i < 255; i++ {
		e[i] = byte(x)
		l[x] = byte(i)
		x <<= 1
		if x&0x100 != 0 {
			x ^= 0x11D
		}
	}
	for i := 255; i < 512; i++ {
		e[i] = e[i-255]
	}
	return
}()

func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

var divisors sync.Map // degree -> []byte

// divisor returns the Reed-Solomon generator polynomial of the given
// degree, highest coefficient (always 1) omitted.
func divisor(degree int) []byte {
	if d, ok := divisors.Load(degree); ok {
		return d.([]byte)
	}
	r := make([]byte, degree)
	r[degree-1] = 1
	root := byte(1)
	for i := 0; i < degree; i++ {
		for j := range r {
			r[j] = gfMul(r[j], root)
			if j+1 < len(r) {
				r[j] ^= r[j+1]
			}
		}
		root = gfMul(root, 2)
	}
	divisors.Store(degree, r)
	return r
}

func remainder(data, div []byte) []byte {
	r := make([]byte, len(div))
	last := len(r) - 1
	for _, b := range data {
		f := b ^ r[0]
		for i := 0; i < last; i++ {
			r[i] = r[i+1]
		}
		r[last] = 0
		if f == 0 {
			continue
		}
		lf := int(gfLog[f])
		for i, d := range div {
			if d != 0 {
				r[i] ^= gfExp[int(gfLog[d])+lf]
			}
		}
	}
	return r
}

// verTables is what every symbol of one version shares.
type verTables struct {
	size     int
	function []byte  // function patterns and version information drawn, 1 = dark
	isFunc   []bool  // module belongs to a function pattern or format/version area
	order    []int32 // data module positions in placement order
	masks    [8][]byte
	// packed[k] is what applying mask k changes (data modules and format
	// information), as bit rows and bit columns: for any symbol of the
	// version, masked = base XOR packed[k].
	packedRows, packedCols [8]packed
}

var verCache [41]struct {
	once sync.Once
	t    *verTables
}

func tables(ver int) *verTables {
	c := &verCache[ver]
	c.once.Do(func() { c.t = buildTables(ver) })
	return c.t
}

func buildTables(ver int) *verTables {
	n := 4*ver + 17
	t := &verTables{size: n, function: make([]byte, n*n), isFunc: make([]bool, n*n)}
	set := func(x, y int, dark bool) {
		t.isFunc[y*n+x] = true
		if dark {
			t.function[y*n+x] = 1
		} else {
			t.function[y*n+x] = 0
		}
	}
	for i := 0; i < n; i++ { // timing patterns
		set(6, i, i%2 == 0)
		set(i, 6, i%2 == 0)
	}
	finder := func(cx, cy int) {
		for dy := -4; dy <= 4; dy++ {
			for dx := -4; dx <= 4; dx++ {
				x, y := cx+dx, cy+dy
				if x < 0 || x >= n || y < 0 || y >= n {
					continue
				}
				d := max(abs(dx), abs(dy))
				set(x, y, d != 2 && d != 4)
			}
		}
	}
	finder(3, 3)
	finder(n-4, 3)
	finder(3, n-4)
	align := alignmentPositions(ver)
	na := len(align)
	for i := 0; i < na; i++ {
		for j := 0; j < na; j++ {
			if i == 0 && j == 0 || i == 0 && j == na-1 || i == na-1 && j == 0 {
				continue
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					set(align[i]+dx, align[j]+dy, max(abs(dx), abs(dy)) != 1)
				}
			}
		}
	}
	// Reserve the format areas (written per mask) and the dark module.
	for i := 0; i < 9; i++ {
		if i != 6 { // (8,6) and (6,8) are timing modules
			set(8, i, false)
			set(i, 8, false)
		}
	}
	for i := 0; i < 8; i++ {
		set(n-1-i, 8, false)
		set(8, n-1-i, false)
	}
	set(8, n-8, true)
	if ver >= 7 {
		rem := ver
		for i := 0; i < 12; i++ {
			rem = rem<<1 ^ (rem>>11)*0x1F25
		}
		bits := ver<<12 | rem
		for i := 0; i < 18; i++ {
			dark := bits>>i&1 != 0
			a, b := n-11+i%3, i/3
			set(a, b, dark)
			set(b, a, dark)
		}
	}
	// Placement order: two-module columns from the right, zigzagging, skipping the timing column.
	for right := n - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		for vert := 0; vert < n; vert++ {
			for j := 0; j < 2; j++ {
				x := right - j
				y := vert
				if (right+1)&2 == 0 {
					y = n - 1 - vert
				}
				if !t.isFunc[y*n+x] {
					t.order = append(t.order, int32(y*n+x))
				}
			}
		}
	}
	for k := range t.masks {
		m := make([]byte, n*n)
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				if !t.isFunc[y*n+x] && maskBit(k, x, y) {
					m[y*n+x] = 1
				}
			}
		}
		t.masks[k] = m
	}
	masked := make([]byte, n*n)
	for k := range t.masks {
		t.apply(masked, t.function, k)
		for i := range masked {
			masked[i] ^= t.function[i]
		}
		t.packedRows[k], t.packedCols[k] = t.pack(masked)
	}
	return t
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// alignmentPositions returns the row/column centres of the alignment patterns.
func alignmentPositions(ver int) []int {
	if ver == 1 {
		return nil
	}
	na := ver/7 + 2
	step := (ver*8 + na*3 + 5) / (na*4 - 4) * 2
	out := make([]int, na)
	out[0] = 6
	for i, pos := na-1, 4*ver+17-7; i >= 1; i, pos = i-1, pos-step {
		out[i] = pos
	}
	return out
}

func maskBit(k, x, y int) bool {
	switch k {
	case 0:
		return (x+y)%2 == 0
	case 1:
		return y%2 == 0
	case 2:
		return x%3 == 0
	case 3:
		return (x+y)%3 == 0
	case 4:
		return (x/3+y/2)%2 == 0
	case 5:
		return x*y%2+x*y%3 == 0
	case 6:
		return (x*y%2+x*y%3)%2 == 0
	default:
		return ((x+y)%2+x*y%3)%2 == 0
	}
}

// apply writes base with mask k applied to the data modules, and the
// format information of level M and mask k, into dst.
func (t *verTables) apply(dst, base []byte, k int) {
	for i, m := range t.masks[k] {
		dst[i] = base[i] ^ m
	}
	n := t.size
	data := formatBitsM<<3 | k
	rem := data
	for i := 0; i < 10; i++ {
		rem = rem<<1 ^ (rem>>9)*0x537
	}
	bits := (data<<10 | rem) ^ 0x5412
	bit := func(i int) byte { return byte(bits >> i & 1) }
	set := func(x, y int, v byte) { dst[y*n+x] = v }
	for i := 0; i <= 5; i++ {
		set(8, i, bit(i))
	}
	set(8, 7, bit(6))
	set(8, 8, bit(7))
	set(7, 8, bit(8))
	for i := 9; i < 15; i++ {
		set(14-i, 8, bit(i))
	}
	for i := 0; i < 8; i++ {
		set(n-1-i, 8, bit(i))
	}
	for i := 8; i < 15; i++ {
		set(8, n-15+i, bit(i))
	}
	set(8, n-8, 1)
}

// Penalty weights of ISO/IEC 18004 (7.8.3).
const (
	penaltyN1 = 3
	penaltyN2 = 3
	penaltyN3 = 40
	penaltyN4 = 10
)

// packed holds a symbol's lines (rows or columns) as bits: module i of
// line l is bit i%64 of word l*w + i/64; 1 = dark.
type packed struct {
	w    int // words per line
	bits []uint64
}

func newPacked(n int) packed {
	w := (n + 63) / 64
	return packed{w: w, bits: make([]uint64, n*w)}
}

// pack returns m's rows and columns as bits.
func (t *verTables) pack(m []byte) (rows, cols packed) {
	n := t.size
	rows, cols = newPacked(n), newPacked(n)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if m[y*n+x] != 0 {
				rows.bits[y*rows.w+x/64] |= 1 << (x % 64)
				cols.bits[x*cols.w+y/64] |= 1 << (y % 64)
			}
		}
	}
	return rows, cols
}

// score is the penalty of the symbol with rows and cols (unmasked, as
// packed by pack) under mask k; work is scratch space of the same shape.
func (t *verTables) score(rows, cols packed, k int, work packed) int {
	n := t.size
	for i, v := range rows.bits {
		work.bits[i] = v ^ t.packedRows[k].bits[i]
	}
	sc := linesPenalty(work, n)
	dark := 0
	for _, v := range work.bits {
		dark += bits.OnesCount64(v)
	}
	// N2: 2x2 blocks of one colour, from each pair of adjacent rows.
	w := work.w
	last := uint64(1)<<((n-1)%64) - 1 // valid block columns 0..n-2 in the last word
	if (n-1)%64 == 0 {
		last = ^uint64(0)
	}
	blocks := 0
	for y := 1; y < n; y++ {
		a, b := work.bits[(y-1)*w:y*w], work.bits[y*w:(y+1)*w]
		for i := 0; i < w; i++ {
			a1, b1 := a[i]>>1, b[i]>>1 // the module to the right
			if i+1 < w {
				a1 |= a[i+1] << 63
				b1 |= b[i+1] << 63
			}
			same := ^(a[i] ^ b[i]) & ^(a[i] ^ a1) & ^(b[i] ^ b1)
			if i == (n-2)/64 {
				same &= last
			} else if i > (n-2)/64 {
				same = 0
			}
			blocks += bits.OnesCount64(same)
		}
	}
	sc += blocks * penaltyN2
	for i, v := range cols.bits {
		work.bits[i] = v ^ t.packedCols[k].bits[i]
	}
	sc += linesPenalty(work, n)
	total := n * n
	kk := (abs(dark*20-total*10)+total-1)/total - 1
	return sc + kk*penaltyN4
}

// linesPenalty scores N1 and N3 along every line of p, run by run: the
// runs start where a module differs from the one before it.
func linesPenalty(p packed, n int) int {
	score := 0
	w := p.w
	endMask := ^uint64(0) // bits of the last word inside the line
	if n%64 != 0 {
		endMask = uint64(1)<<(n%64) - 1
	}
	for l := 0; l < n; l++ {
		line := p.bits[l*w : (l+1)*w]
		var hist [7]int
		dark := false // colour of the current run; the first run is light (maybe empty)
		prev := 0     // where the current run started
		var carry uint64
		for i, v := range line {
			d := v ^ (v<<1 | carry) // bit j: module j differs from module j-1
			carry = v >> 63
			if i == w-1 {
				d &= endMask
			}
			for d != 0 {
				pos := i*64 + bits.TrailingZeros64(d)
				d &= d - 1
				run := pos - prev
				if run >= 5 {
					score += penaltyN1 + run - 5
				}
				addHistory(&hist, run, n)
				if !dark {
					score += finderPatterns(&hist) * penaltyN3
				}
				dark = !dark
				prev = pos
			}
		}
		run := n - prev
		if run >= 5 {
			score += penaltyN1 + run - 5
		}
		if dark { // close a dark run, then the light border
			addHistory(&hist, run, n)
			run = 0
		}
		addHistory(&hist, run+n, n)
		score += finderPatterns(&hist) * penaltyN3
	}
	return score
}

// addHistory pushes a run length; the first run gets the light border added.
func addHistory(h *[7]int, run, n int) {
	if h[0] == 0 {
		run += n
	}
	h[6], h[5], h[4], h[3], h[2], h[1], h[0] = h[5], h[4], h[3], h[2], h[1], h[0], run
}

// finderPatterns counts 1:1:3:1:1 patterns in the latest runs with at least
// four light modules before or after.
func finderPatterns(h *[7]int) int {
	u := h[1]
	core := u > 0 && h[2] == u && h[3] == 3*u && h[4] == u && h[5] == u
	c := 0
	if core && h[0] >= 4*u && h[6] >= u {
		c++
	}
	if core && h[6] >= 4*u && h[0] >= u {
		c++
	}
	return c
}
