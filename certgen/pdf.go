package certgen

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/ecert/ecert/certgen/internal/deflate"
)

// PDF renders c as a one-page PDF (classic cross-reference table, catalog
// object 1, no object streams) ready for an incremental signature update.
func (r *Renderer) PDF(ctx context.Context, c *Certificate) ([]byte, error) {
	d, err := r.prepare(ctx, c)
	if err != nil {
		return nil, err
	}
	return r.writePDF(d)
}

// Object numbers of the fixed part of every PDF.
const (
	objCatalog = 1
	objPages   = 2
	objPage    = 3
	objContent = 4
	objInfo    = 5
	objFirst   = 6 // fonts (5 objects each), then the seal image
)

// pdfWriter appends objects to one buffer and remembers their offsets.
type pdfWriter struct {
	b       []byte
	offsets []int // by object number; 0 unused
}

func (w *pdfWriter) str(s string) { w.b = append(w.b, s...) }
func (w *pdfWriter) int(v int)    { w.b = strconv.AppendInt(w.b, int64(v), 10) }
func (w *pdfWriter) num(v float64) {
	w.b = appendNum(w.b, v)
}
func (w *pdfWriter) ref(n int) { w.int(n); w.str(" 0 R") }

func (w *pdfWriter) begin(n int) {
	for len(w.offsets) <= n {
		w.offsets = append(w.offsets, 0)
	}
	w.offsets[n] = len(w.b)
	w.int(n)
	w.str(" 0 obj\n")
}

// stream writes "<<dict /Length n>>stream ... endstream endobj"; dict is
// the dictionary body without the Length.
func (w *pdfWriter) stream(dict string, data []byte) {
	w.str("<<")
	w.str(dict)
	w.str("/Length ")
	w.int(len(data))
	w.str(">>\nstream\n")
	w.b = append(w.b, data...)
	w.str("\nendstream\nendobj\n")
}

