package verify

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ecert/ecert/signing/internal/pdfobj"
)

// Limits of PDF text extraction.
const (
	maxTextPages        = 64       // pages read
	maxPageTreeDepth    = 32       // nesting of /Pages nodes
	maxContentStreams   = 64       // /Contents entries of one page
	maxDecodedStream    = 8 << 20  // one decoded stream
	maxDecodedTotal     = 32 << 20 // all decoded streams of a document
	maxTextBytes        = 1 << 20  // extracted text
	maxFontsPerDocument = 256      // fonts (and ToUnicode CMaps) read
	maxOperands         = 64       // operands before a content-stream operator
	maxCMapOperands     = 4096     // operands before a CMap operator
	maxCMapEntries      = 1 << 16  // bfchar codes (array ranges included) per CMap
	maxCMapRanges       = 1 << 14  // bfrange ranges per CMap
	maxCMapSpaces       = 64       // codespace ranges per CMap
)

// pdfFont decodes the string operands of text-showing operators.
type pdfFont struct {
	composite bool  // Type0: 2-byte codes unless the CMap says otherwise
	cmap      *cmap // ToUnicode; nil when absent or unreadable
}

type codespace struct {
	n      int
	lo, hi uint32
}

type cmapRange struct {
	n      int
	lo, hi uint32
	dst    []uint16 // UTF-16 of lo; the last unit grows with the code
}

// cmap is a parsed ToUnicode CMap.
type cmap struct {
	spaces []codespace
	single map[uint64]string // n<<32 | code
	ranges []cmapRange       // sorted by (n, lo)
}

func codeKey(n int, code uint32) uint64 { return uint64(n)<<32 | uint64(code) }

func codeOf(s string) (uint32, bool) {
	if len(s) == 0 || len(s) > 4 {
		return 0, false
	}
	var c uint32
	for i := 0; i < len(s); i++ {
		c = c<<8 | uint32(s[i])
	}
	return c, true
}

func utf16BE(s string) []uint16 {
	u := make([]uint16, len(s)/2)
	for i := range u {
		u[i] = uint16(s[2*i])<<8 | uint16(s[2*i+1])
	}
	return u
}

// parseCMap reads the codespace ranges, bfchar and bfrange entries of a
// ToUnicode CMap, bounded in operands, entries and ranges. Entries are
// applied as soon as each is complete, so a block may be of any length.
func parseCMap(data []byte) (*cmap, error) {
	cm := &cmap{single: map[uint64]string{}}
	l := &pdfobj.Lexer{B: data}
	var ops []pdfobj.Object
	block := "" // inside begin<block> … end<block>
	for {
		v, err := l.Next()
		if err == pdfobj.ErrEOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ToUnicode CMap: %w", err)
		}
		if v.Kind != pdfobj.Op {
			if len(ops) >= maxCMapOperands {
				return nil, fmt.Errorf("ToUnicode CMap: more than %d operands before an operator", maxCMapOperands)
			}
			ops = append(ops, v)
			if n := cmapGroup[block]; n > 0 && len(ops) == n {
				if err := cm.apply(block, ops); err != nil {
					return nil, err
				}
				ops = ops[:0]
			}
			continue
		}
		switch v.S {
		case "begincodespacerange", "beginbfchar", "beginbfrange":
			block = v.S[len("begin"):]
		case "endcodespacerange", "endbfchar", "endbfrange":
			block = ""
		}
		ops = ops[:0]
	}
	sort.Slice(cm.ranges, func(i, j int) bool {
		a, b := cm.ranges[i], cm.ranges[j]
		return a.n < b.n || a.n == b.n && a.lo < b.lo
	})
	return cm, nil
}

// cmapGroup is the number of operands of one entry of each CMap block.
var cmapGroup = map[string]int{"codespacerange": 2, "bfchar": 2, "bfrange": 3}

