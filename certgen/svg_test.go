package certgen

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"strings"
	"testing"
)

// svgSummary is what a test needs to know about a rendered SVG.
type svgSummary struct {
	viewBox string
	text    string // the characters of all <text> elements, in order
	qrPath  string // d of the QR <path>
	seals   [][]byte
	rotated int // <text> elements with a transform
}

func parseSVG(t *testing.T, b []byte) svgSummary {
	t.Helper()
	var s svgSummary
	d := xml.NewDecoder(bytes.NewReader(b))
	var text strings.Builder
	inText, root := false, true
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			attr := map[string]string{}
			for _, a := range e.Attr {
				attr[a.Name.Local] = a.Value
			}
			if root {
				if e.Name.Local != "svg" || e.Name.Space != "http://www.w3.org/2000/svg" {
					t.Fatalf("root element %v", e.Name)
				}
				s.viewBox = attr["viewBox"]
				root = false
			}
			switch e.Name.Local {
			case "text":
				inText = true
				if attr["transform"] != "" {
					s.rotated++
				}
			case "path":
				if attr["class"] == "qr" {
					s.qrPath = attr["d"]
				}
			case "image":
				if attr["class"] == "seal" {
					data, ok := strings.CutPrefix(attr["href"], "data:image/png;base64,")
					if !ok {
						t.Fatalf("seal href %.40q is not a PNG data URL", attr["href"])
					}
					p, err := base64.StdEncoding.DecodeString(data)
					if err != nil {
						t.Fatalf("seal: %v", err)
					}
					s.seals = append(s.seals, p)
				}
			}
		case xml.EndElement:
			if e.Name.Local == "text" {
				inText = false
			}
		case xml.CharData:
			if inText {
				text.Write(e)
			}
		}
	}
	s.text = text.String()
	return s
}

func TestRenderSVG(t *testing.T) {
	r := defaultRenderer(t)
	for _, tc := range []struct {
		file    string
		rotated bool // the usage copy's watermark
	}{
		{"zhang.json", false},
		{"wang-copy.json", true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c := loadRecord(t, tc.file)
			b, err := r.RenderSVG(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			s := parseSVG(t, b)
			pg := r.Template().Page
			if want := fmt.Sprintf("0 0 %s %s", num(pg.W), num(pg.H)); s.viewBox != want {
				t.Errorf("viewBox %q, want %q", s.viewBox, want)
			}
			for _, want := range []string{c.HolderName, c.RegistrationNo} {
				if !strings.Contains(s.text, want) {
					t.Errorf("text does not contain %q", want)
				}
			}
			if strings.Count(s.qrPath, "M") < 100 {
				t.Errorf("QR path has %d modules", strings.Count(s.qrPath, "M"))
			}
			if len(s.seals) != 1 {
				t.Fatalf("%d seal images, want 1", len(s.seals))
			}
			if _, err := png.Decode(bytes.NewReader(s.seals[0])); err != nil {
				t.Errorf("seal image: %v", err)
			}
			if got := s.rotated > 0; got != tc.rotated {
				t.Errorf("rotated text: %d elements, want any: %v", s.rotated, tc.rotated)
			}
		})
	}
}

// TestRenderSVGEscapes checks that markup in a field stays text.
func TestRenderSVGEscapes(t *testing.T) {
	r := defaultRenderer(t)
	c := loadRecord(t, "zhang.json")
	c.Employer = `<script>alert("x")</script>&amp;`
	b, err := r.RenderSVG(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("<script")) {
		t.Fatal("employer written as markup")
	}
	if s := parseSVG(t, b); !strings.Contains(s.text, c.Employer) {
		t.Errorf("text does not contain the employer %q", c.Employer)
	}
}