// appendNum writes v with at most 3 decimals and no trailing zeros.
func appendNum(b []byte, v float64) []byte {
	f := math.Round(v * 1000)
	if math.Abs(f) >= 1e15 || math.IsNaN(f) {
		return strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	iv := int64(f)
	if iv < 0 {
		b = append(b, '-')
		iv = -iv
	}
	b = strconv.AppendInt(b, iv/1000, 10)
	if frac := iv % 1000; frac != 0 {
		d := [3]byte{byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
		n := 3
		for d[n-1] == '0' {
			n--
		}
		b = append(b, '.')
		b = append(b, d[:n]...)
	}
	return b
}

func appendHex4(b []byte, v uint16) []byte {
	const hexd = "0123456789ABCDEF"
	return append(b, hexd[v>>12], hexd[v>>8&15], hexd[v>>4&15], hexd[v&15])
}

// pdfText writes s as a PDF text string (UTF-16BE with byte order mark, hex).
func pdfText(b []byte, s string) []byte {
	b = append(b, "<FEFF"...)
	for _, u := range utf16.Encode([]rune(s)) {
		b = appendHex4(b, u)
	}
	return append(b, '>')
}

// writePDF writes a laid-out certificate as PDF: fonts as Type0 /
// CIDFontType2 with Identity-H (CIDs = glyph IDs of our subset), a
// ToUnicode CMap (surrogate pairs for characters beyond the BMP), the seal
// as an indexed image with a colour-key mask, and the QR code as vector
// rectangles.
func (r *Renderer) writePDF(d *doc) ([]byte, error) {
	p := d.p
	k := ptPerMM
	// Page size to 1/100 pt, as usual: A4 landscape is 841.89 x 595.28.
	pw, ph := math.Round(p.W*k*100)/100, math.Round(p.H*k*100)/100
	w := &pdfWriter{b: make([]byte, 0, 48<<10)}
	w.str("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n")

	// Object numbers of the fonts and the seal.
	next := objFirst
	fontObj := make([]int, len(d.fonts))
	for i, f := range d.fonts {
		if f != nil {
			fontObj[i] = next
			next += 5
		}
	}
	var img *pdfImage
	imgObj := 0

	// Page content.
	cs := make([]byte, 0, 16<<10)
	rgb := func(c RGB, op string) {
		cs = appendNum(cs, float64(c.R)/255)
		cs = append(cs, ' ')
		cs = appendNum(cs, float64(c.G)/255)
		cs = append(cs, ' ')
		cs = appendNum(cs, float64(c.B)/255)
		cs = append(cs, ' ')
		cs = append(cs, op...)
		cs = append(cs, '\n')
	}
	nums := func(vs ...float64) {
		for _, v := range vs {
			cs = appendNum(cs, v)
			cs = append(cs, ' ')
		}
	}
	for _, op := range p.ops {
		switch o := op.(type) {
		case rectOp:
			paint := ""
			if o.Fill != nil {
				rgb(*o.Fill, "rg")
				paint = "f"
			}
			if o.Stroke != nil {
				rgb(*o.Stroke, "RG")
				nums(o.LineWidth * k)
				cs = append(cs, "w\n"...)
				paint = "S"
				if o.Fill != nil {
					paint = "B"
				}
			}
			if paint == "" {
				continue
			}
			nums(o.X*k, ph-(o.Y+o.H)*k, o.W*k, o.H*k)
			cs = append(cs, "re "...)
			cs = append(cs, paint...)
			cs = append(cs, '\n')
		case textOp:
			f := d.fonts[o.Font]
			cs = append(cs, "BT /F"...)
			cs = strconv.AppendInt(cs, int64(o.Font), 10)
			cs = append(cs, ' ')
			nums(o.Size)
			cs = append(cs, "Tf "...)
			rgb(o.Color, "rg")
			x, y := o.X*k, ph-o.Y*k
			if o.Angle != 0 {
				s, c := math.Sincos(o.Angle * math.Pi / 180)
				nums(c, s, -s, c, x, y)
			} else {
				nums(1, 0, 0, 1, x, y)
			}
			cs = append(cs, "Tm <"...)
			for _, ch := range o.Runes {
				cs = appendHex4(cs, f.gids[ch])
			}
			cs = append(cs, "> Tj ET\n"...)
		case qrOp:
			n := len(o.Modules)
			m := o.W / float64(n) * k
			x0, y0 := o.X*k, ph-o.Y*k // top-left corner in PDF space
			cs = append(cs, "1 g\n"...)
			nums(x0, y0-o.H*k, o.W*k, o.H*k)
			cs = append(cs, "re f\n0 g\n"...)
			for y, row := range o.Modules {
				for x := 0; x < n; {
					if !row[x] {
						x++
						continue
					}
					e := x
					for e < n && row[e] {
						e++
					}
					nums(x0+float64(x)*m, y0-float64(y+1)*m, float64(e-x)*m, m)
					cs = append(cs, "re\n"...)
					x = e
				}
			}
			cs = append(cs, "f\n"...)
		case imageOp:
			if img != nil {
				return nil, fmt.Errorf("certgen: PDF: more than one picture on the page")
			}
			img, imgObj = o.PDFImg, next
			next++
			cs = append(cs, "q "...)
			nums(o.W*k, 0, 0, o.H*k, o.X*k, ph-(o.Y+o.H)*k)
			cs = append(cs, "cm /Im0 Do Q\n"...)
		}
	}
	size := next

	// 1 catalog, 2 page tree, 3 page.
	w.begin(objCatalog)
	w.str("<</Type/Catalog/Pages 2 0 R>>\nendobj\n")
	w.begin(objPages)
	w.str("<</Type/Pages/Kids[3 0 R]/Count 1>>\nendobj\n")
	w.begin(objPage)
	w.str("<</Type/Page/Parent 2 0 R/MediaBox[0 0 ")
	w.num(pw)
	w.str(" ")
	w.num(ph)
	w.str("]/Resources<</ProcSet[/PDF/Text/ImageC/ImageI]/Font<<")
	for i, f := range d.fonts {
		if f != nil {
			w.str("/F")
			w.int(i)
			w.str(" ")
			w.ref(fontObj[i])
		}
	}
	w.str(">>")
	if img != nil {
		w.str("/XObject<</Im0 ")
		w.ref(imgObj)
		w.str(">>")
	}
	w.str(">>/Contents 4 0 R>>\nendobj\n")

	// 4 content stream.
	w.begin(objContent)
	w.stream("/Filter/FlateDecode", deflate.Compress(cs).Zlib())

	// 5 document information.
	w.begin(objInfo)
	w.str("<</Title")
	w.b = pdfText(w.b, r.tmpl.Title)
	w.str("/Author")
	w.b = pdfText(w.b, d.c.Authority)
	w.str("/Creator(ecert)/Producer(ecert certgen)/CreationDate(D:")
	w.str(d.created().Format("20060102150405"))
	w.str("Z)>>\nendobj\n")

	for i, f := range d.fonts {
		if f != nil {
			r.writePDFFont(w, f, fontObj[i])
		}
	}
	if img != nil {
		w.begin(imgObj)
		var dict []byte
		dict = append(dict, "/Type/XObject/Subtype/Image/Width "...)
		dict = strconv.AppendInt(dict, int64(img.W), 10)
		dict = append(dict, "/Height "...)
		dict = strconv.AppendInt(dict, int64(img.H), 10)
		dict = append(dict, "/ColorSpace[/Indexed/DeviceRGB "...)
		dict = strconv.AppendInt(dict, int64(len(img.Palette)/3-1), 10)
		dict = append(dict, '<')
		dict = hex.AppendEncode(dict, img.Palette)
		dict = append(dict, ">]/BitsPerComponent "...)
		dict = strconv.AppendInt(dict, int64(img.Bits), 10)
		dict = append(dict, "/Mask[0 0]/Filter/FlateDecode"...)
		w.stream(string(dict), img.Data)
	}

	// Cross-reference table and trailer.
	xref := len(w.b)
	w.str("xref\n0 ")
	w.int(size)
	w.str("\n0000000000 65535 f \n")
	for n := 1; n < size; n++ {
		if n >= len(w.offsets) || w.offsets[n] == 0 {
			return nil, fmt.Errorf("certgen: PDF: object %d not written", n)
		}
		off := strconv.Itoa(w.offsets[n])
		w.str("0000000000"[len(off):])
		w.str(off)
		w.str(" 00000 n \n")
	}
	id := sha256.Sum256([]byte(docID(d.c)))
	w.str("trailer\n<</Size ")
	w.int(size)
	w.str("/Root 1 0 R/Info 5 0 R/ID[<")
	w.b = hex.AppendEncode(w.b, id[:16])
	w.str("><")
	w.b = hex.AppendEncode(w.b, id[:16])
	w.str(">]>>\nstartxref\n")
	w.int(xref)
	w.str("\n%%EOF\n")
	return w.b, nil
}

// writePDFFont writes the five objects of one embedded font subset,
// starting at object number n: Type0 font, CIDFontType2, font descriptor,
// FontFile2 and ToUnicode CMap.
func (r *Renderer) writePDFFont(w *pdfWriter, f *docFont, n int) {
	font := r.fonts[f.index].font
	scale := 1000 / float64(font.UnitsPerEm())
	name := subsetTag(f) + "+" + pdfName(strings.TrimSuffix(f.name, ".ttf"))

	w.begin(n)
	w.str("<</Type/Font/Subtype/Type0/BaseFont/")
	w.str(name)
	w.str("/Encoding/Identity-H/DescendantFonts[")
	w.ref(n + 1)
	w.str("]/ToUnicode ")
	w.ref(n + 4)
	w.str(">>\nendobj\n")

	// Widths of every glyph a character maps to, by glyph ID.
	maxGID := 0
	for _, g := range f.gids {
		maxGID = max(maxGID, int(g))
	}
	widths := make([]int, maxGID+1)
	for _, ch := range f.runes {
		widths[f.gids[ch]] = int(math.Round(float64(font.RuneAdvance(ch)) * scale))
	}
	w.begin(n + 1)
	w.str("<</Type/Font/Subtype/CIDFontType2/BaseFont/")
	w.str(name)
	w.str("/CIDSystemInfo<</Registry(Adobe)/Ordering(Identity)/Supplement 0>>/FontDescriptor ")
	w.ref(n + 2)
	w.str("/CIDToGIDMap/Identity/DW 1000/W[1[")
	for g := 1; g <= maxGID; g++ {
		if g > 1 {
			w.str(" ")
		}
		w.int(widths[g])
	}
	w.str("]]>>\nendobj\n")

	bb := font.BBox()
	w.begin(n + 2)
	w.str("<</Type/FontDescriptor/FontName/")
	w.str(name)
	w.str("/Flags 4/FontBBox[")
	for i, v := range bb {
		if i > 0 {
			w.str(" ")
		}
		w.int(int(math.Round(float64(v) * scale)))
	}
	w.str("]/ItalicAngle 0/Ascent ")
	w.int(int(math.Round(float64(font.Ascent()) * scale)))
	w.str("/Descent ")
	w.int(int(math.Round(float64(font.Descent()) * scale)))
	w.str("/CapHeight ")
	w.int(int(math.Round(float64(font.Ascent()) * scale)))
	w.str("/StemV 80/FontFile2 ")
	w.ref(n + 3)
	w.str(">>\nendobj\n")

	w.begin(n + 3)
	var dict []byte
	dict = append(dict, "/Filter/FlateDecode/Length1 "...)
	dict = strconv.AppendInt(dict, int64(len(f.file.Raw)), 10)
	w.stream(string(dict), f.file.Zlib())

	w.begin(n + 4)
	w.stream("", toUnicode(f))
}

// toUnicode writes the ToUnicode CMap of a subset: one bfchar entry per
// glyph, characters beyond the BMP as UTF-16 surrogate pairs.
func toUnicode(f *docFont) []byte {
	b := make([]byte, 0, 300+len(f.runes)*16)
	b = append(b, "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"+
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"+
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"+
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"...)
	// One character per glyph: the first (lowest) that maps to it.
	seen := make(map[uint16]bool, len(f.runes))
	entries := make([]rune, 0, len(f.runes))
	for _, ch := range f.runes {
		if g := f.gids[ch]; !seen[g] {
			seen[g] = true
			entries = append(entries, ch)
		}
	}
	for len(entries) > 0 {
		blk := entries[:min(100, len(entries))]
		entries = entries[len(blk):]
		b = strconv.AppendInt(b, int64(len(blk)), 10)
		b = append(b, " beginbfchar\n"...)
		for _, ch := range blk {
			b = append(b, '<')
			b = appendHex4(b, f.gids[ch])
			b = append(b, "> <"...)
			if ch > 0xFFFF {
				hi, lo := utf16.EncodeRune(ch)
				b = appendHex4(b, uint16(hi))
				b = appendHex4(b, uint16(lo))
			} else {
				b = appendHex4(b, uint16(ch))
			}
			b = append(b, ">\n"...)
		}
		b = append(b, "endbfchar\n"...)
	}
	return append(b, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"...)
}

// subsetTag derives the six-letter subset prefix of a font name from the
// subset's contents, so equal subsets get equal names.
func subsetTag(f *docFont) string {
	v := f.file.CRC32
	var t [6]byte
	for i := range t {
		t[i] = 'A' + byte(v%26)
		v /= 26
	}
	return string(t[:])
}

// pdfName keeps the characters a PDF name may hold without escapes.
func pdfName(s string) string {
	return strings.Map(func(r rune) rune {
		if r > ' ' && r < 0x7f && !strings.ContainsRune("()<>[]{}/%#", r) {
			return r
		}
		return -1
	}, s)
}
