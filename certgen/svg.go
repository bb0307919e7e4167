package certgen

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// svgFontFamily is the font stack of SVG text. The preview uses the
// viewer's CJK serif fonts rather than embedding the template's subsets,
// so glyph shapes may differ from the PDF/OFD; positions do not, since
// every glyph is placed at the template font's advance.
const svgFontFamily = `'Songti SC','STSong','SimSun','Noto Serif CJK SC','Source Han Serif SC','Noto Sans CJK SC',serif`

// RenderSVG renders c as an SVG picture of its page for on-screen preview,
// from the same layout as the PDF and OFD. The viewBox is the page in mm.
// It is not a signed document and is not meant to be printed or kept.
func (r *Renderer) RenderSVG(ctx context.Context, c *Certificate) ([]byte, error) {
	p, err := r.layout(ctx, c)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(64 << 10)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" xml:space="preserve" viewBox="0 0 %s %s" width="%smm" height="%smm">`,
		num(p.W), num(p.H), num(p.W), num(p.H))
	for _, op := range p.ops {
		switch o := op.(type) {
		case rectOp:
			if o.Fill == nil && o.Stroke == nil {
				continue
			}
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s"`, num(o.X), num(o.Y), num(o.W), num(o.H))
			if o.Fill != nil {
				fmt.Fprintf(&b, ` fill="%s"`, hexColor(*o.Fill))
			} else {
				b.WriteString(` fill="none"`)
			}
			if o.Stroke != nil {
				fmt.Fprintf(&b, ` stroke="%s" stroke-width="%s"`, hexColor(*o.Stroke), num(o.LineWidth))
			}
			b.WriteString(`/>`)
		case textOp:
			svgText(&b, o)
		case qrOp:
			n := len(o.Modules)
			if n == 0 {
				continue
			}
			m := o.W / float64(n)
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="#ffffff"/>`, num(o.X), num(o.Y), num(o.W), num(o.H))
			fmt.Fprintf(&b, `<path class="qr" fill="#000000" shape-rendering="crispEdges" d="`)
			for y, row := range o.Modules {
				for x, dark := range row {
					if dark {
						fmt.Fprintf(&b, "M%s %sh%sv%sh-%sz", num(o.X+float64(x)*m), num(o.Y+float64(y)*m), num(m), num(m), num(m))
					}
				}
			}
			b.WriteString(`"/>`)
		case imageOp:
			fmt.Fprintf(&b, `<image class="seal" x="%s" y="%s" width="%s" height="%s" href="data:image/png;base64,`, num(o.X), num(o.Y), num(o.W), num(o.H))
			b.WriteString(base64.StdEncoding.EncodeToString(o.PNG))
			b.WriteString(`"/>`)
		}
	}
	b.WriteString(`</svg>`)
	return b.Bytes(), nil
}

// svgText writes one run of text: each glyph at its own x, so the line
// keeps the layout's widths whatever font the viewer substitutes.
func svgText(b *bytes.Buffer, o textOp) {
	if len(o.Runes) == 0 {
		return
	}
	b.WriteString(`<text x="`)
	x := o.X
	for i := range o.Runes {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(num(x))
		if i < len(o.Adv) {
			x += o.Adv[i]
		}
	}
	fmt.Fprintf(b, `" y="%s" font-size="%s" fill="%s" font-family="%s"`, num(o.Y), num(o.Size/ptPerMM), hexColor(o.Color), svgFontFamily)
	if o.Angle != 0 {
		// Angle is counter-clockwise; SVG rotates clockwise in y-down space.
		fmt.Fprintf(b, ` transform="rotate(%s %s %s)"`, num(-o.Angle), num(o.X), num(o.Y))
	}
	b.WriteByte('>')
	xml.EscapeText(b, []byte(string(o.Runes)))
	b.WriteString(`</text>`)
}

// num formats v in mm to 0.001 mm, without trailing zeros.
func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}

func hexColor(c RGB) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }
