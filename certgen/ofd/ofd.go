// Package ofd writes one-page OFD documents (GB/T 33190-2016): OFD.xml,
// Doc_0/Document.xml, PublicRes.xml (embedded fonts), DocumentRes.xml
// (images) and Pages/Page_0/Content.xml with text, image and path objects,
// packed as a zip.
//
// Build returns a Package, a list of files that later stages (the OFD seal
// signer) can extend with Doc_0/Signs/... before writing the zip. Every file
// is written once; its bytes never change after Build, which keeps the
// signer's SM3 file hashes valid.
package ofd

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ecert/ecert/certgen/internal/deflate"
	"github.com/klauspost/compress/flate"
)

// Namespace is the OFD 2016 XML namespace, always used with the prefix ofd:.
const Namespace = "http://www.ofdspec.org/2016"

// Rect is a box in mm, origin top-left, y down.
type Rect struct{ X, Y, W, H float64 }

// RGB is a colour.
type RGB struct{ R, G, B uint8 }

// Font is an embedded TrueType font (ideally a subset).
type Font struct {
	Name string // FontName; FamilyName too
	Data []byte
	// Deflated optionally holds Data already compressed as raw DEFLATE
	// (RFC 1951); the zip entry then takes these bytes as they are.
	Deflated []byte
}

// Image is an embedded picture.
type Image struct {
	Format string // "PNG"
	Data   []byte
}

// Text is a TextObject with one TextCode.
type Text struct {
	Font   int     // index into Document.Fonts
	Size   float64 // mm
	X, Y   float64 // page position of the first glyph's baseline origin, mm
	DeltaX []float64
	Text   string
	Fill   RGB
	Angle  float64 // degrees counter-clockwise about (X, Y)
}

// Picture is an ImageObject.
type Picture struct {
	Image    int // index into Document.Images
	Boundary Rect
}

// Box is a rectangle PathObject.
type Box struct {
	Boundary  Rect
	Stroke    *RGB
	Fill      *RGB
	LineWidth float64
}

// Document is the content of a one-page OFD.
type Document struct {
	DocID        string // 32 hex digits
	Title        string
	Author       string
	CreationDate time.Time
	Width        float64 // mm
	Height       float64
	Fonts        []Font
	Images       []Image
	Objects      []any // Text, Picture or Box, in paint order
}

// File is one entry of the container.
type File struct {
	Name string
	Data []byte
}

// Package is an OFD container before it is zipped.
type Package struct {
	files    []File
	deflated map[string][]byte // raw DEFLATE of a file's current Data
	modified time.Time
	// PageID is the ID of the page (StampAnnot@PageRef).
	PageID int
	// MaxUnitID is the largest object ID used in Doc_0.
	MaxUnitID int
}

// num writes v with at most 3 decimals and no trailing zeros.
func num(v float64) string { return string(appendNum(nil, v)) }

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

func appendBox(b []byte, r Rect) []byte {
	b = appendNum(b, r.X)
	b = appendNum(append(b, ' '), r.Y)
	b = appendNum(append(b, ' '), r.W)
	return appendNum(append(b, ' '), r.H)
}

func appendColor(b []byte, c RGB) []byte {
	b = strconv.AppendInt(b, int64(c.R), 10)
	b = strconv.AppendInt(append(b, ' '), int64(c.G), 10)
	return strconv.AppendInt(append(b, ' '), int64(c.B), 10)
}

