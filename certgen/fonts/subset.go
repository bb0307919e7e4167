package fonts

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Composite glyph flags (TrueType glyf table).
const (
	argsAreWords    = 0x0001
	haveScale       = 0x0008
	moreComponents  = 0x0020
	haveXYScale     = 0x0040
	haveTwoByTwo    = 0x0080
	maxCompositeRec = 64
)

// Subset returns a standalone TrueType font holding only the glyphs of runes
// (plus .notdef and the components of composite glyphs), with glyph IDs
// renumbered and the cmap, hmtx, loca and glyf tables rebuilt. Runes the font
// lacks are an error naming the character.
func (f *Font) Subset(runes []rune) ([]byte, error) {
	b, _, err := f.SubsetGlyphs(runes)
	return b, err
}

// SubsetGlyphs is Subset that also returns the glyph ID of every rune in the
// subset (the CIDs a PDF CIDFontType2 with an identity CIDToGIDMap shows).
func (f *Font) SubsetGlyphs(runes []rune) ([]byte, map[rune]uint16, error) {
	rs := append([]rune(nil), runes...)
	slices.Sort(rs)
	rs = slices.Compact(rs)

	newID := map[int]int{0: 0}
	order := []int{0}
	assign := func(g int) int {
		if id, ok := newID[g]; ok {
			return id
		}
		id := len(order)
		newID[g] = id
		order = append(order, g)
		return id
	}
	cmap := make([][2]int, 0, len(rs)) // rune, new glyph id
	gids := make(map[rune]uint16, len(rs))
	for _, r := range rs {
		g, ok := f.cmap[r]
		if !ok {
			return nil, nil, fmt.Errorf("fonts: subset of %s: no glyph for %q (U+%04X)", f.Name, r, r)
		}
		id := assign(int(g))
		cmap = append(cmap, [2]int{int(r), id})
		gids[r] = uint16(id)
	}
	// Pull in composite components (they may nest); order grows while we walk.
	for i := 0; i < len(order); i++ {
		gd, err := f.glyphData(order[i])
		if err != nil {
			return nil, nil, err
		}
		comps, err := components(gd)
		if err != nil {
			return nil, nil, fmt.Errorf("fonts: subset of %s: glyph %d: %w", f.Name, order[i], err)
		}
		for _, c := range comps {
			if c >= f.numGlyphs {
				return nil, nil, ferr(f.Name, "glyph %d refers to component %d beyond %d glyphs", order[i], c, f.numGlyphs)
			}
			assign(c)
		}
	}

	size := 0
	for _, g := range order {
		gd, err := f.glyphData(g)
		if err != nil {
			return nil, nil, err
		}
		size += (len(gd) + 3) &^ 3
	}
	glyf := make([]byte, 0, size)
	loca := make([]byte, 0, 4*(len(order)+1))
	hmtx := make([]byte, 0, 4*len(order))
	be := binary.BigEndian
	for _, g := range order {
		gd, _ := f.glyphData(g) // checked above
		loca = be.AppendUint32(loca, uint32(len(glyf)))
		if len(gd) >= 10 && int16(be16(gd, 0)) < 0 {
			gd = remapComposite(gd, newID)
		}
		glyf = append(glyf, gd...)
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
		hmtx = be.AppendUint16(hmtx, uint16(f.Advance(uint16(g))))
		hmtx = be.AppendUint16(hmtx, uint16(f.lsb(g)))
	}
	loca = be.AppendUint32(loca, uint32(len(glyf)))

	head := append([]byte(nil), f.tables["head"]...)
	binary.BigEndian.PutUint32(head[8:], 0)  // checkSumAdjustment, fixed below
	binary.BigEndian.PutUint16(head[50:], 1) // long loca
	hhea := append([]byte(nil), f.tables["hhea"]...)
	binary.BigEndian.PutUint16(hhea[34:], uint16(len(order)))
	maxp := append([]byte(nil), f.tables["maxp"]...)
	binary.BigEndian.PutUint16(maxp[4:], uint16(len(order)))
	post := make([]byte, 32)
	if p := f.tables["post"]; len(p) >= 32 {
		copy(post, p[:32])
	}
	binary.BigEndian.PutUint32(post[0:], 0x00030000)

	tables := map[string][]byte{
		"cmap": buildCmap(cmap),
		"glyf": glyf,
		"head": head,
		"hhea": hhea,
		"hmtx": hmtx,
		"loca": loca,
		"maxp": maxp,
		"post": post,
	}
	for _, t := range []string{"OS/2", "cvt ", "fpgm", "prep", "gasp"} {
		if b := f.tables[t]; b != nil {
			tables[t] = b
		}
	}
	if b := f.tables["name"]; b != nil {
		tables["name"] = f.subsetName(b)
	}
	return assemble(tables), gids, nil
}