// apply adds one complete entry (ops) of block to the CMap.
func (cm *cmap) apply(block string, ops []pdfobj.Object) error {
	switch block {
	case "codespacerange":
		for i := 0; i+1 < len(ops); i += 2 {
			lo, ok1 := codeOf(ops[i].S)
			hi, ok2 := codeOf(ops[i+1].S)
			if ops[i].Kind != pdfobj.String || !ok1 || !ok2 || len(ops[i].S) != len(ops[i+1].S) {
				continue
			}
			if len(cm.spaces) >= maxCMapSpaces {
				return fmt.Errorf("ToUnicode CMap: more than %d codespace ranges", maxCMapSpaces)
			}
			cm.spaces = append(cm.spaces, codespace{len(ops[i].S), lo, hi})
		}
	case "bfchar":
		for i := 0; i+1 < len(ops); i += 2 {
			c, ok := codeOf(ops[i].S)
			if ops[i].Kind != pdfobj.String || !ok || ops[i+1].Kind != pdfobj.String {
				continue
			}
			if len(cm.single) >= maxCMapEntries {
				return fmt.Errorf("ToUnicode CMap: more than %d entries", maxCMapEntries)
			}
			cm.single[codeKey(len(ops[i].S), c)] = string(utf16.Decode(utf16BE(ops[i+1].S)))
		}
	case "bfrange":
		for i := 0; i+2 < len(ops); i += 3 {
			lo, ok1 := codeOf(ops[i].S)
			hi, ok2 := codeOf(ops[i+1].S)
			n := len(ops[i].S)
			if ops[i].Kind != pdfobj.String || ops[i+1].Kind != pdfobj.String || !ok1 || !ok2 || len(ops[i+1].S) != n || hi < lo {
				continue
			}
			switch d := ops[i+2]; d.Kind {
			case pdfobj.Array:
				for k, e := range d.Items {
					if uint64(k) > uint64(hi-lo) {
						break
					}
					if e.Kind != pdfobj.String {
						continue
					}
					if len(cm.single) >= maxCMapEntries {
						return fmt.Errorf("ToUnicode CMap: more than %d entries", maxCMapEntries)
					}
					cm.single[codeKey(n, lo+uint32(k))] = string(utf16.Decode(utf16BE(e.S)))
				}
			case pdfobj.String:
				u := utf16BE(d.S)
				if len(u) == 0 {
					continue
				}
				if lo == hi {
					if len(cm.single) >= maxCMapEntries {
						return fmt.Errorf("ToUnicode CMap: more than %d entries", maxCMapEntries)
					}
					cm.single[codeKey(n, lo)] = string(utf16.Decode(u))
					continue
				}
				if len(cm.ranges) >= maxCMapRanges {
					return fmt.Errorf("ToUnicode CMap: more than %d ranges", maxCMapRanges)
				}
				cm.ranges = append(cm.ranges, cmapRange{n, lo, hi, u})
			}
		}
	}
	return nil
}

// lookup maps one code of n bytes to text.
func (cm *cmap) lookup(n int, code uint32) (string, bool) {
	if s, ok := cm.single[codeKey(n, code)]; ok {
		return s, true
	}
	// The last range starting at or before code.
	i := sort.Search(len(cm.ranges), func(i int) bool {
		r := cm.ranges[i]
		return r.n > n || r.n == n && r.lo > code
	}) - 1
	if i < 0 {
		return "", false
	}
	r := cm.ranges[i]
	if r.n != n || code > r.hi {
		return "", false
	}
	u := append([]uint16(nil), r.dst...)
	u[len(u)-1] += uint16(code - r.lo)
	return string(utf16.Decode(u)), true
}

// codeLen tells how many bytes the code starting s takes.
func (f *pdfFont) codeLen(s string) int {
	if f.cmap != nil {
		for n := 1; n <= 4 && n <= len(s); n++ {
			c, _ := codeOf(s[:n])
			for _, sp := range f.cmap.spaces {
				if sp.n == n && c >= sp.lo && c <= sp.hi {
					return n
				}
			}
		}
	}
	if f.composite {
		return min(2, len(s))
	}
	return 1
}

// textBuf collects extracted text up to maxTextBytes.
type textBuf struct {
	strings.Builder
	full bool
}

func (t *textBuf) add(s string) {
	if t.full {
		return
	}
	if t.Len()+len(s) > maxTextBytes {
		t.full = true
		return
	}
	t.WriteString(s)
}

// show appends the text of a string operand drawn with font f (nil: an
// unknown font, read as Latin-1).
func (t *textBuf) show(f *pdfFont, s string) {
	if f == nil {
		f = &pdfFont{}
	}
	for len(s) > 0 && !t.full {
		n := f.codeLen(s)
		c, _ := codeOf(s[:n])
		switch u, ok := f.lookup(n, c); {
		case ok:
			t.add(u)
		case !f.composite && f.cmap == nil:
			var b [utf8.UTFMax]byte
			t.add(string(b[:utf8.EncodeRune(b[:], rune(s[0]))]))
		default:
			t.add("\uFFFD")
		}
		s = s[n:]
	}
}

