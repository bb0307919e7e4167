package certgen

import (
	"context"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/ecert/ecert/certgen/fonts"
	"github.com/ecert/ecert/certgen/seal"
	"github.com/ecert/ecert/templates"
)

const ptPerMM = 72 / 25.4

// Options configure a Renderer.
type Options struct {
	// VerifyBaseURL is the public verification endpoint. A certificate without
	// its own verify_url gets VerifyBaseURL + "/" + licence_id, a usage copy
	// VerifyBaseURL + "/" + licence_id + "?copy=" + serial; with a
	// verification code, "?code=" + code comes first ("?code=…&copy=…").
	VerifyBaseURL string
	// SealPNG replaces the generated seal picture (a transparent PNG).
	SealPNG []byte
	// FS holds the fonts named by the template (fonts/<name>); default templates.FS.
	FS fs.FS
}

// Renderer lays out certificates on one template and writes them as PDF or
// OFD. It is safe for concurrent use; fonts are parsed once per process.
type Renderer struct {
	tmpl  *Template
	opt   Options
	fonts []*fontEntry
	seals sync.Map // authority -> *sealEntry
}

type sealEntry struct {
	once   sync.Once
	png    []byte // transparent (OFD)
	pdfPNG []byte // paletted with a transparent key colour (PDF)
	err    error
}

type fontEntry struct {
	name string
	font *fonts.Font
}

var fontCache sync.Map // name|len|crc -> *fontEntry (loaded)

func loadFont(fsys fs.FS, name string) (*fontEntry, error) {
	data, err := fs.ReadFile(fsys, "fonts/"+name)
	if err != nil {
		return nil, fmt.Errorf("certgen: font %s: %w", name, err)
	}
	key := name + "|" + strconv.Itoa(len(data)) + "|" + strconv.FormatUint(uint64(crc32.ChecksumIEEE(data)), 16)
	if e, ok := fontCache.Load(key); ok {
		return e.(*fontEntry), nil
	}
	f, err := fonts.Parse(name, data)
	if err != nil {
		return nil, fmt.Errorf("certgen: %w", err)
	}
	e, _ := fontCache.LoadOrStore(key, &fontEntry{name: name, font: f})
	return e.(*fontEntry), nil
}

// New returns a Renderer for tmpl.
func New(tmpl *Template, opt Options) (*Renderer, error) {
	if opt.FS == nil {
		opt.FS = templates.FS
	}
	if opt.VerifyBaseURL != "" {
		if err := checkURL("verify base URL", opt.VerifyBaseURL); err != nil {
			return nil, err
		}
	}
	r := &Renderer{tmpl: tmpl, opt: opt}
	for _, n := range tmpl.Fonts {
		e, err := loadFont(opt.FS, n)
		if err != nil {
			return nil, err
		}
		r.fonts = append(r.fonts, e)
	}
	return r, nil
}

// NewDefault returns a Renderer for the built-in 二级建造师注册证书 template.
func NewDefault(opt Options) (*Renderer, error) {
	t, err := LoadTemplate(templates.FS, templates.Default)
	if err != nil {
		return nil, err
	}
	return New(t, opt)
}

// Template returns the renderer's template.
func (r *Renderer) Template() *Template { return r.tmpl }

// Rect is a rectangle.
type Rect struct{ X, Y, W, H float64 }

// SealRect returns where the seal sits, in mm from the page's top-left
// corner (OFD page space: the StampAnnot Boundary).
func (r *Renderer) SealRect() Rect {
	b := r.tmpl.Seal
	return Rect{b.X, b.Y, b.W, b.H}
}

// SealRectPDF returns where the seal sits in PDF user space: points from
// the bottom-left corner (the /Rect of a visible signature widget is
// [X, Y, X+W, Y+H]).
func (r *Renderer) SealRectPDF() Rect {
	b := r.tmpl.Seal
	return Rect{b.X * ptPerMM, (r.tmpl.Page.H - b.Y - b.H) * ptPerMM, b.W * ptPerMM, b.H * ptPerMM}
}