// subsetName keeps the records of a format 0 name table that identify the
// font (name IDs 0-6: copyright, family, subfamily, unique ID, full name,
// version, PostScript name) and drops the long ones (licence text,
// descriptions, URLs), which are most of a subset's size for some fonts.
// A table it cannot read is kept as it is (the cached result per font).
func (f *Font) subsetName(b []byte) []byte {
	f.nameOnce.Do(func() { f.name = trimName(b) })
	return f.name
}

func trimName(b []byte) []byte {
	if len(b) < 6 || be16(b, 0) != 0 {
		return b
	}
	count, strOff := be16(b, 2), be16(b, 4)
	if 6+12*count > len(b) || strOff > len(b) {
		return b
	}
	type rec struct{ hdr, str []byte }
	var keep []rec
	for i := 0; i < count; i++ {
		r := b[6+12*i : 18+12*i]
		id, ln, off := be16(r, 6), be16(r, 8), be16(r, 10)
		if strOff+off+ln > len(b) {
			return b
		}
		if id <= 6 {
			keep = append(keep, rec{r, b[strOff+off : strOff+off+ln]})
		}
	}
	be := binary.BigEndian
	out := be.AppendUint16(nil, 0)
	out = be.AppendUint16(out, uint16(len(keep)))
	out = be.AppendUint16(out, uint16(6+12*len(keep)))
	off := 0
	for _, r := range keep {
		out = append(out, r.hdr[:10]...)
		out = be.AppendUint16(out, uint16(off))
		off += len(r.str)
	}
	for _, r := range keep {
		out = append(out, r.str...)
	}
	return out
}

func (f *Font) lsb(g int) int {
	h := f.hmtx
	if g < f.numHMetrics {
		return be16(h, 4*g+2)
	}
	return be16(h, 4*f.numHMetrics+2*(g-f.numHMetrics))
}

// components lists the glyph IDs a composite glyph refers to (none for a simple glyph).
func components(gd []byte) ([]int, error) {
	if len(gd) < 10 || int16(be16(gd, 0)) >= 0 {
		return nil, nil
	}
	var out []int
	p := 10
	for n := 0; ; n++ {
		if n >= maxCompositeRec || p+4 > len(gd) {
			return nil, fmt.Errorf("truncated or oversized composite glyph")
		}
		flags, g := be16(gd, p), be16(gd, p+2)
		out = append(out, g)
		p += 4 + compArgLen(flags)
		if flags&moreComponents == 0 {
			return out, nil
		}
	}
}

func compArgLen(flags int) int {
	n := 2
	if flags&argsAreWords != 0 {
		n = 4
	}
	switch {
	case flags&haveScale != 0:
		n += 2
	case flags&haveXYScale != 0:
		n += 4
	case flags&haveTwoByTwo != 0:
		n += 8
	}
	return n
}

// remapComposite copies a composite glyph with its component IDs renumbered.
// components() has already validated its structure.
func remapComposite(gd []byte, newID map[int]int) []byte {
	out := append([]byte(nil), gd...)
	p := 10
	for {
		flags, g := be16(out, p), be16(out, p+2)
		binary.BigEndian.PutUint16(out[p+2:], uint16(newID[g]))
		p += 4 + compArgLen(flags)
		if flags&moreComponents == 0 {
			return out
		}
	}
}