func (f *pdfFont) lookup(n int, code uint32) (string, bool) {
	if f.cmap == nil {
		return "", false
	}
	return f.cmap.lookup(n, code)
}

// showText runs the text-showing operators of one content stream. font
// resolves a font resource name (nil when unknown).
func showText(content []byte, font func(name string) *pdfFont, out *textBuf) error {
	l := &pdfobj.Lexer{B: content}
	var ops []pdfobj.Object
	var cur *pdfFont
	for !out.full {
		v, err := l.Next()
		if err == pdfobj.ErrEOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("content stream: %w", err)
		}
		if v.Kind != pdfobj.Op {
			if len(ops) >= maxOperands {
				return fmt.Errorf("content stream: more than %d operands before an operator", maxOperands)
			}
			ops = append(ops, v)
			continue
		}
		switch v.S {
		case "Tf":
			if len(ops) >= 2 && ops[len(ops)-2].Kind == pdfobj.Name {
				cur = font(ops[len(ops)-2].S)
			}
		case "Tj", "'", "\"":
			if len(ops) > 0 && ops[len(ops)-1].Kind == pdfobj.String {
				out.show(cur, ops[len(ops)-1].S)
			}
		case "TJ":
			if len(ops) > 0 && ops[len(ops)-1].Kind == pdfobj.Array {
				for _, e := range ops[len(ops)-1].Items {
					if e.Kind == pdfobj.String {
						out.show(cur, e.S)
					}
				}
			}
		case "BI":
			if err := skipInlineImage(l); err != nil {
				return err
			}
		}
		ops = ops[:0]
	}
	return nil
}

// skipInlineImage moves past "… ID <data> EI" after BI.
func skipInlineImage(l *pdfobj.Lexer) error {
	for {
		v, err := l.Next()
		if err != nil {
			return fmt.Errorf("content stream: inline image: %w", err)
		}
		if v.Kind == pdfobj.Op && v.S == "ID" {
			break
		}
	}
	l.Pos++ // the single white-space byte after ID
	for i := l.Pos; i+2 <= len(l.B); i++ {
		if l.B[i] == 'E' && l.B[i+1] == 'I' && i > 0 && pdfobj.IsWhite(l.B[i-1]) &&
			(i+2 == len(l.B) || pdfobj.IsWhite(l.B[i+2]) || pdfobj.IsDelim(l.B[i+2])) {
			l.Pos = i + 2
			return nil
		}
	}
	return errors.New("content stream: inline image without EI")
}

// decodeStream returns the decoded data of a stream with no filter or
// FlateDecode, charging budget.
func (f *pdfFile) decodeStream(o pdfobj.Object, budget *int) ([]byte, error) {
	if o.Kind != pdfobj.Stream {
		return nil, errors.New("not a stream")
	}
	filter := f.resolve(o.Val("Filter"))
	if filter.Kind == pdfobj.Array {
		switch len(filter.Items) {
		case 0:
			filter = pdfobj.Object{}
		case 1:
			filter = f.resolve(filter.Items[0])
		default:
			return nil, errors.New("more than one stream filter is not supported")
		}
	}
	limit := min(maxDecodedStream, *budget)
	switch {
	case filter.Kind == pdfobj.Null:
		if len(o.Data) > limit {
			return nil, fmt.Errorf("stream of %d bytes over the limit of %d", len(o.Data), limit)
		}
		*budget -= len(o.Data)
		return o.Data, nil
	case filter.Kind == pdfobj.Name && filter.S == "FlateDecode":
	default:
		return nil, fmt.Errorf("stream filter %v is not supported", filter.S)
	}
	if p := f.resolve(o.Val("DecodeParms")); p.Kind == pdfobj.Dict {
		if pr, _ := isInt(f.resolve(p.Val("Predictor"))); pr > 1 {
			return nil, errors.New("FlateDecode predictors are not supported in content streams")
		}
	}
	zr, err := zlib.NewReader(bytes.NewReader(o.Data))
	if err != nil {
		return nil, fmt.Errorf("FlateDecode: %w", err)
	}
	var out bytes.Buffer
	out.Grow(min(4*len(o.Data), limit) + 1)
	n, err := io.Copy(&out, io.LimitReader(zr, int64(limit)+1))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("FlateDecode: %w", err)
	}
	if n > int64(limit) {
		return nil, fmt.Errorf("stream inflates beyond the limit of %d bytes", limit)
	}
	*budget -= int(n)
	return out.Bytes(), nil
}

