// Package seal draws an issuing authority's round red seal (公章式样) as a
// transparent PNG: an outer ring, the authority's name along the upper arc,
// a five-pointed star in the middle and an optional seal name below it.
// Deployments configure it instead of preparing an image by hand. The
// picture only shows where the electronic seal is; the legal value lies in
// the signature that signing adds.
package seal

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strconv"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"github.com/ecert/ecert/certgen/fonts"
)

// Config describes a seal picture.
type Config struct {
	Authority string // along the upper arc, 2 to 30 characters
	SealName  string // optional, below the star (e.g. 电子证照专用章), at most 12 characters
	Color     string // #RRGGBB, default #D4141E
	SizePx    int    // width and height of the picture, 64..2048, default 320
}

// Generate draws the seal with glyphs from the first font of fs that has
// each character. A character no font has is an error naming it.
func Generate(cfg Config, fs []*fonts.Font) ([]byte, error) {
	name := []rune(cfg.Authority)
	if len(name) < 2 || len(name) > 30 {
		return nil, fmt.Errorf("seal: authority name must have 2 to 30 characters, has %d", len(name))
	}
	if n := len([]rune(cfg.SealName)); n > 12 {
		return nil, fmt.Errorf("seal: seal name must have at most 12 characters, has %d", n)
	}
	size := cfg.SizePx
	if size == 0 {
		size = 320
	}
	if size < 64 || size > 2048 {
		return nil, fmt.Errorf("seal: size %d px out of range 64..2048", size)
	}
	col := color.NRGBA{0xD4, 0x14, 0x1E, 0xFF}
	if cfg.Color != "" {
		v, err := strconv.ParseUint(cfg.Color[min(1, len(cfg.Color)):], 16, 32)
		if err != nil || len(cfg.Color) != 7 || cfg.Color[0] != '#' {
			return nil, fmt.Errorf("seal: colour %q is not #RRGGBB", cfg.Color)
		}
		col = color.NRGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xFF}
	}
	g := &glyphs{fonts: fs, parsed: map[*fonts.Font]*sfnt.Font{}}
	S := float64(size)
	c := S / 2
	ras := vector.NewRasterizer(size, size)

	// Ring: outer circle clockwise, inner anticlockwise, so the inside cancels.
	R, th := 0.485*S, 0.034*S
	circle(ras, c, c, R, false)
	circle(ras, c, c, R-th, true)

	// Star.
	star(ras, c, c, 0.17*S)

	// Authority name along the upper arc, glyph tops towards the ring.
	em := 0.15 * S
	if len(name) > 14 {
		em = 0.15 * S * 14 / float64(len(name))
	}
	rb := R - th - 0.025*S - 0.88*em // baseline radius
	span := math.Min(250, float64(len(name))*(em*1.05/rb)*180/math.Pi)
	for i, ch := range name {
		theta := (-span/2 + span*(float64(i)+0.5)/float64(len(name))) * math.Pi / 180
		T := [2]float64{math.Cos(theta), math.Sin(theta)}  // tangent (clockwise)
		U := [2]float64{math.Sin(theta), -math.Cos(theta)} // outward
		B := [2]float64{c + rb*U[0], c + rb*U[1]}
		if err := g.draw(ras, ch, em, B, T, U, "authority"); err != nil {
			return nil, err
		}
	}
	// Seal name, horizontal below the star.
	if sn := []rune(cfg.SealName); len(sn) > 0 {
		em2 := 0.085 * S
		w := 0.0
		for _, ch := range sn {
			a, err := g.advance(ch, em2, "seal_name")
			if err != nil {
				return nil, err
			}
			w += a
		}
		x := c - w/2
		for _, ch := range sn {
			a, _ := g.advance(ch, em2, "seal_name")
			B := [2]float64{x + a/2, c + 0.33*S}
			if err := g.draw(ras, ch, em2, B, [2]float64{1, 0}, [2]float64{0, -1}, "seal_name"); err != nil {
				return nil, err
			}
			x += a
		}
	}

	mask := image.NewAlpha(image.Rect(0, 0, size, size))
	ras.Draw(mask, mask.Bounds(), image.Opaque, image.Point{})
	// 16 alpha levels of the ink colour: a paletted PNG with tRNS, a fraction
	// of the size of an RGBA one, still smooth at the edges.
	const levels = 15
	pal := color.Palette{color.NRGBA{}}
	for l := 1; l <= levels; l++ {
		pal = append(pal, color.NRGBA{col.R, col.G, col.B, uint8(255 * l / levels)})
	}
	img := image.NewPaletted(mask.Bounds(), pal)
	for i, a := range mask.Pix {
		img.Pix[i] = uint8((int(a)*levels + 127) / 255)
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("seal: encoding PNG: %w", err)
	}
	return b.Bytes(), nil
}