// buildCmap writes a cmap with a (3,1) format 4 subtable for the BMP and a
// (3,10) format 12 subtable for everything. m is sorted by rune.
func buildCmap(m [][2]int) []byte {
	type seg struct{ start, end, gid int }
	var all, bmp []seg
	for _, e := range m {
		if n := len(all); n > 0 && all[n-1].end+1 == e[0] && all[n-1].gid+(e[0]-all[n-1].start) == e[1] {
			all[n-1].end = e[0]
		} else {
			all = append(all, seg{e[0], e[0], e[1]})
		}
	}
	for _, s := range all {
		if s.start > 0xFFFE {
			break
		}
		if s.end > 0xFFFE {
			s.end = 0xFFFE
		}
		bmp = append(bmp, s)
	}
	bmp = append(bmp, seg{0xFFFF, 0xFFFF, 0}) // required final segment; maps to .notdef

	be := binary.BigEndian
	segX2 := 2 * len(bmp)
	search, sel := 2, 0
	for search*2 <= len(bmp) {
		search *= 2
		sel++
	}
	f4 := make([]byte, 0, 16+4*segX2)
	w := func(v int) { f4 = be.AppendUint16(f4, uint16(v)) }
	w(4)
	w(16 + 4*segX2)
	w(0)
	w(segX2)
	w(search)
	w(sel)
	w(segX2 - search)
	for _, s := range bmp {
		w(s.end)
	}
	w(0)
	for _, s := range bmp {
		w(s.start)
	}
	for _, s := range bmp {
		if s.start == 0xFFFF {
			w(1)
		} else {
			w((s.gid - s.start) & 0xFFFF)
		}
	}
	for range bmp {
		w(0)
	}

	f12 := make([]byte, 0, 16+12*len(all))
	w32 := func(v int) { f12 = be.AppendUint32(f12, uint32(v)) }
	f12 = be.AppendUint16(f12, 12)
	f12 = be.AppendUint16(f12, 0)
	w32(16 + 12*len(all))
	w32(0)
	w32(len(all))
	for _, s := range all {
		w32(s.start)
		w32(s.end)
		w32(s.gid)
	}

	off4 := 4 + 2*8
	off12 := off4 + len(f4)
	out := make([]byte, 0, off12+len(f12))
	out = be.AppendUint16(out, 0)
	out = be.AppendUint16(out, 2)
	out = be.AppendUint16(out, 3)
	out = be.AppendUint16(out, 1)
	out = be.AppendUint32(out, uint32(off4))
	out = be.AppendUint16(out, 3)
	out = be.AppendUint16(out, 10)
	out = be.AppendUint32(out, uint32(off12))
	out = append(out, f4...)
	return append(out, f12...)
}

func checksum(b []byte) uint32 {
	var sum uint32
	n := len(b) &^ 3
	for i := 0; i < n; i += 4 {
		sum += binary.BigEndian.Uint32(b[i:])
	}
	if n < len(b) {
		var w [4]byte
		copy(w[:], b[n:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}

// assemble writes an sfnt file from tables, sorted by tag, 4-byte aligned,
// with table checksums and head.checkSumAdjustment set.
func assemble(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	total := 0
	for t, b := range tables {
		tags = append(tags, t)
		total += (len(b) + 3) &^ 3
	}
	slices.Sort(tags)
	n := len(tags)
	search, sel := 1, 0
	for search*2 <= n {
		search *= 2
		sel++
	}
	be := binary.BigEndian
	out := make([]byte, 0, 12+16*n+total)
	out = be.AppendUint32(out, 0x00010000)
	out = be.AppendUint16(out, uint16(n))
	out = be.AppendUint16(out, uint16(16*search))
	out = be.AppendUint16(out, uint16(sel))
	out = be.AppendUint16(out, uint16(16*n-16*search))
	off := 12 + 16*n
	headOff := 0
	for _, t := range tags {
		b := tables[t]
		out = append(out, t...)
		out = be.AppendUint32(out, checksum(b))
		out = be.AppendUint32(out, uint32(off))
		out = be.AppendUint32(out, uint32(len(b)))
		if t == "head" {
			headOff = off
		}
		off += (len(b) + 3) &^ 3
	}
	for _, t := range tags {
		out = append(out, tables[t]...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	if headOff > 0 {
		be.PutUint32(out[headOff+8:], 0xB1B0AFBA-checksum(out))
	}
	return out
}