// VerifyURL returns the URL the QR code of c encodes.
func (r *Renderer) VerifyURL(c *Certificate) (string, error) {
	if c.Copy != nil && c.Copy.VerifyURL != "" {
		return c.Copy.VerifyURL, nil
	}
	if c.Copy == nil && c.VerifyURL != "" {
		return c.VerifyURL, nil
	}
	base := r.opt.VerifyBaseURL
	if base == "" {
		return "", fmt.Errorf("%w: verify_url missing and no verification base URL configured", ErrInvalid)
	}
	u := strings.TrimRight(base, "/") + "/" + url.PathEscape(c.LicenceID)
	sep := "?"
	if c.VerifyCode != "" {
		u += sep + "code=" + url.QueryEscape(c.VerifyCode)
		sep = "&"
	}
	if c.Copy != nil {
		u += sep + "copy=" + url.QueryEscape(c.Copy.Serial)
	}
	return u, nil
}

// page is a laid-out certificate: drawing operations in paint order, in mm.
type page struct {
	W, H float64
	ops  []any // rectOp, textOp, imageOp, qrOp
	used []bool
}

type rectOp struct {
	Box
	Stroke, Fill *RGB
	LineWidth    float64
}

type textOp struct {
	Font  int
	Runes []rune
	X, Y  float64   // baseline origin of the first glyph, mm
	Size  float64   // pt
	Adv   []float64 // advance of each glyph, mm
	Color RGB
	Angle float64 // degrees counter-clockwise about (X, Y)
}

type imageOp struct {
	Box
	PNG    []byte
	PDFPNG []byte
}

type qrOp struct {
	Box
	Modules [][]bool
}

func (r *Renderer) values(c *Certificate, verify string) map[string]string {
	v := map[string]string{
		"holder_name":          c.HolderName,
		"gender":               c.Gender,
		"birth_date":           c.BirthDate.Chinese(),
		"id_number":            c.IDNumber,
		"registration_no":      c.RegistrationNo,
		"employer":             c.Employer,
		"employer_credit_code": c.EmployerCreditCode,
		"authority":            c.Authority,
		"issue_date":           c.IssueDate.Chinese(),
		"licence_id":           c.LicenceID,
		"verify_url":           verify,
		"verify_code":          c.VerifyCode,
	}
	if cp := c.Copy; cp != nil {
		v["copy_serial"] = cp.Serial
		v["copy_valid_from"] = cp.ValidFrom.Chinese()
		v["copy_valid_until"] = cp.ValidUntil.Chinese()
		v["copy_purpose"] = cp.Purpose
	}
	return v
}

func shown(when string, c *Certificate) bool {
	switch when {
	case "copy":
		return c.Copy != nil
	case "original":
		return c.Copy == nil
	case "verify_code":
		return c.VerifyCode != ""
	case "claim":
		return c.Claim != ""
	}
	return true
}