func circle(ras *vector.Rasterizer, cx, cy, r float64, ccw bool) {
	const n = 96
	for i := 0; i <= n; i++ {
		a := 2 * math.Pi * float64(i) / n
		if ccw {
			a = -a
		}
		x, y := float32(cx+r*math.Cos(a)), float32(cy+r*math.Sin(a))
		if i == 0 {
			ras.MoveTo(x, y)
		} else {
			ras.LineTo(x, y)
		}
	}
	ras.ClosePath()
}

func star(ras *vector.Rasterizer, cx, cy, r float64) {
	ri := r * math.Sin(18*math.Pi/180) / math.Sin(126*math.Pi/180) // inner radius of a regular star
	for i := 0; i < 10; i++ {
		rr := r
		if i%2 == 1 {
			rr = ri
		}
		a := -math.Pi/2 + float64(i)*math.Pi/5
		x, y := float32(cx+rr*math.Cos(a)), float32(cy+rr*math.Sin(a))
		if i == 0 {
			ras.MoveTo(x, y)
		} else {
			ras.LineTo(x, y)
		}
	}
	ras.ClosePath()
}

type glyphs struct {
	fonts  []*fonts.Font
	parsed map[*fonts.Font]*sfnt.Font
	buf    sfnt.Buffer
}

func (g *glyphs) find(ch rune, field string) (*sfnt.Font, sfnt.GlyphIndex, error) {
	for _, f := range g.fonts {
		if !f.Has(ch) {
			continue
		}
		sf := g.parsed[f]
		if sf == nil {
			var err error
			if sf, err = sfnt.Parse(f.Bytes()); err != nil {
				return nil, 0, fmt.Errorf("seal: font %s: %w", f.Name, err)
			}
			g.parsed[f] = sf
		}
		gi, err := sf.GlyphIndex(&g.buf, ch)
		if err != nil || gi == 0 {
			continue
		}
		return sf, gi, nil
	}
	return nil, 0, fmt.Errorf("seal: %s: character %q (U+%04X) has no glyph in any font", field, ch, ch)
}

func (g *glyphs) advance(ch rune, em float64, field string) (float64, error) {
	sf, gi, err := g.find(ch, field)
	if err != nil {
		return 0, err
	}
	a, err := sf.GlyphAdvance(&g.buf, gi, fixed.Int26_6(em*64), 0)
	if err != nil {
		return 0, fmt.Errorf("seal: advance of %q: %w", ch, err)
	}
	return float64(a) / 64, nil
}

// draw adds glyph ch, em pixels high, centred horizontally on baseline point
// B, with baseline direction T and up direction U.
func (g *glyphs) draw(ras *vector.Rasterizer, ch rune, em float64, B, T, U [2]float64, field string) error {
	sf, gi, err := g.find(ch, field)
	if err != nil {
		return err
	}
	adv, err := g.advance(ch, em, field)
	if err != nil {
		return err
	}
	segs, err := sf.LoadGlyph(&g.buf, gi, fixed.Int26_6(em*64), nil)
	if err != nil {
		return fmt.Errorf("seal: outline of %q: %w", ch, err)
	}
	pt := func(p fixed.Point26_6) (float32, float32) {
		x, y := float64(p.X)/64-adv/2, -float64(p.Y)/64 // y up
		return float32(B[0] + x*T[0] + y*U[0]), float32(B[1] + x*T[1] + y*U[1])
	}
	for _, s := range segs {
		switch s.Op {
		case sfnt.SegmentOpMoveTo:
			ras.MoveTo(pt(s.Args[0]))
		case sfnt.SegmentOpLineTo:
			ras.LineTo(pt(s.Args[0]))
		case sfnt.SegmentOpQuadTo:
			x1, y1 := pt(s.Args[0])
			x2, y2 := pt(s.Args[1])
			ras.QuadTo(x1, y1, x2, y2)
		case sfnt.SegmentOpCubeTo:
			x1, y1 := pt(s.Args[0])
			x2, y2 := pt(s.Args[1])
			x3, y3 := pt(s.Args[2])
			ras.CubeTo(x1, y1, x2, y2, x3, y3)
		}
	}
	ras.ClosePath()
	return nil
}
