package verify

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"github.com/ecert/ecert/signing/ofdsig"
)

// ofdPageText returns the text of every TextCode on the pages listed in
// Document.xml (docRoot, pages as parsed), in document order, joined without
// separators, plus problems met on the way (missing or unreadable pages).
func ofdPageText(pkg *ofdsig.Package, docRoot string, doc *ofdsig.DocumentXML) (string, []string, error) {
	if doc == nil || len(doc.Pages) == 0 {
		return "", nil, errors.New("ofd: no pages in the document")
	}
	if len(doc.Pages) > maxTextPages {
		return "", nil, fmt.Errorf("ofd: more than %d pages", maxTextPages)
	}
	var out textBuf
	var problems []string
	budget := maxDecodedTotal
	for i, p := range doc.Pages {
		name, err := ofdsig.Resolve(docRoot, p.BaseLoc)
		if err != nil {
			problems = append(problems, fmt.Sprintf("page %d: %v", i+1, err))
			continue
		}
		b, err := pkg.XML(name, ofdsig.Limits{})
		if err != nil {
			problems = append(problems, fmt.Sprintf("page %d: %v", i+1, err))
			continue
		}
		if len(b) > budget {
			return out.String(), problems, fmt.Errorf("ofd: page descriptions over %d bytes in all", maxDecodedTotal)
		}
		budget -= len(b)
		if err := ofdText(b, &out); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
		}
	}
	return out.String(), problems, nil
}

// ofdText appends the character data of the TextCode elements of one page
// description. Like ofdsig.ParseXML it refuses directives (DTDs) and
// nesting deeper than ofdsig.MaxXMLDepth.
func ofdText(b []byte, out *textBuf) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	depth, inCode := 0, 0
	for !out.full {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("xml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > ofdsig.MaxXMLDepth {
				return fmt.Errorf("xml: nesting deeper than %d", ofdsig.MaxXMLDepth)
			}
			if t.Name.Local == "TextCode" {
				inCode++
			}
		case xml.EndElement:
			depth--
			if t.Name.Local == "TextCode" && inCode > 0 {
				inCode--
			}
		case xml.CharData:
			if inCode > 0 {
				out.add(string(t))
			}
		case xml.Directive:
			return errors.New("xml: DTDs and directives are not allowed")
		}
	}
	return nil
}