// layout places every element of the template for c.
func (r *Renderer) layout(ctx context.Context, c *Certificate) (*page, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	verify, err := r.VerifyURL(c)
	if err != nil {
		return nil, err
	}
	t := r.tmpl
	p := &page{W: t.Page.W, H: t.Page.H, used: make([]bool, len(r.fonts))}
	vals := r.values(c, verify)
	if t.Background != "" {
		bg := mustColor(t.Background, RGB{255, 255, 255})
		p.ops = append(p.ops, rectOp{Box: Box{0, 0, t.Page.W, t.Page.H}, Fill: &bg})
	}
	frame := func(f Frame) {
		op := rectOp{Box: f.Box, LineWidth: f.LineWidth}
		if f.Stroke != "" {
			s := mustColor(f.Stroke, RGB{})
			op.Stroke = &s
			if op.LineWidth == 0 {
				op.LineWidth = 0.3
			}
		}
		if f.Fill != "" {
			fl := mustColor(f.Fill, RGB{})
			op.Fill = &fl
		}
		p.ops = append(p.ops, op)
	}
	for _, f := range t.Frames {
		if shown(f.When, c) {
			frame(f)
		}
	}
	if c.Copy != nil && t.Watermark != nil {
		if err := r.watermark(p, t.Watermark, vals); err != nil {
			return nil, err
		}
	}
	if c.Copy != nil && t.CopyFrame != nil {
		frame(*t.CopyFrame)
	}
	for _, x := range t.Texts {
		if !shown(x.When, c) {
			continue
		}
		if err := r.text(p, x, vals, 0); err != nil {
			return nil, err
		}
	}
	if l := t.List; l != nil {
		for _, x := range l.Header {
			if err := r.text(p, x, vals, 0); err != nil {
				return nil, err
			}
		}
		for i, s := range c.Specialties {
			rv := map[string]string{"specialty": s.Name, "specialty_valid_until": s.ValidUntil.Chinese(), "index": strconv.Itoa(i + 1)}
			for k, v := range vals {
				rv[k] = v
			}
			for _, x := range l.Columns {
				x.Y += l.Y + float64(i)*l.RowHeight
				if err := r.text(p, x, rv, 0); err != nil {
					return nil, fmt.Errorf("specialties[%d]: %w", i, err)
				}
			}
		}
	}
	mods, err := qrModules(verify)
	if err != nil {
		return nil, err
	}
	p.ops = append(p.ops, qrOp{Box: t.QR, Modules: mods})
	if c.Claim != "" {
		if t.ClaimQR == nil {
			return nil, fmt.Errorf("%w: the template %q has no claim_qr box for the signed claim", ErrInvalid, t.Name)
		}
		mods, err := claimModules(c.Claim)
		if err != nil {
			return nil, err
		}
		p.ops = append(p.ops, qrOp{Box: *t.ClaimQR, Modules: mods})
	}
	se, err := r.sealPicture(c.Authority)
	if err != nil {
		return nil, err
	}
	p.ops = append(p.ops, imageOp{Box: t.Seal, PNG: se.png, PDFPNG: se.pdfPNG})
	return p, nil
}

// nonBMP reports whether any drawn character lies beyond the BMP.
func (p *page) nonBMP() bool {
	for _, op := range p.ops {
		if t, ok := op.(textOp); ok {
			for _, r := range t.Runes {
				if r > 0xFFFF {
					return true
				}
			}
		}
	}
	return false
}

// runesByFont lists the characters drawn with each font (nil: font unused).
func (p *page) runesByFont() [][]rune {
	out := make([][]rune, len(p.used))
	for _, op := range p.ops {
		if t, ok := op.(textOp); ok {
			out[t.Font] = append(out[t.Font], t.Runes...)
		}
	}
	return out
}

// sealPicture returns the seal pictures for authority, generated once per authority.
func (r *Renderer) sealPicture(authority string) (*sealEntry, error) {
	key := authority
	if r.opt.SealPNG != nil {
		key = "\x00configured"
	}
	e, _ := r.seals.LoadOrStore(key, &sealEntry{})
	se := e.(*sealEntry)
	se.once.Do(func() {
		defer func() {
			if se.err == nil {
				se.pdfPNG, se.err = keyedPNG(se.png, mustColor(r.tmpl.Background, RGB{255, 255, 255}))
			}
		}()
		if r.opt.SealPNG != nil {
			se.png = r.opt.SealPNG
			return
		}
		var fs []*fonts.Font
		for _, f := range r.fonts {
			fs = append(fs, f.font)
		}
		se.png, se.err = seal.Generate(seal.Config{
			Authority: authority,
			SealName:  r.tmpl.SealConfig.SealName,
			Color:     r.tmpl.SealConfig.Color,
			SizePx:    int(math.Round(r.tmpl.Seal.W / 25.4 * 200)),
		}, fs)
	})
	return se, se.err
}

// fieldOf names the first placeholder in a template value, for error messages.
func fieldOf(v string) string {
	if m := placeholder.FindStringSubmatch(v); m != nil {
		return m[1]
	}
	return "template text " + strconv.Quote(v)
}

