// Package fonts reads the TrueType fonts shipped with the certificate
// templates, picks a font for every character with per-character fallback,
// measures text in font units, and writes subset TrueType fonts for embedding
// (the OFD and, through gopdf, the PDF embed the same per-document subset).
//
// Only TrueType outlines (glyf/loca) are supported: no collections, no CFF.
// Every parsed length and offset is checked against the file, so a damaged
// font gives an error, never a panic.
package fonts

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Limits on what Parse accepts.
const (
	maxTables    = 64
	maxFontBytes = 64 << 20
	maxCmapRunes = 200000
)

// ErrFormat is wrapped by every font parsing failure.
var ErrFormat = errors.New("fonts: malformed TrueType font")

// Font is a parsed TrueType font. It is immutable after Parse and safe for
// concurrent use.
type Font struct {
	Name        string // name given by the caller (usually the file name)
	data        []byte
	tables      map[string][]byte
	hmtx, loca  []byte // tables["hmtx"], tables["loca"], tables["glyf"]: read per glyph
	glyf        []byte
	unitsPerEm  int
	numGlyphs   int
	numHMetrics int
	locaLong    bool
	ascent      int
	descent     int // negative, font units
	cmap        map[rune]uint16
	nameOnce    sync.Once
	name        []byte // name table of subsets (subsetName)
}

func be16(b []byte, off int) int { return int(binary.BigEndian.Uint16(b[off:])) }
func be32(b []byte, off int) uint32 {
	return binary.BigEndian.Uint32(b[off:])
}

func ferr(name, format string, args ...any) error {
	return fmt.Errorf("%w %s: %s", ErrFormat, name, fmt.Sprintf(format, args...))
}

// Parse parses a TrueType font held in data. The slice is retained.
func Parse(name string, data []byte) (*Font, error) {
	if len(data) > maxFontBytes {
		return nil, ferr(name, "file of %d bytes exceeds the %d byte limit", len(data), maxFontBytes)
	}
	if len(data) < 12 {
		return nil, ferr(name, "file too short")
	}
	switch tag := string(data[:4]); tag {
	case "\x00\x01\x00\x00", "true":
	case "ttcf":
		return nil, ferr(name, "font collections (.ttc) are not supported; split it into single .ttf files")
	case "OTTO":
		return nil, ferr(name, "CFF outlines are not supported; use a font with TrueType (glyf) outlines")
	default:
		return nil, ferr(name, "unknown sfnt version %q", tag)
	}
	n := be16(data, 4)
	if n > maxTables || 12+16*n > len(data) {
		return nil, ferr(name, "bad table count %d", n)
	}
	f := &Font{Name: name, data: data, tables: make(map[string][]byte, n)}
	for i := 0; i < n; i++ {
		rec := data[12+16*i:]
		tag := string(rec[:4])
		off, ln := uint64(be32(rec, 8)), uint64(be32(rec, 12))
		if off+ln > uint64(len(data)) {
			return nil, ferr(name, "table %q [%d,+%d) outside the file", tag, off, ln)
		}
		f.tables[tag] = data[off : off+ln]
	}
	for _, t := range []string{"head", "hhea", "maxp", "hmtx", "loca", "glyf", "cmap"} {
		if f.tables[t] == nil {
			return nil, ferr(name, "missing %q table", t)
		}
	}
	f.hmtx, f.loca, f.glyf = f.tables["hmtx"], f.tables["loca"], f.tables["glyf"]
	head, hhea, maxp := f.tables["head"], f.tables["hhea"], f.tables["maxp"]
	if len(head) < 54 || len(hhea) < 36 || len(maxp) < 6 {
		return nil, ferr(name, "short head/hhea/maxp table")
	}
	f.unitsPerEm = be16(head, 18)
	if f.unitsPerEm < 16 || f.unitsPerEm > 16384 {
		return nil, ferr(name, "unitsPerEm %d out of range", f.unitsPerEm)
	}
	f.locaLong = be16(head, 50) == 1
	f.numGlyphs = be16(maxp, 4)
	f.ascent = int(int16(be16(hhea, 4)))
	f.descent = int(int16(be16(hhea, 6)))
	f.numHMetrics = be16(hhea, 34)
	if f.numHMetrics == 0 || f.numHMetrics > f.numGlyphs || len(f.tables["hmtx"]) < 4*f.numHMetrics+2*(f.numGlyphs-f.numHMetrics) {
		return nil, ferr(name, "hmtx too short for %d metrics", f.numHMetrics)
	}
	locaEntry := 2
	if f.locaLong {
		locaEntry = 4
	}
	if len(f.tables["loca"]) < locaEntry*(f.numGlyphs+1) {
		return nil, ferr(name, "loca too short for %d glyphs", f.numGlyphs)
	}
	cm, err := parseCmap(f.tables["cmap"], f.numGlyphs)
	if err != nil {
		return nil, ferr(name, "cmap: %v", err)
	}
	f.cmap = cm
	return f, nil
}

