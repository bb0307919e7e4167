package certgen

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
)

// keyedPNG converts a transparent PNG into a 16-colour paletted PNG whose
// index 0 is fully transparent and whose other colours are the picture
// blended over bg. gopdf embeds such a PNG as is (a colour-key /Mask, no
// soft mask to split and recompress per document), which keeps PDF
// rendering fast; edges stay smooth on the template background.
func keyedPNG(src []byte, bg RGB) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("certgen: seal picture: %w", err)
	}
	b := img.Bounds()
	nrgba := image.NewNRGBA(b)
	draw.Draw(nrgba, b, img, b.Min, draw.Src)
	// Dominant opaque colour = the seal ink.
	var ink color.NRGBA
	for i := 0; i < len(nrgba.Pix); i += 4 {
		if nrgba.Pix[i+3] == 255 {
			ink = color.NRGBA{nrgba.Pix[i], nrgba.Pix[i+1], nrgba.Pix[i+2], 255}
			break
		}
	}
	const levels = 15
	pal := color.Palette{color.NRGBA{}}
	for l := 1; l <= levels; l++ {
		a := float64(l) / levels
		mix := func(c, g uint8) uint8 { return uint8(float64(c)*a + float64(g)*(1-a) + 0.5) }
		pal = append(pal, color.NRGBA{mix(ink.R, bg.R), mix(ink.G, bg.G), mix(ink.B, bg.B), 255})
	}
	out := image.NewPaletted(b, pal)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			a := nrgba.NRGBAAt(x, y).A
			out.SetColorIndex(x, y, uint8((int(a)*levels+127)/255))
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, out); err != nil {
		return nil, fmt.Errorf("certgen: seal picture: %w", err)
	}
	return buf.Bytes(), nil
}