// appendEsc appends s escaped as XML character data.
func appendEsc(b []byte, s string) []byte {
	if utf8.ValidString(s) && !strings.ContainsAny(s, "&<>\"'\t\n\r") {
		return append(b, s...)
	}
	return append(b, esc(s)...)
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

const header = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// Build lays the document out as OFD files.
func Build(d *Document) (*Package, error) {
	if d.Width <= 0 || d.Height <= 0 {
		return nil, fmt.Errorf("ofd: page size %gx%g", d.Width, d.Height)
	}
	id := 0
	next := func() int { id++; return id }
	fontIDs := make([]int, len(d.Fonts))
	imageIDs := make([]int, len(d.Images))
	var files []File
	deflated := map[string][]byte{}

	var pub strings.Builder
	pub.WriteString(header + `<ofd:Res xmlns:ofd="` + Namespace + `" BaseLoc="Res">`)
	if len(d.Fonts) > 0 {
		pub.WriteString(`<ofd:Fonts>`)
		for i, f := range d.Fonts {
			fontIDs[i] = next()
			fn := fmt.Sprintf("font_%d.ttf", fontIDs[i])
			fmt.Fprintf(&pub, `<ofd:Font ID="%d" FontName="%s" FamilyName="%s"><ofd:FontFile>%s</ofd:FontFile></ofd:Font>`, fontIDs[i], esc(f.Name), esc(f.Name), fn)
			files = append(files, File{"Doc_0/Res/" + fn, f.Data})
			if f.Deflated != nil {
				deflated["Doc_0/Res/"+fn] = f.Deflated
			}
		}
		pub.WriteString(`</ofd:Fonts>`)
	}
	pub.WriteString(`</ofd:Res>`)

	var docRes strings.Builder
	docRes.WriteString(header + `<ofd:Res xmlns:ofd="` + Namespace + `" BaseLoc="Res">`)
	if len(d.Images) > 0 {
		docRes.WriteString(`<ofd:MultiMedias>`)
		for i, im := range d.Images {
			if im.Format != "PNG" {
				return nil, fmt.Errorf("ofd: image %d: format %q, only PNG is written", i, im.Format)
			}
			imageIDs[i] = next()
			fn := fmt.Sprintf("image_%d.png", imageIDs[i])
			fmt.Fprintf(&docRes, `<ofd:MultiMedia ID="%d" Type="Image" Format="PNG"><ofd:MediaFile>%s</ofd:MediaFile></ofd:MultiMedia>`, imageIDs[i], fn)
			files = append(files, File{"Doc_0/Res/" + fn, im.Data})
		}
		docRes.WriteString(`</ofd:MultiMedias>`)
	}
	docRes.WriteString(`</ofd:Res>`)

	pageID := next()
	layerID := next()
	pg := make([]byte, 0, 16<<10)
	pg = append(pg, header+`<ofd:Page xmlns:ofd="`+Namespace+`"><ofd:Content><ofd:Layer ID="`...)
	pg = strconv.AppendInt(pg, int64(layerID), 10)
	pg = append(pg, `" Type="Body">`...)
	for i, o := range d.Objects {
		switch o := o.(type) {
		case Text:
			if o.Font < 0 || o.Font >= len(d.Fonts) {
				return nil, fmt.Errorf("ofd: object %d: font %d not in the document", i, o.Font)
			}
			n := utf8.RuneCountInString(o.Text)
			if n == 0 || len(o.DeltaX) != n-1 {
				return nil, fmt.Errorf("ofd: object %d: %d glyphs need %d DeltaX values, have %d", i, n, n-1, len(o.DeltaX))
			}
			w := o.Size
			for _, dx := range o.DeltaX {
				w += dx
			}
			var bound Rect
			var x, y float64
			pg = append(pg, `<ofd:TextObject ID="`...)
			pg = strconv.AppendInt(pg, int64(next()), 10)
			if o.Angle == 0 {
				bound = Rect{o.X, o.Y - o.Size, w + 0.5, o.Size * 1.3}
				x, y = 0, o.Size
				pg = appendBox(append(pg, `" Boundary="`...), bound)
				pg = append(pg, '"')
			} else {
				// Rotate about the anchor, which sits at (L, L) inside a square boundary.
				L := w + o.Size
				bound = Rect{o.X - L, o.Y - L, 2 * L, 2 * L}
				x, y = L, L
				s, c := sincos(o.Angle)
				a, b, cc, dd := c, -s, s, c
				pg = appendBox(append(pg, `" Boundary="`...), bound)
				pg = fmt.Appendf(pg, `" CTM="%s %s %s %s %s %s"`, num6(a), num6(b), num6(cc), num6(dd), num(L-(a*L+cc*L)), num(L-(b*L+dd*L)))
			}
			pg = append(pg, ` Font="`...)
			pg = strconv.AppendInt(pg, int64(fontIDs[o.Font]), 10)
			pg = appendNum(append(pg, `" Size="`...), o.Size)
			pg = appendColor(append(pg, `"><ofd:FillColor Value="`...), o.Fill)
			pg = appendNum(append(pg, `"/><ofd:TextCode X="`...), x)
			pg = appendNum(append(pg, `" Y="`...), y)
			pg = append(pg, '"')
			if len(o.DeltaX) > 0 {
				pg = appendDeltas(append(pg, ` DeltaX="`...), o.DeltaX)
				pg = append(pg, '"')
			}
			pg = appendEsc(append(pg, '>'), o.Text)
			pg = append(pg, `</ofd:TextCode></ofd:TextObject>`...)
		case Picture:
			if o.Image < 0 || o.Image >= len(d.Images) {
				return nil, fmt.Errorf("ofd: object %d: image %d not in the document", i, o.Image)
			}
			b := o.Boundary
			pg = append(pg, `<ofd:ImageObject ID="`...)
			pg = strconv.AppendInt(pg, int64(next()), 10)
			pg = appendBox(append(pg, `" Boundary="`...), b)
			pg = appendNum(append(pg, `" CTM="`...), b.W)
			pg = appendNum(append(pg, ` 0 0 `...), b.H)
			pg = append(pg, ` 0 0" ResourceID="`...)
			pg = strconv.AppendInt(pg, int64(imageIDs[o.Image]), 10)
			pg = append(pg, `"/>`...)
		case Box:
			lw := o.LineWidth
			if o.Stroke == nil {
				lw = 0
			}
			b := o.Boundary
			bound := Rect{b.X - lw/2, b.Y - lw/2, b.W + lw, b.H + lw}
			pg = append(pg, `<ofd:PathObject ID="`...)
			pg = strconv.AppendInt(pg, int64(next()), 10)
			pg = appendBox(append(pg, `" Boundary="`...), bound)
			pg = append(pg, '"')
			if o.Stroke != nil {
				pg = appendNum(append(pg, ` LineWidth="`...), lw)
				pg = append(pg, '"')
			} else {
				pg = append(pg, ` Stroke="false"`...)
			}
			if o.Fill != nil {
				pg = append(pg, ` Fill="true"`...)
			}
			pg = append(pg, '>')
			if o.Stroke != nil {
				pg = appendColor(append(pg, `<ofd:StrokeColor Value="`...), *o.Stroke)
				pg = append(pg, `"/>`...)
			}
			if o.Fill != nil {
				pg = appendColor(append(pg, `<ofd:FillColor Value="`...), *o.Fill)
				pg = append(pg, `"/>`...)
			}
			h := lw / 2
			pg = append(pg, `<ofd:AbbreviatedData>M `...)
			for k, v := range [8]float64{h, h, h + b.W, h, h + b.W, h + b.H, h, h + b.H} {
				if k > 0 {
					if k%2 == 0 {
						pg = append(pg, " L "...)
					} else {
						pg = append(pg, ' ')
					}
				}
				pg = appendNum(pg, v)
			}
			pg = append(pg, ` C</ofd:AbbreviatedData></ofd:PathObject>`...)
		default:
			return nil, fmt.Errorf("ofd: object %d: unsupported type %T", i, o)
		}
	}
	pg = append(pg, `</ofd:Layer></ofd:Content></ofd:Page>`...)
	maxID := id

	var doc strings.Builder
	doc.WriteString(header + `<ofd:Document xmlns:ofd="` + Namespace + `"><ofd:CommonData>`)
	fmt.Fprintf(&doc, `<ofd:MaxUnitID>%d</ofd:MaxUnitID>`, maxID)
	fmt.Fprintf(&doc, `<ofd:PageArea><ofd:PhysicalBox>0 0 %s %s</ofd:PhysicalBox></ofd:PageArea>`, num(d.Width), num(d.Height))
	doc.WriteString(`<ofd:PublicRes>PublicRes.xml</ofd:PublicRes><ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>`)
	doc.WriteString(`</ofd:CommonData><ofd:Pages>`)
	fmt.Fprintf(&doc, `<ofd:Page ID="%d" BaseLoc="Pages/Page_0/Content.xml"/>`, pageID)
	doc.WriteString(`</ofd:Pages></ofd:Document>`)

	created := d.CreationDate
	if created.IsZero() {
		created = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	var root strings.Builder
	root.WriteString(header + `<ofd:OFD xmlns:ofd="` + Namespace + `" DocType="OFD" Version="1.0"><ofd:DocBody><ofd:DocInfo>`)
	fmt.Fprintf(&root, `<ofd:DocID>%s</ofd:DocID>`, esc(d.DocID))
	if d.Title != "" {
		fmt.Fprintf(&root, `<ofd:Title>%s</ofd:Title>`, esc(d.Title))
	}
	if d.Author != "" {
		fmt.Fprintf(&root, `<ofd:Author>%s</ofd:Author>`, esc(d.Author))
	}
	fmt.Fprintf(&root, `<ofd:CreationDate>%s</ofd:CreationDate>`, created.Format("2006-01-02"))
	root.WriteString(`<ofd:Creator>ecert</ofd:Creator></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>`)

	all := []File{
		{"OFD.xml", []byte(root.String())},
		{"Doc_0/Document.xml", []byte(doc.String())},
		{"Doc_0/PublicRes.xml", []byte(pub.String())},
		{"Doc_0/DocumentRes.xml", []byte(docRes.String())},
		{"Doc_0/Pages/Page_0/Content.xml", pg},
	}
	all = append(all, files...)
	return &Package{files: all, deflated: deflated, modified: created, PageID: pageID, MaxUnitID: maxID}, nil
}

func sincos(deg float64) (float64, float64) { return math.Sincos(deg * math.Pi / 180) }

func num6(v float64) string {
	s := strconv.FormatFloat(v, 'f', 6, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// appendDeltas writes DeltaX values, run-length encoding repeats as "g N v".
func appendDeltas(b []byte, ds []float64) []byte {
	var cur, nxt [24]byte
	first := true
	for i := 0; i < len(ds); {
		v := appendNum(cur[:0], ds[i])
		j := i + 1
		for j < len(ds) && string(appendNum(nxt[:0], ds[j])) == string(v) {
			j++
		}
		if !first {
			b = append(b, ' ')
		}
		first = false
		switch j - i {
		case 1:
			b = append(b, v...)
		case 2:
			b = append(b, v...)
			b = append(b, ' ')
			b = append(b, v...)
		default:
			b = append(b, "g "...)
			b = strconv.AppendInt(b, int64(j-i), 10)
			b = append(b, ' ')
			b = append(b, v...)
		}
		i = j
	}
	return b
}

// Files returns the container's files in zip order.
func (p *Package) Files() []File { return append([]File(nil), p.files...) }

// File returns the bytes of one file.
func (p *Package) File(name string) ([]byte, bool) {
	for _, f := range p.files {
		if f.Name == name {
			return f.Data, true
		}
	}
	return nil, false
}

// Add appends a new file (e.g. Doc_0/Signs/Signatures.xml). Names are
// ASCII, slash-separated, relative to the container root.
func (p *Package) Add(name string, data []byte) error {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") || strings.Contains(name, "\\") {
		return fmt.Errorf("ofd: bad file name %q", name)
	}
	for _, r := range name {
		if r > 0x7e || r < 0x21 {
			return fmt.Errorf("ofd: file name %q is not printable ASCII", name)
		}
	}
	if _, ok := p.File(name); ok {
		return fmt.Errorf("ofd: file %s already exists", name)
	}
	p.files = append(p.files, File{name, data})
	return nil
}

// Replace swaps the bytes of an existing file (the signer rewrites OFD.xml
// to point at Signatures.xml before hashing).
func (p *Package) Replace(name string, data []byte) error {
	for i := range p.files {
		if p.files[i].Name == name {
			p.files[i].Data = data
			delete(p.deflated, name)
			return nil
		}
	}
	return fmt.Errorf("ofd: no file %s to replace", name)
}

// WriteTo writes the container as a zip (XML and fonts deflated, PNG stored).
func (p *Package) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	zw := zip.NewWriter(cw)
	// One deflater for all entries (zip writes them one after the other),
	// pooled across documents: allocating one costs more than compressing.
	var fl *flate.Writer
	defer func() {
		if fl != nil {
			deflate.Put(fl)
		}
	}()
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		if fl == nil {
			fl = deflate.Get(w)
		} else {
			fl.Reset(w)
		}
		return fl, nil
	})
	for _, f := range p.files {
		if err := p.writeEntry(zw, f); err != nil {
			return cw.n, fmt.Errorf("ofd: zip %s: %w", f.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return cw.n, fmt.Errorf("ofd: zip: %w", err)
	}
	return cw.n, nil
}

func (p *Package) writeEntry(zw *zip.Writer, f File) error {
	h := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: p.modified}
	if strings.HasSuffix(f.Name, ".png") {
		h.Method = zip.Store // already deflated
	}
	if d, ok := p.deflated[f.Name]; ok {
		// Compressed before (the same bytes went into the PDF): copy as is.
		h.CRC32 = crc32.ChecksumIEEE(f.Data)
		h.UncompressedSize64 = uint64(len(f.Data))
		h.CompressedSize64 = uint64(len(d))
		rawHeaderTimes(h)
		fw, err := zw.CreateRaw(h)
		if err != nil {
			return err
		}
		_, err = fw.Write(d)
		return err
	}
	fw, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = fw.Write(f.Data)
	return err
}

// rawHeaderTimes fills in what zip.Writer.CreateHeader derives from
// Modified and CreateRaw does not: versions, MS-DOS date and time, and the
// extended-timestamp extra field, so raw entries look like the others.
func rawHeaderTimes(h *zip.FileHeader) {
	h.CreatorVersion = h.CreatorVersion&0xff00 | 20
	h.ReaderVersion = 20
	t := h.Modified
	h.ModifiedDate = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	h.ModifiedTime = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	var x [9]byte
	binary.LittleEndian.PutUint16(x[0:], 0x5455) // extended timestamp
	binary.LittleEndian.PutUint16(x[2:], 5)
	x[4] = 1 // modification time present
	binary.LittleEndian.PutUint32(x[5:], uint32(t.Unix()))
	h.Extra = append(h.Extra, x[:]...)
}

// Bytes returns the zipped container.
func (p *Package) Bytes() ([]byte, error) {
	size := 22 // end of central directory
	for _, f := range p.files {
		n := len(f.Data)
		if d, ok := p.deflated[f.Name]; ok {
			n = len(d)
		}
		size += n + 2*(46+len(f.Name)+9) // data, local and central headers
	}
	b := new(bytes.Buffer)
	b.Grow(size) // Grow does not clear the memory, make would
	if _, err := p.WriteTo(b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}