func parseCmap(b []byte, numGlyphs int) (map[rune]uint16, error) {
	if len(b) < 4 {
		return nil, errors.New("short table")
	}
	n := be16(b, 2)
	if 4+8*n > len(b) {
		return nil, errors.New("bad subtable count")
	}
	best, bestRank := -1, 0
	for i := 0; i < n; i++ {
		pid, eid, off := be16(b, 4+8*i), be16(b, 6+8*i), int(be32(b, 8+8*i))
		if off+4 > len(b) {
			continue
		}
		format := be16(b, off)
		rank := 0
		switch {
		case format == 12 && (pid == 3 && eid == 10 || pid == 0):
			rank = 3
		case format == 4 && (pid == 3 && eid == 1 || pid == 0):
			rank = 2
		}
		if rank > bestRank {
			best, bestRank = off, rank
		}
	}
	if best < 0 {
		return nil, errors.New("no Unicode subtable of format 4 or 12")
	}
	m := make(map[rune]uint16)
	st := b[best:]
	add := func(r rune, g int) error {
		if g <= 0 || g >= numGlyphs {
			return nil
		}
		if len(m) >= maxCmapRunes {
			return errors.New("too many mappings")
		}
		m[r] = uint16(g)
		return nil
	}
	if be16(st, 0) == 12 {
		if len(st) < 16 {
			return nil, errors.New("short format 12")
		}
		ng := int(be32(st, 12))
		if ng < 0 || 16+12*ng > len(st) {
			return nil, errors.New("format 12 group count out of range")
		}
		for i := 0; i < ng; i++ {
			g := st[16+12*i:]
			start, end, gid := be32(g, 0), be32(g, 4), be32(g, 8)
			if end < start || end > 0x10FFFF || end-start > maxCmapRunes {
				return nil, errors.New("bad format 12 group")
			}
			for c := start; c <= end; c++ {
				if err := add(rune(c), int(gid+(c-start))); err != nil {
					return nil, err
				}
			}
		}
		return m, nil
	}
	// format 4
	if len(st) < 14 {
		return nil, errors.New("short format 4")
	}
	segX2 := be16(st, 6)
	if segX2%2 != 0 || 16+4*segX2 > len(st) {
		return nil, errors.New("format 4 segment count out of range")
	}
	ends, starts := 14, 16+segX2
	deltas, ranges := starts+segX2, starts+2*segX2
	for s := 0; s < segX2/2; s++ {
		end, start := be16(st, ends+2*s), be16(st, starts+2*s)
		delta, ro := be16(st, deltas+2*s), be16(st, ranges+2*s)
		if start > end {
			return nil, errors.New("format 4 segment start after end")
		}
		for c := start; c <= end && c != 0xFFFF; c++ {
			var g int
			if ro == 0 {
				g = (c + delta) & 0xFFFF
			} else {
				p := ranges + 2*s + ro + 2*(c-start)
				if p+2 > len(st) {
					return nil, errors.New("format 4 glyph index outside the table")
				}
				g = be16(st, p)
				if g != 0 {
					g = (g + delta) & 0xFFFF
				}
			}
			if err := add(rune(c), g); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// UnitsPerEm returns the font's design units per em.
func (f *Font) UnitsPerEm() int { return f.unitsPerEm }

// Ascent and Descent return hhea's ascender and descender (descender negative), in font units.
func (f *Font) Ascent() int  { return f.ascent }
func (f *Font) Descent() int { return f.descent }

// Bytes returns the whole font file.
func (f *Font) Bytes() []byte { return f.data }

// GlyphIndex returns the glyph of r, and false when the font has no glyph for it.
func (f *Font) GlyphIndex(r rune) (uint16, bool) {
	g, ok := f.cmap[r]
	return g, ok
}

// Has reports whether the font has a real glyph for r.
func (f *Font) Has(r rune) bool { _, ok := f.cmap[r]; return ok }

// Advance returns the advance width of glyph g in font units.
func (f *Font) Advance(g uint16) int {
	h := f.hmtx
	i := int(g)
	if i >= f.numHMetrics {
		i = f.numHMetrics - 1
	}
	return be16(h, 4*i)
}

// RuneAdvance returns the advance of r in font units (0 when r has no glyph).
func (f *Font) RuneAdvance(r rune) int {
	g, ok := f.cmap[r]
	if !ok {
		return 0
	}
	return f.Advance(g)
}

// Runes returns every character the font maps, sorted.
func (f *Font) Runes() []rune {
	rs := make([]rune, 0, len(f.cmap))
	for r := range f.cmap {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i] < rs[j] })
	return rs
}

func (f *Font) glyphData(g int) ([]byte, error) {
	loca, glyf := f.loca, f.glyf
	var a, b int
	if f.locaLong {
		a, b = int(be32(loca, 4*g)), int(be32(loca, 4*g+4))
	} else {
		a, b = 2*be16(loca, 2*g), 2*be16(loca, 2*g+2)
	}
	if a > b || b > len(glyf) {
		return nil, ferr(f.Name, "glyph %d has bad loca range [%d,%d)", g, a, b)
	}
	return glyf[a:b], nil
}

// BBox returns the font's bounding box from the head table (xMin, yMin,
// xMax, yMax in font units).
func (f *Font) BBox() [4]int {
	h := f.tables["head"]
	return [4]int{int(int16(be16(h, 36))), int(int16(be16(h, 38))), int(int16(be16(h, 40))), int(int16(be16(h, 42)))}
}
