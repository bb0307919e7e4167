package pdfsig

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"github.com/ecert/ecert/signing/internal/pdfobj"
)

// Limits on what Extract reads.
const (
	// MaxPDFSize is the largest file Extract accepts.
	MaxPDFSize = 64 << 20
	// MaxSignatures is the most signature dictionaries Extract looks at.
	MaxSignatures = 16
	// MaxContentsSize bounds the decoded /Contents.
	MaxContentsSize = 64 << 10
)

// Signature is the last signature of a PDF, as found in the file.
type Signature struct {
	// ByteRange is the signature's /ByteRange.
	ByteRange [4]int
	// Contents is the DER CMS SignedData, padding removed.
	Contents []byte
	// Filter and SubFilter name the signature handler and format.
	Filter, SubFilter string
	// M is the signature dictionary's /M date string as written.
	M string
	// Metadata is the signed /ECertMeta dictionary (empty when absent).
	Metadata map[string]string
	// Count is the number of signature dictionaries found.
	Count int
}

// ErrNoSignature reports a PDF without a signature dictionary.
var ErrNoSignature = errors.New("pdfsig: no signature found")

// CoversWholeFile reports whether the byte range runs from the start to the
// very end of data, with nothing but the /Contents hex string left out.
func (s *Signature) CoversWholeFile(data []byte) bool {
	br := s.ByteRange
	return br[0] == 0 && br[2]+br[3] == len(data)
}

// SignedParts returns the two byte ranges the signature covers.
func (s *Signature) SignedParts(data []byte) [][]byte {
	br := s.ByteRange
	return [][]byte{data[br[0] : br[0]+br[1]], data[br[2] : br[2]+br[3]]}
}

// objStart returns the offset just after the last "n g obj" header that
// starts before pos within window bytes, or -1.
func objStart(data []byte, pos, window int) int {
	from := max(pos-window, 0)
	end := pos
	for {
		i := bytes.LastIndex(data[from:end], []byte("obj"))
		if i < 0 {
			return -1
		}
		i += from
		end = i
		after := i + 3
		if after < len(data) && !pdfobj.IsWhite(data[after]) && !pdfobj.IsDelim(data[after]) {
			continue
		}
		// Walk back: whitespace, digits (generation), whitespace, digits (number).
		j := i
		ok := true
		for _, want := range []string{"ws", "digits", "ws", "digits"} {
			k := j
			for k > from && ((want == "ws" && pdfobj.IsWhite(data[k-1])) || (want == "digits" && data[k-1] >= '0' && data[k-1] <= '9')) {
				k--
			}
			if k == j {
				ok = false
				break
			}
			j = k
		}
		if ok && (j == 0 || pdfobj.IsWhite(data[j-1]) || pdfobj.IsDelim(data[j-1])) {
			return after
		}
	}
}

// Extract finds the signature dictionaries of data and returns the last
// one whose byte range is well formed (the one covering the most bytes).
func Extract(data []byte) (*Signature, error) {
	all, err := ExtractAll(data)
	if err != nil {
		return nil, err
	}
	best := all.Signatures[len(all.Signatures)-1]
	best.Count = all.Count
	return best, nil
}

// Signatures are the well-formed signatures of a PDF in signing order.
type Signatures struct {
	// Signatures are ordered by the end of their byte range (the revision
	// they sign); of two ending at the same byte, the later in the file
	// comes last.
	Signatures []*Signature
	// Skipped holds, for each /ByteRange that is not part of a well-formed
	// signature dictionary, why.
	Skipped []error
	// Count is the number of /ByteRange entries found.
	Count int
}

// ExtractAll finds every signature dictionary of data. It fails when none
// is well formed.
func ExtractAll(data []byte) (*Signatures, error) {
	if len(data) > MaxPDFSize {
		return nil, fmt.Errorf("pdfsig: file of %d bytes exceeds the %d-byte limit", len(data), MaxPDFSize)
	}
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		return nil, errors.New("pdfsig: not a PDF (missing %PDF- header)")
	}
	out := &Signatures{}
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte("/ByteRange"))
		if i < 0 {
			break
		}
		pos := off + i
		off = pos + len("/ByteRange")
		out.Count++
		if out.Count > MaxSignatures {
			return nil, fmt.Errorf("pdfsig: more than %d signatures", MaxSignatures)
		}
		sig, err := extractAt(data, pos)
		if err != nil {
			out.Skipped = append(out.Skipped, fmt.Errorf("/ByteRange at offset %d: %w", pos, err))
			continue
		}
		out.Signatures = append(out.Signatures, sig)
	}
	if len(out.Signatures) == 0 {
		if n := len(out.Skipped); n > 0 {
			return nil, errors.Unwrap(out.Skipped[n-1])
		}
		return nil, ErrNoSignature
	}
	sort.SliceStable(out.Signatures, func(i, j int) bool { return out.Signatures[i].End() < out.Signatures[j].End() })
	return out, nil
}

