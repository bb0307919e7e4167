package certgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
)

// MaxTemplateBytes bounds the size of a template file.
const MaxTemplateBytes = 256 << 10

// Template is the data-driven description of a certificate page. All
// positions and sizes are millimetres from the top-left corner of the page;
// font sizes are points. See docs/rendering.md for the JSON format.
type Template struct {
	Name       string   `json:"name"`
	Title      string   `json:"title"` // document title (PDF /Title, OFD DocInfo)
	Page       Size     `json:"page"`
	Fonts      []string `json:"fonts"` // fallback order, files under fonts/
	Background string   `json:"background,omitempty"`
	Frames     []Frame  `json:"frames,omitempty"`
	Texts      []Text   `json:"texts"`
	List       *List    `json:"list,omitempty"` // the specialties table
	Seal       Box      `json:"seal"`
	QR         Box      `json:"qr"`
	// ClaimQR is where the signed claim's QR code goes (offline
	// verification; drawn only for a certificate that carries a claim).
	ClaimQR    *Box      `json:"claim_qr,omitempty"`
	CopyFrame  *Frame    `json:"copy_frame,omitempty"` // the annotation box of a usage copy
	Watermark  *Mark     `json:"watermark,omitempty"`  // diagonal text on usage copies
	SealConfig SealStyle `json:"seal_style"`
}

// Size is a page size in mm.
type Size struct {
	W float64 `json:"width"`
	H float64 `json:"height"`
}

// Box is a rectangle in mm, top-left origin.
type Box struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	W float64 `json:"w"`
	H float64 `json:"h"`
}

// Frame is a stroked and/or filled rectangle.
type Frame struct {
	Box
	Stroke    string  `json:"stroke,omitempty"` // #RRGGBB
	Fill      string  `json:"fill,omitempty"`
	LineWidth float64 `json:"line_width,omitempty"` // mm
	When      string  `json:"when,omitempty"`       // "", "copy", "original", "verify_code" (only with a code) or "claim" (only with a claim)
}

// Text is a line of text at a baseline position. Value may hold {field}
// placeholders (see Fields). With MaxWidth set, the font shrinks down to
// MinSize to fit; text that still does not fit is an error. With MaxLines
// above 1 a text that would shrink by more than a tenth wraps instead, onto
// lines LineHeight font sizes apart, shrinking only as far as the lines need.
type Text struct {
	Value      string  `json:"value"`
	X          float64 `json:"x"`
	Y          float64 `json:"y"` // baseline of the first line
	Size       float64 `json:"size"`
	MinSize    float64 `json:"min_size,omitempty"`
	MaxWidth   float64 `json:"max_width,omitempty"`
	MaxLines   int     `json:"max_lines,omitempty"`   // 0 or 1: one line
	LineHeight float64 `json:"line_height,omitempty"` // in font sizes; default 1.25
	Align      string  `json:"align,omitempty"`       // left (default), center, right
	Color      string  `json:"color,omitempty"`
	When       string  `json:"when,omitempty"`
}

// List repeats its columns once per specialty, RowHeight apart, below an optional header.
type List struct {
	Y         float64 `json:"y"` // baseline of the first row
	RowHeight float64 `json:"row_height"`
	Header    []Text  `json:"header,omitempty"` // absolute positions
	Columns   []Text  `json:"columns"`          // Y is relative to the row baseline
}

// Mark is the watermark of usage copies: Value (placeholders allowed)
// repeated along a diagonal at Angle degrees (counter-clockwise).
type Mark struct {
	Value string  `json:"value"`
	Size  float64 `json:"size"`
	Color string  `json:"color"`
	Angle float64 `json:"angle"`
	Rows  []Box   `json:"positions"` // centre (x,y) of each repetition; w,h unused
}

// SealStyle configures the generated seal picture.
type SealStyle struct {
	Color    string `json:"color"`
	SealName string `json:"seal_name,omitempty"` // e.g. 电子证照专用章, printed below the star
}

// Fields lists the placeholders a template may use.
var Fields = []string{
	"holder_name", "gender", "birth_date", "id_number", "registration_no", "employer",
	"employer_credit_code", "authority", "issue_date", "licence_id", "verify_url",
	"verify_code", "copy_serial", "copy_valid_from", "copy_valid_until", "copy_purpose",
	// list columns only:
	"specialty", "specialty_valid_until", "index",
}

var placeholder = regexp.MustCompile(`\{([a-z_]+)\}`)

// ParseTemplate decodes and checks a JSON template.
func ParseTemplate(data []byte) (*Template, error) {
	if len(data) > MaxTemplateBytes {
		return nil, fmt.Errorf("certgen: template larger than %d bytes", MaxTemplateBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var t Template
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("certgen: template: %w", err)
	}
	if err := t.check(); err != nil {
		return nil, fmt.Errorf("certgen: template %q: %w", t.Name, err)
	}
	return &t, nil
}

// LoadTemplate reads and parses a template file from fsys.
func LoadTemplate(fsys fs.FS, name string) (*Template, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("certgen: loading template: %w", err)
	}
	return ParseTemplate(b)
}

