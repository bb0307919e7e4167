package certgen

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"hash/crc32"
	"regexp"
	"strconv"
	"strings"

	"github.com/signintech/gopdf"
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

// writePDF writes a laid-out certificate as PDF with gopdf, the PDF library
// the design fixes. gopdf gets the per-document font subsets prepare made
// (a few KB each, only the glyphs drawn) rather than the source fonts, so
// its parsing stays small, and embeds each subset as it is, already
// compressed (the same DEFLATE stream as the OFD's), as a Type0 /
// CIDFontType2 font with a ToUnicode CMap, which fixToUnicode repairs for
// characters beyond the BMP.
func (r *Renderer) writePDF(d *doc) ([]byte, error) {
	out, err := r.gopdfBytes(d)
	if err != nil || !d.p.nonBMP() {
		return out, err
	}
	return fixToUnicode(out)
}

// gopdfBytes is the PDF exactly as gopdf writes it.
func (r *Renderer) gopdfBytes(d *doc) ([]byte, error) {
	p := d.p
	k := ptPerMM
	gp := &gopdf.GoPdf{}
	gp.Start(gopdf.Config{Unit: gopdf.UnitPT, PageSize: gopdf.Rect{W: p.W * k, H: p.H * k}})
	// Page content and font programs at the fastest level: our gopdf
	// (third_party/gopdf, ECERT-PATCHES.md) reuses its zlib writers, and
	// level 1 on the few KB of a certificate costs a fraction of the
	// default level for a few hundred bytes more.
	gp.SetCompressLevel(zlib.BestSpeed)
	gp.SetInfo(gopdf.PdfInfo{
		Title:        r.tmpl.Title,
		Author:       d.c.Authority,
		Creator:      "ecert",
		Producer:     "ecert certgen (gopdf)",
		CreationDate: d.created(),
	})
	// gopdf writes the family as /BaseFont: name it like a subset
	// ("ABCDEF+DejaVuSans"), the tag derived from the subset's bytes.
	family := make([]string, len(d.fonts))
	for i, f := range d.fonts {
		if f == nil {
			continue
		}
		family[i] = subsetTag(f.data) + "+" + pdfName(strings.TrimSuffix(f.name, ".ttf"))
		opt := gopdf.TtfOption{
			Style:                     gopdf.Regular,
			OnGlyphNotFoundSubstitute: gopdf.DefaultOnGlyphNotFoundSubstitute,
			// The subset holds exactly the glyphs drawn: embed it (compressed
			// once, for the OFD too) rather than have gopdf rebuild it.
			EmbedProgram: &gopdf.FontProgram{Zlib: f.z.Zlib(), Length1: len(f.data)},
		}
		if err := gp.AddTTFFontDataWithOption(family[i], f.data, opt); err != nil {
			return nil, fmt.Errorf("certgen: PDF font %s: %w", f.name, err)
		}
	}
	gp.AddPage()
	for _, op := range p.ops {
		switch o := op.(type) {
		case rectOp:
			style := ""
			if o.Fill != nil {
				gp.SetFillColor(o.Fill.R, o.Fill.G, o.Fill.B)
				style = "F"
			}
			if o.Stroke != nil {
				gp.SetStrokeColor(o.Stroke.R, o.Stroke.G, o.Stroke.B)
				gp.SetLineWidth(o.LineWidth * k)
				style = "D" + style
			}
			if style == "" {
				continue
			}
			gp.RectFromUpperLeftWithStyle(o.X*k, o.Y*k, o.W*k, o.H*k, style)
		case textOp:
			if err := gp.SetFont(family[o.Font], "", o.Size); err != nil {
				return nil, fmt.Errorf("certgen: PDF: %w", err)
			}
			gp.SetTextColor(o.Color.R, o.Color.G, o.Color.B)
			x, y := o.X*k, o.Y*k
			if o.Angle != 0 {
				gp.Rotate(o.Angle, x, y)
			}
			gp.SetXY(x, y)
			if err := gp.Text(string(o.Runes)); err != nil {
				return nil, fmt.Errorf("certgen: PDF text: %w", err)
			}
			if o.Angle != 0 {
				gp.RotateReset()
			}
		case qrOp:
			if err := drawQR(gp, d, o); err != nil {
				return nil, err
			}
		case imageOp:
			h, err := gopdf.ImageHolderByBytes(o.PDFPNG)
			if err != nil {
				return nil, fmt.Errorf("certgen: PDF image: %w", err)
			}
			if err := gp.ImageByHolder(h, o.X*k, o.Y*k, &gopdf.Rect{W: o.W * k, H: o.H * k}); err != nil {
				return nil, fmt.Errorf("certgen: PDF image: %w", err)
			}
		}
	}
	// A certificate is about 38 KB: write it into a buffer that does not
	// have to grow (gopdf's own buffer starts empty and doubles).
	out := new(bytes.Buffer)
	out.Grow(64 << 10) // Grow does not clear the memory, make would
	if _, err := gp.WriteTo(out); err != nil {
		return nil, fmt.Errorf("certgen: writing PDF: %w", err)
	}
	return out.Bytes(), nil
}