// shape picks a font for every rune and returns the font indexes and the
// total advance in em units.
func (r *Renderer) shape(s, field string) ([]int, float64, error) {
	idx := make([]int, 0, len(s))
	var em float64
	for _, ch := range s {
		k := -1
		for i, f := range r.fonts {
			if f.font.Has(ch) {
				k = i
				break
			}
		}
		if k < 0 {
			return nil, 0, fmt.Errorf("%w: field %s: character %q (U+%04X) has no glyph in any font of the template", ErrInvalid, field, ch, ch)
		}
		idx = append(idx, k)
		f := r.fonts[k].font
		em += float64(f.RuneAdvance(ch)) / float64(f.UnitsPerEm())
	}
	return idx, em, nil
}

// text lays out one text, on one line or wrapped (Text.MaxLines); angle
// rotates it counter-clockwise about its anchor.
func (r *Renderer) text(p *page, x Text, vals map[string]string, angle float64) error {
	s := expand(x.Value, vals)
	if s == "" {
		return nil
	}
	field := fieldOf(x.Value)
	idx, _, err := r.shape(s, field)
	if err != nil {
		return err
	}
	runes := []rune(s)
	ems := make([]float64, len(runes))
	for i, ch := range runes {
		f := r.fonts[idx[i]].font
		ems[i] = float64(f.RuneAdvance(ch)) / float64(f.UnitsPerEm())
	}
	size, lines, err := fitText(x, runes, ems)
	if err != nil {
		return fmt.Errorf("%w: field %s: %q %v", ErrInvalid, field, s, err)
	}
	lh := x.LineHeight
	if lh == 0 {
		lh = 1.25
	}
	rad := angle * math.Pi / 180
	dx, dy := math.Cos(rad), -math.Sin(rad) // direction of the baseline in page space (y down)
	color := mustColor(x.Color, RGB{})
	for k, ln := range lines {
		// Following lines go down, perpendicular to the baseline.
		down := float64(k) * lh * size / ptPerMM
		x0, y0 := x.X-down*dy, x.Y+down*dx
		r.line(p, runes[ln[0]:ln[1]], idx[ln[0]:ln[1]], size, color, angle, x.Align, x0, y0, dx, dy)
	}
	return nil
}

// line draws runes (fonts idx) at size, aligned about (x0, y0) along the
// baseline direction (dx, dy), one text operation per run of one font.
func (r *Renderer) line(p *page, runes []rune, idx []int, size float64, color RGB, angle float64, align string, x0, y0, dx, dy float64) {
	width := 0.0
	for i, ch := range runes {
		f := r.fonts[idx[i]].font
		width += float64(f.RuneAdvance(ch)) / float64(f.UnitsPerEm()) * size / ptPerMM
	}
	pos := 0.0
	switch align {
	case "center":
		pos = -width / 2
	case "right":
		pos = -width
	}
	for i := 0; i < len(runes); {
		j := i
		op := textOp{Font: idx[i], Size: size, Color: color, Angle: angle, X: x0 + pos*dx, Y: y0 + pos*dy}
		f := r.fonts[idx[i]].font
		for ; j < len(runes) && idx[j] == idx[i]; j++ {
			a := float64(f.RuneAdvance(runes[j])) / float64(f.UnitsPerEm()) * size / ptPerMM
			op.Runes = append(op.Runes, runes[j])
			op.Adv = append(op.Adv, a)
			pos += a
		}
		p.used[idx[i]] = true
		p.ops = append(p.ops, op)
		i = j
	}
}

func (r *Renderer) watermark(p *page, m *Mark, vals map[string]string) error {
	for _, at := range m.Rows {
		x := Text{Value: m.Value, X: at.X, Y: at.Y, Size: m.Size, Align: "center", Color: m.Color}
		if err := r.text(p, x, vals, m.Angle); err != nil {
			return err
		}
	}
	return nil
}
