package certgen

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
)

// pdfImage is a picture ready to be written as a PDF image XObject:
// indices into an RGB palette, zlib-compressed once, with index 0 the
// transparent colour key (/Mask [0 0]).
type pdfImage struct {
	W, H    int
	Bits    int    // bits per index
	Palette []byte // RGB triples
	Data    []byte // zlib stream of the indices, rows padded to a byte
}

// keyedImage converts a transparent PNG into a 16-colour indexed picture
// whose index 0 is fully transparent and whose other colours are the
// picture blended over bg. A colour-key mask needs no soft-mask image, and
// the compressed data is made once per seal, not per document; edges stay
// smooth on the template background.
func keyedImage(src []byte, bg RGB) (*pdfImage, error) {
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
	pal := []byte{bg.R, bg.G, bg.B} // index 0: masked out
	for l := 1; l <= levels; l++ {
		a := float64(l) / levels
		mix := func(c, g uint8) uint8 { return uint8(float64(c)*a + float64(g)*(1-a) + 0.5) }
		pal = append(pal, mix(ink.R, bg.R), mix(ink.G, bg.G), mix(ink.B, bg.B))
	}
	// 4 bits per index, rows padded to a byte; compressed hard, once per seal.
	w, h := b.Dx(), b.Dy()
	stride := (w + 1) / 2
	idx := make([]byte, stride*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			a := nrgba.NRGBAAt(b.Min.X+x, b.Min.Y+y).A
			v := uint8((int(a)*levels + 127) / 255)
			if x%2 == 0 {
				v <<= 4
			}
			idx[y*stride+x/2] |= v
		}
	}
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write(idx)
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("certgen: seal picture: %w", err)
	}
	return &pdfImage{W: w, H: h, Bits: 4, Palette: pal, Data: z.Bytes()}, nil
}