// textExtractor reads the shown text of a PDF's pages.
type textExtractor struct {
	f      *pdfFile
	budget int
	fonts  map[int]*pdfFont // by object number
	nfonts int
	pages  int
	seen   map[int]bool // page tree nodes
	out    textBuf
	errs   []string
}

// pdfPageText returns the text shown by the text operators of every page of
// the PDF revision data (ToUnicode mapped), in drawing order, runs joined
// without separators, plus problems met on the way (unreadable streams,
// fonts). It fails only when the page tree cannot be reached.
func pdfPageText(data []byte) (string, []string, error) {
	f, err := openPDF(data)
	if err != nil {
		return "", nil, err
	}
	x := &textExtractor{f: f, budget: maxDecodedTotal, fonts: map[int]*pdfFont{}, seen: map[int]bool{}}
	root := f.resolve(f.trailer.Val("Root"))
	pages := root.Val("Pages")
	if root.Kind != pdfobj.Dict || pages.Kind == pdfobj.Null {
		return "", nil, errors.New("pdf: no catalog or page tree")
	}
	if err := x.walk(pages, pdfobj.Object{}, 0); err != nil {
		return x.out.String(), x.errs, err
	}
	return x.out.String(), x.errs, nil
}

func (x *textExtractor) walk(ref pdfobj.Object, res pdfobj.Object, depth int) error {
	if depth > maxPageTreeDepth {
		return fmt.Errorf("pdf: page tree deeper than %d", maxPageTreeDepth)
	}
	if ref.Kind == pdfobj.Ref {
		n := int(ref.Num)
		if x.seen[n] {
			return errors.New("pdf: page tree loop")
		}
		x.seen[n] = true
	}
	node := x.f.resolve(ref)
	if node.Kind != pdfobj.Dict {
		return errors.New("pdf: page tree node is not a dictionary")
	}
	if r := node.Val("Resources"); r.Kind != pdfobj.Null {
		res = r
	}
	if kids := x.f.resolve(node.Val("Kids")); kids.Kind == pdfobj.Array {
		for _, k := range kids.Items {
			if err := x.walk(k, res, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if x.pages >= maxTextPages {
		return fmt.Errorf("pdf: more than %d pages", maxTextPages)
	}
	x.pages++
	fontRes := x.f.resolve(x.f.resolve(res).Val("Font"))
	font := func(name string) *pdfFont { return x.font(fontRes.Val(name)) }
	contents := x.f.resolve(node.Val("Contents"))
	list := []pdfobj.Object{contents}
	if contents.Kind == pdfobj.Array {
		list = contents.Items
	}
	if len(list) > maxContentStreams {
		return fmt.Errorf("pdf: page with more than %d content streams", maxContentStreams)
	}
	for _, c := range list {
		s := x.f.resolve(c)
		if s.Kind == pdfobj.Null {
			continue
		}
		b, err := x.f.decodeStream(s, &x.budget)
		if err != nil {
			x.errs = append(x.errs, fmt.Sprintf("page %d content: %v", x.pages, err))
			continue
		}
		if err := showText(b, font, &x.out); err != nil {
			x.errs = append(x.errs, fmt.Sprintf("page %d: %v", x.pages, err))
		}
	}
	return nil
}

// font reads a font dictionary and its ToUnicode CMap once per object.
func (x *textExtractor) font(ref pdfobj.Object) *pdfFont {
	num := -1
	if ref.Kind == pdfobj.Ref {
		num = int(ref.Num)
		if f, ok := x.fonts[num]; ok {
			return f
		}
	}
	if x.nfonts >= maxFontsPerDocument {
		return nil
	}
	x.nfonts++
	d := x.f.resolve(ref)
	if d.Kind != pdfobj.Dict {
		return nil
	}
	f := &pdfFont{composite: x.f.resolve(d.Val("Subtype")).S == "Type0"}
	if tu := x.f.resolve(d.Val("ToUnicode")); tu.Kind == pdfobj.Stream {
		b, err := x.f.decodeStream(tu, &x.budget)
		if err == nil {
			f.cmap, err = parseCMap(b)
		}
		if err != nil {
			name := x.f.resolve(d.Val("BaseFont")).S
			if name == "" {
				name = fmt.Sprintf("object %d", num)
			}
			x.errs = append(x.errs, fmt.Sprintf("font %s: %v", name, err))
		}
	}
	if num >= 0 {
		x.fonts[num] = f
	}
	return f
}
