package certgen

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	qrcode "github.com/skip2/go-qrcode"
)

// qrModules encodes url as a QR code (error correction M) and returns its
// modules including the 4-module quiet zone, true = dark.
func qrModules(url string) ([][]bool, error) {
	q, err := qrcode.New(url, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("certgen: QR code for %q: %w", url, err)
	}
	return q.Bitmap(), nil
}

// qrPNG draws the modules as a 1-bit-deep paletted PNG with scale pixels per
// module (for the OFD ImageObject; readers scale it without blurring edges
// as long as scale is a few pixels).
func qrPNG(mods [][]bool, scale int) ([]byte, error) {
	n := len(mods)
	img := image.NewPaletted(image.Rect(0, 0, n*scale, n*scale), color.Palette{color.White, color.Black})
	for y, row := range mods {
		for x, dark := range row {
			if !dark {
				continue
			}
			for dy := 0; dy < scale; dy++ {
				off := (y*scale+dy)*img.Stride + x*scale
				for dx := 0; dx < scale; dx++ {
					img.Pix[off+dx] = 1
				}
			}
		}
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("certgen: QR picture: %w", err)
	}
	return b.Bytes(), nil
}
