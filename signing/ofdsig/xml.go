package ofdsig

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
)

// XML models: element names match in any namespace, so both the prefixed
// (ofd:) form and a default namespace parse.

// OFDRoot is OFD.xml.
type OFDRoot struct {
	DocBodies []DocBody `xml:"DocBody"`
}

// DocBody is one document entry of OFD.xml.
type DocBody struct {
	DocRoot     string       `xml:"DocRoot"`
	Signatures  string       `xml:"Signatures"`
	CustomDatas []CustomData `xml:"DocInfo>CustomDatas>CustomData"`
}

// CustomData is a DocInfo/CustomDatas/CustomData entry.
type CustomData struct {
	Name  string `xml:"Name,attr"`
	Value string `xml:",chardata"`
}

// DocumentXML is Document.xml (only the page list).
type DocumentXML struct {
	Pages []struct {
		ID      string `xml:"ID,attr"`
		BaseLoc string `xml:"BaseLoc,attr"`
	} `xml:"Pages>Page"`
}

// SignaturesXML is Signatures.xml.
type SignaturesXML struct {
	MaxSignID  string `xml:"MaxSignId"`
	Signatures []struct {
		ID      string `xml:"ID,attr"`
		Type    string `xml:"Type,attr"`
		BaseLoc string `xml:"BaseLoc,attr"`
	} `xml:"Signature"`
}

// SignatureXML is one Signature.xml.
type SignatureXML struct {
	SignedInfo struct {
		Provider struct {
			ProviderName string `xml:"ProviderName,attr"`
		} `xml:"Provider"`
		SignatureMethod   string `xml:"SignatureMethod"`
		SignatureDateTime string `xml:"SignatureDateTime"`
		References        struct {
			CheckMethod string `xml:"CheckMethod,attr"`
			Reference   []struct {
				FileRef    string `xml:"FileRef,attr"`
				CheckValue string `xml:"CheckValue"`
			} `xml:"Reference"`
		} `xml:"References"`
		StampAnnots []struct {
			ID       string `xml:"ID,attr"`
			PageRef  string `xml:"PageRef,attr"`
			Boundary string `xml:"Boundary,attr"`
		} `xml:"StampAnnot"`
		Seal struct {
			BaseLoc string `xml:"BaseLoc"`
		} `xml:"Seal"`
	} `xml:"SignedInfo"`
	SignedValue string `xml:"SignedValue"`
}

// MaxXMLDepth bounds element nesting in parsed XML.
const MaxXMLDepth = 64

// ParseXML decodes b into v, refusing DTDs (no entity expansion) and
// nesting deeper than MaxXMLDepth. Callers bound len(b).
func ParseXML(b []byte, v any) error {
	// A first pass checks depth and refuses directives before decoding.
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	depth := 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("xml: %w", err)
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
			if depth > MaxXMLDepth {
				return fmt.Errorf("xml: nesting deeper than %d", MaxXMLDepth)
			}
		case xml.EndElement:
			depth--
		case xml.Directive:
			return fmt.Errorf("xml: DTDs and directives are not allowed")
		}
	}
	if err := xml.Unmarshal(b, v); err != nil {
		return fmt.Errorf("xml: %w", err)
	}
	return nil
}