func (t *Template) check() error {
	if t.Name == "" {
		return fmt.Errorf("missing name")
	}
	if t.Page.W < 50 || t.Page.H < 50 || t.Page.W > 1000 || t.Page.H > 1000 {
		return fmt.Errorf("page %gx%g mm out of range", t.Page.W, t.Page.H)
	}
	if len(t.Fonts) == 0 || len(t.Fonts) > 8 {
		return fmt.Errorf("needs 1 to 8 fonts")
	}
	inPage := func(what string, b Box) error {
		if b.X < 0 || b.Y < 0 || b.W < 0 || b.H < 0 || b.X+b.W > t.Page.W+1e-9 || b.Y+b.H > t.Page.H+1e-9 {
			return fmt.Errorf("%s %+v lies outside the page", what, b)
		}
		return nil
	}
	checkColor := func(what, c string) error {
		if c == "" {
			return nil
		}
		if _, err := parseColor(c); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	checkWhen := func(what, w string) error {
		if w != "" && w != "copy" && w != "original" && w != "verify_code" && w != "claim" {
			return fmt.Errorf("%s: when %q is not copy, original, verify_code or claim", what, w)
		}
		return nil
	}
	checkText := func(what string, x Text, list bool) error {
		if x.Size <= 0 || x.Size > 200 || x.MinSize < 0 || x.MinSize > x.Size {
			return fmt.Errorf("%s: bad size %g/%g", what, x.Size, x.MinSize)
		}
		if x.MaxLines < 0 || x.MaxLines > 10 || (x.MaxLines > 1 && x.MaxWidth <= 0) || (x.LineHeight != 0 && (x.LineHeight < 0.8 || x.LineHeight > 3)) {
			return fmt.Errorf("%s: bad max_lines %d / line_height %g (wrapping needs max_width)", what, x.MaxLines, x.LineHeight)
		}
		if x.Align != "" && x.Align != "left" && x.Align != "center" && x.Align != "right" {
			return fmt.Errorf("%s: bad align %q", what, x.Align)
		}
		for _, m := range placeholder.FindAllStringSubmatch(x.Value, -1) {
			ok := false
			for i, f := range Fields {
				if f == m[1] && (list || i < len(Fields)-3) {
					ok = true
				}
			}
			if !ok {
				return fmt.Errorf("%s: unknown field {%s}", what, m[1])
			}
		}
		if err := checkWhen(what, x.When); err != nil {
			return err
		}
		return checkColor(what, x.Color)
	}
	for i, f := range t.Frames {
		w := fmt.Sprintf("frames[%d]", i)
		if err := inPage(w, f.Box); err != nil {
			return err
		}
		if err := checkColor(w, f.Stroke); err != nil {
			return err
		}
		if err := checkColor(w, f.Fill); err != nil {
			return err
		}
		if err := checkWhen(w, f.When); err != nil {
			return err
		}
	}
	for i, x := range t.Texts {
		if err := checkText(fmt.Sprintf("texts[%d]", i), x, false); err != nil {
			return err
		}
	}
	if t.List != nil {
		if t.List.RowHeight <= 0 || len(t.List.Columns) == 0 {
			return fmt.Errorf("list needs row_height and columns")
		}
		for i, x := range t.List.Header {
			if err := checkText(fmt.Sprintf("list.header[%d]", i), x, false); err != nil {
				return err
			}
		}
		for i, x := range t.List.Columns {
			if err := checkText(fmt.Sprintf("list.columns[%d]", i), x, true); err != nil {
				return err
			}
		}
	}
	if err := inPage("seal", t.Seal); err != nil || t.Seal.W <= 0 || t.Seal.H <= 0 {
		return fmt.Errorf("seal box: %v", err)
	}
	if err := inPage("qr", t.QR); err != nil || t.QR.W <= 0 || t.QR.W != t.QR.H {
		return fmt.Errorf("qr box must be a square inside the page (%v)", err)
	}
	if b := t.ClaimQR; b != nil {
		if err := inPage("claim_qr", *b); err != nil || b.W <= 0 || b.W != b.H {
			return fmt.Errorf("claim_qr box must be a square inside the page (%v)", err)
		}
	}
	if t.CopyFrame != nil {
		if err := inPage("copy_frame", t.CopyFrame.Box); err != nil {
			return err
		}
	}
	if t.Watermark != nil {
		if err := checkText("watermark", Text{Value: t.Watermark.Value, Size: t.Watermark.Size, Color: t.Watermark.Color}, false); err != nil {
			return err
		}
	}
	if err := checkColor("seal_style", t.SealConfig.Color); err != nil {
		return err
	}
	return checkColor("background", t.Background)
}

// RGB is a colour.
type RGB struct{ R, G, B uint8 }

func parseColor(s string) (RGB, error) {
	if len(s) != 7 || s[0] != '#' {
		return RGB{}, fmt.Errorf("colour %q is not #RRGGBB", s)
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return RGB{}, fmt.Errorf("colour %q is not #RRGGBB", s)
	}
	return RGB{uint8(v >> 16), uint8(v >> 8), uint8(v)}, nil
}

func mustColor(s string, def RGB) RGB {
	if s == "" {
		return def
	}
	c, _ := parseColor(s) // checked by Template.check
	return c
}

// expand replaces {field} placeholders from vals.
func expand(s string, vals map[string]string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	return placeholder.ReplaceAllStringFunc(s, func(m string) string { return vals[m[1:len(m)-1]] })
}
