package certgen

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/ecert/ecert/certgen/ofd"
)

// OFDPackage renders c as an unsigned OFD container. The signer adds
// Doc_0/Signs/... to the returned package before zipping it; the page ID
// for StampAnnot@PageRef is pkg.PageID and the seal box is SealRect.
func (r *Renderer) OFDPackage(ctx context.Context, c *Certificate) (*ofd.Package, error) {
	d, err := r.prepare(ctx, c)
	if err != nil {
		return nil, err
	}
	return r.ofdPackage(d)
}

func (r *Renderer) ofdPackage(dc *doc) (*ofd.Package, error) {
	c, p := dc.c, dc.p
	d := &ofd.Document{
		DocID:        docID(c),
		Title:        r.tmpl.Title,
		Author:       c.Authority,
		CreationDate: dc.created(),
		Width:        p.W,
		Height:       p.H,
	}
	fontIdx := make([]int, len(r.fonts))
	for i, f := range dc.fonts {
		fontIdx[i] = -1
		if f == nil {
			continue
		}
		fontIdx[i] = len(d.Fonts)
		d.Fonts = append(d.Fonts, ofd.Font{Name: strings.TrimSuffix(f.name, ".ttf"), Data: f.z.Raw, Deflated: f.z.Deflated})
	}
	for _, op := range p.ops {
		switch o := op.(type) {
		case rectOp:
			b := ofd.Box{Boundary: ofd.Rect{X: o.X, Y: o.Y, W: o.W, H: o.H}, LineWidth: o.LineWidth}
			if o.Stroke != nil {
				b.Stroke = &ofd.RGB{R: o.Stroke.R, G: o.Stroke.G, B: o.Stroke.B}
			}
			if o.Fill != nil {
				b.Fill = &ofd.RGB{R: o.Fill.R, G: o.Fill.G, B: o.Fill.B}
			}
			d.Objects = append(d.Objects, b)
		case textOp:
			d.Objects = append(d.Objects, ofd.Text{
				Font: fontIdx[o.Font], Size: o.Size / ptPerMM, X: o.X, Y: o.Y,
				DeltaX: o.Adv[:len(o.Adv)-1], Text: string(o.Runes),
				Fill: ofd.RGB{R: o.Color.R, G: o.Color.G, B: o.Color.B}, Angle: o.Angle,
			})
		case qrOp:
			png, err := dc.qrPNG(o)
			if err != nil {
				return nil, err
			}
			d.Images = append(d.Images, ofd.Image{Format: "PNG", Data: png})
			d.Objects = append(d.Objects, ofd.Picture{Image: len(d.Images) - 1, Boundary: ofd.Rect{X: o.X, Y: o.Y, W: o.W, H: o.H}})
		case imageOp:
			d.Images = append(d.Images, ofd.Image{Format: "PNG", Data: o.PNG})
			d.Objects = append(d.Objects, ofd.Picture{Image: len(d.Images) - 1, Boundary: ofd.Rect{X: o.X, Y: o.Y, W: o.W, H: o.H}})
		}
	}
	return ofd.Build(d)
}

// OFD renders c as an unsigned OFD file.
func (r *Renderer) OFD(ctx context.Context, c *Certificate) ([]byte, error) {
	pkg, err := r.OFDPackage(ctx, c)
	if err != nil {
		return nil, err
	}
	return pkg.Bytes()
}

// docID derives a stable 32-hex document ID from the licence identifier
// (and the copy serial), so re-rendering the same certificate gives the same ID.
func docID(c *Certificate) string {
	k := c.LicenceID
	if c.Copy != nil {
		k += "|copy|" + c.Copy.Serial
	}
	h := sha256.Sum256([]byte(k))
	return hex.EncodeToString(h[:16])
}
