package certgen

import (
	"context"
	"fmt"
	"time"

	"github.com/ecert/ecert/certgen/internal/deflate"
	"github.com/ecert/ecert/certgen/ofd"
)

// Output is one certificate rendered to both formats from a single layout.
type Output struct {
	// PDF is the unsigned PDF file.
	PDF []byte
	// OFD is the unsigned OFD container before zipping: a signer can add
	// Doc_0/Signs/... and replace OFD.xml, then zip it once with Bytes or
	// WriteTo. Call OFD.Bytes() for the unsigned file.
	OFD *ofd.Package
}

// Render lays c out once and writes it as PDF and OFD. It costs less than
// calling PDF and OFD one after the other: validation, layout, the QR code
// the font subsets and the QR picture are shared.
func (r *Renderer) Render(ctx context.Context, c *Certificate) (pdf, ofd []byte, err error) {
	out, err := r.RenderOutput(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	o, err := out.OFD.Bytes()
	if err != nil {
		return nil, nil, err
	}
	return out.PDF, o, nil
}

// RenderOutput is Render that hands over the OFD as an unzipped package.
func (r *Renderer) RenderOutput(ctx context.Context, c *Certificate) (*Output, error) {
	d, err := r.prepare(ctx, c)
	if err != nil {
		return nil, err
	}
	pdf, err := r.writePDF(d)
	if err != nil {
		return nil, err
	}
	pkg, err := r.ofdPackage(d)
	if err != nil {
		return nil, err
	}
	return &Output{PDF: pdf, OFD: pkg}, nil
}

// docFont is one font subset for one document, shared by both formats and
// compressed once for both: gopdf embeds the compressed program as given
// (third_party/gopdf, TtfOption.EmbedProgram), the OFD stores the same
// DEFLATE stream as its zip entry.
type docFont struct {
	name string          // file name of the template font
	data []byte          // the subset font file
	z    *deflate.Stream // data compressed
}

// doc is a laid-out certificate with its font subsets.
type doc struct {
	c     *Certificate
	p     *page
	fonts []*docFont // by Renderer.fonts index; nil: unused
	// qr holds the QR pictures (the URL's, the claim's), made by the first
	// format that draws them, by their modules' first row.
	qr map[*[]bool][]byte
}

// qrPNG is a QR code as a 1-bit PNG with 4 pixels per module, made once
// per document for both formats. Four pixels per module keep the edges
// sharp in readers that smooth scaled-up pictures.
func (d *doc) qrPNG(o qrOp) ([]byte, error) {
	if len(o.Modules) == 0 {
		return nil, fmt.Errorf("certgen: empty QR code")
	}
	k := &o.Modules[0]
	if b, ok := d.qr[k]; ok {
		return b, nil
	}
	b, err := qrPNG(o.Modules, 4)
	if err != nil {
		return nil, err
	}
	if d.qr == nil {
		d.qr = make(map[*[]bool][]byte, 2)
	}
	d.qr[k] = b
	return b, nil
}

// prepare validates and lays out c and subsets the fonts it uses.
func (r *Renderer) prepare(ctx context.Context, c *Certificate) (*doc, error) {
	p, err := r.layout(ctx, c)
	if err != nil {
		return nil, err
	}
	d := &doc{c: c, p: p, fonts: make([]*docFont, len(r.fonts))}
	for i, rs := range p.runesByFont() {
		if rs == nil {
			continue
		}
		sub, err := r.fonts[i].font.Subset(rs)
		if err != nil {
			return nil, fmt.Errorf("certgen: %w", err)
		}
		d.fonts[i] = &docFont{name: r.fonts[i].name, data: sub, z: deflate.Compress(sub)}
	}
	return d, nil
}

// created is the document date written to both formats: the issue date,
// or the first day of a usage copy.
func (d *doc) created() time.Time {
	if d.c.Copy != nil {
		return d.c.Copy.ValidFrom.Time(time.UTC)
	}
	return d.c.IssueDate.Time(time.UTC)
}
