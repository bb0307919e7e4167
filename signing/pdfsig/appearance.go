package pdfsig

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image/png"
)

// MaxSealPixels bounds the seal picture's size (width × height).
const MaxSealPixels = 4 << 20

// Appearance is a seal picture prepared once for many signatures: the PNG
// decoded into an RGB image stream and an alpha soft mask, both deflated.
type Appearance struct {
	w, h       int
	rgb, alpha []byte // zlib streams; alpha nil when opaque
	onPage     bool   // PageSeal
}

// PageSeal is the appearance for a page whose content already shows the
// seal picture in the signature's rectangle, as ecert's renderer draws it.
// The widget still marks the place and carries the signature, but its
// appearance is empty: the picture is not stored a second time (for a
// 331 px seal, an RGB image and soft mask of ≈ 23 KB).
func PageSeal() *Appearance { return &Appearance{onPage: true} }

// NewAppearance prepares a PNG seal picture for the visible signature.
func NewAppearance(pngData []byte) (*Appearance, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(pngData))
	if err != nil {
		return nil, fmt.Errorf("seal picture: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > MaxSealPixels {
		return nil, fmt.Errorf("seal picture: %dx%d pixels is out of range", cfg.Width, cfg.Height)
	}
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		return nil, fmt.Errorf("seal picture: %w", err)
	}
	b := img.Bounds()
	rgb := make([]byte, 0, b.Dx()*b.Dy()*3)
	alpha := make([]byte, 0, b.Dx()*b.Dy())
	opaque := true
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			// Un-premultiply so that the soft mask composes correctly.
			if a > 0 && a < 0xffff {
				r, g, bl = r*0xffff/a, g*0xffff/a, bl*0xffff/a
			}
			rgb = append(rgb, byte(r>>8), byte(g>>8), byte(bl>>8))
			alpha = append(alpha, byte(a>>8))
			if a != 0xffff {
				opaque = false
			}
		}
	}
	ap := &Appearance{w: b.Dx(), h: b.Dy(), rgb: deflate(rgb)}
	if !opaque {
		ap.alpha = deflate(alpha)
	}
	return ap, nil
}

func deflate(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&buf, zlib.BestSpeed)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}