// subsetTag derives the six capital letters that prefix the name of an
// embedded subset from its contents, so equal subsets get equal names.
func subsetTag(font []byte) string {
	v := crc32.ChecksumIEEE(font)
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

// drawQR draws the QR code as the 1-bit picture the OFD uses too. gopdf
// embeds such a PNG without recompressing it; drawing the modules as
// gopdf rectangles instead cost about 1 ms more per document (one content
// object per run of dark modules).
func drawQR(gp *gopdf.GoPdf, d *doc, o qrOp) error {
	png, err := d.qrPNG(o)
	if err != nil {
		return err
	}
	h, err := gopdf.ImageHolderByBytes(png)
	if err != nil {
		return fmt.Errorf("certgen: PDF QR picture: %w", err)
	}
	k := ptPerMM
	if err := gp.ImageByHolder(h, o.X*k, o.Y*k, &gopdf.Rect{W: o.W * k, H: o.H * k}); err != nil {
		return fmt.Errorf("certgen: PDF QR picture: %w", err)
	}
	return nil
}

// bfrangeNonBMP finds the ToUnicode entries gopdf writes for characters
// beyond the BMP: destinations of 5 or 6 hex digits (<20BB7>), which
// readers misinterpret (pdftotext, copy and paste give wrong characters).
var bfrangeNonBMP = regexp.MustCompile(`(?m)^<([0-9A-F]{4})><([0-9A-F]{4})><([0-9A-F]{5,6})>$`)

// fixToUnicode rewrites every ToUnicode CMap entry of a non-BMP character
// as a UTF-16 surrogate pair and repairs the stream /Length and the
// cross-reference offsets that the longer stream moves.
func fixToUnicode(pdf []byte) ([]byte, error) {
	marker := []byte("/CMapName /Adobe-Identity-UCS")
	type patch struct {
		at, oldLen int
		data       []byte
	}
	var patches []patch
	pos := 0
	for {
		i := bytes.Index(pdf[pos:], marker)
		if i < 0 {
			break
		}
		i += pos
		s := bytes.LastIndex(pdf[:i], []byte("stream\n"))
		e := bytes.Index(pdf[i:], []byte("endstream"))
		if s < 0 || e < 0 {
			return nil, fmt.Errorf("certgen: PDF: unexpected ToUnicode layout")
		}
		d := bytes.LastIndex(pdf[:s], []byte("/Length "))
		if d < 0 {
			return nil, fmt.Errorf("certgen: PDF: ToUnicode stream without /Length")
		}
		e += i
		body := pdf[s+len("stream\n") : e]
		fixed := bfrangeNonBMP.ReplaceAllFunc(body, func(m []byte) []byte {
			sub := bfrangeNonBMP.FindSubmatch(m)
			v, _ := strconv.ParseUint(string(sub[3]), 16, 32)
			r := rune(v) - 0x10000
			return fmt.Appendf(nil, "<%s><%s><%04X%04X>", sub[1], sub[2], 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		})
		if !bytes.Equal(fixed, body) {
			le := bytes.IndexByte(pdf[d:], '\n') + d // "/Length N" ends the line
			patches = append(patches, patch{d, le - d, fmt.Appendf(nil, "/Length %d", len(fixed))})
			patches = append(patches, patch{s + len("stream\n"), len(body), fixed})
		}
		pos = e
	}
	if len(patches) == 0 {
		return pdf, nil
	}
	xref := bytes.LastIndex(pdf, []byte("\nxref\n"))
	if xref < 0 {
		return nil, fmt.Errorf("certgen: PDF: no classic xref table")
	}
	xref++
	shift := func(off int) int {
		d := 0
		for _, p := range patches {
			if p.at < off {
				d += len(p.data) - p.oldLen
			}
		}
		return off + d
	}
	var out bytes.Buffer
	out.Grow(len(pdf) + 256)
	last := 0
	for _, p := range patches {
		out.Write(pdf[last:p.at])
		out.Write(p.data)
		last = p.at + p.oldLen
	}
	out.Write(pdf[last:xref])
	// Rewrite the xref table: "0 N" header, then 20-byte entries.
	for _, ln := range bytes.SplitAfter(pdf[xref:], []byte("\n")) {
		if len(ln) == 20 && ln[17] == 'n' && ln[10] == ' ' {
			off, err := strconv.Atoi(string(ln[:10]))
			if err != nil {
				return nil, fmt.Errorf("certgen: PDF: bad xref entry %q", ln)
			}
			fmt.Fprintf(&out, "%010d%s", shift(off), ln[10:])
			continue
		}
		if bytes.Equal(ln, []byte("startxref\n")) {
			out.Write(ln)
			fmt.Fprintf(&out, "%d\n%%%%EOF\n", shift(xref))
			return out.Bytes(), nil
		}
		out.Write(ln)
	}
	return nil, fmt.Errorf("certgen: PDF: no startxref after the xref table")
}