// End is the offset just after the last byte the signature covers: the end
// of the revision it signs.
func (s *Signature) End() int { return s.ByteRange[2] + s.ByteRange[3] }

func extractAt(data []byte, pos int) (*Signature, error) {
	// Find the "n g obj" that opens the dictionary holding /ByteRange.
	start := objStart(data, pos, 4096)
	if start < 0 {
		return nil, errors.New("pdfsig: signature dictionary not inside an object")
	}
	dict, err := pdfobj.ParseAt(data, start)
	if err != nil {
		return nil, fmt.Errorf("pdfsig: signature dictionary: %w", err)
	}
	if dict.Kind != pdfobj.Dict {
		return nil, errors.New("pdfsig: signature object is not a dictionary")
	}
	brObj, ok := dict.Get("ByteRange")
	if !ok || brObj.Kind != pdfobj.Array || len(brObj.Items) != 4 {
		return nil, errors.New("pdfsig: /ByteRange is not an array of four numbers")
	}
	s := &Signature{Metadata: map[string]string{}}
	for i, v := range brObj.Items {
		n, ok := v.Int()
		if !ok || n < 0 || n > len(data) {
			return nil, errors.New("pdfsig: /ByteRange entry out of range")
		}
		s.ByteRange[i] = n
	}
	br := s.ByteRange
	if br[0] != 0 || br[1] <= 0 || br[2] < br[1]+2 || br[2]+br[3] > len(data) || br[3] < 0 {
		return nil, fmt.Errorf("pdfsig: malformed /ByteRange %v", br)
	}
	contents, ok := dict.Get("Contents")
	if !ok || contents.Kind != pdfobj.String {
		return nil, errors.New("pdfsig: /Contents missing")
	}
	// The gap must be exactly the /Contents hex string.
	if contents.Start != br[1] || contents.End != br[2] || data[br[1]] != '<' || data[br[2]-1] != '>' {
		return nil, errors.New("pdfsig: /ByteRange gap is not exactly the /Contents hex string")
	}
	if len(contents.S) > MaxContentsSize {
		return nil, errors.New("pdfsig: /Contents too large")
	}
	der, err := trimDER(contents.S)
	if err != nil {
		return nil, err
	}
	s.Contents = der
	if v, ok := dict.Get("Filter"); ok {
		s.Filter = v.S
	}
	if v, ok := dict.Get("SubFilter"); ok {
		s.SubFilter = v.S
	}
	if v, ok := dict.Get("M"); ok && v.Kind == pdfobj.String {
		s.M = v.S
	}
	if m, ok := dict.Get(MetadataKey); ok && m.Kind == pdfobj.Dict {
		for _, e := range m.Entries {
			if e.Value.Kind == pdfobj.String && metaKeyRE.MatchString(e.Key) {
				s.Metadata[e.Key] = decodeText([]byte(e.Value.S))
			}
		}
	}
	return s, nil
}

// trimDER returns the single DER TLV at the start of b; only zero padding
// may follow it.
func trimDER(b string) ([]byte, error) {
	if len(b) < 2 || b[0] != 0x30 {
		return nil, errors.New("pdfsig: /Contents is not a DER SEQUENCE")
	}
	n, hdr := 0, 2
	switch l := b[1]; {
	case l < 0x80:
		n = int(l)
	case l == 0x81 || l == 0x82 || l == 0x83:
		k := int(l & 0x7f)
		if len(b) < 2+k {
			return nil, errors.New("pdfsig: truncated DER length")
		}
		for i := 2; i < 2+k; i++ {
			n = n<<8 | int(b[i])
		}
		hdr += k
	default:
		return nil, errors.New("pdfsig: unsupported DER length form in /Contents")
	}
	if hdr+n > len(b) {
		return nil, errors.New("pdfsig: DER length exceeds /Contents")
	}
	for i := hdr + n; i < len(b); i++ {
		if b[i] != 0 {
			return nil, errors.New("pdfsig: non-zero bytes after the SignedData in /Contents")
		}
	}
	return []byte(b[:hdr+n]), nil
}
