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
	l := &lexer{b: data}
	var ops []pobj
	block := "" // inside begin<block> … end<block>
	for {
		v, err := l.next()
		if err == errEOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ToUnicode CMap: %w", err)
		}
		if v.k != pOp {
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
		switch v.s {
		case "begincodespacerange", "beginbfchar", "beginbfrange":
			block = v.s[len("begin"):]
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
func (cm *cmap) apply(block string, ops []pobj) error {
	switch block {
	case "codespacerange":
		for i := 0; i+1 < len(ops); i += 2 {
			lo, ok1 := codeOf(ops[i].s)
			hi, ok2 := codeOf(ops[i+1].s)
			if ops[i].k != pString || !ok1 || !ok2 || len(ops[i].s) != len(ops[i+1].s) {
				continue
			}
			if len(cm.spaces) >= maxCMapSpaces {
				return fmt.Errorf("ToUnicode CMap: more than %d codespace ranges", maxCMapSpaces)
			}
			cm.spaces = append(cm.spaces, codespace{len(ops[i].s), lo, hi})
		}
	case "bfchar":
		for i := 0; i+1 < len(ops); i += 2 {
			c, ok := codeOf(ops[i].s)
			if ops[i].k != pString || !ok || ops[i+1].k != pString {
				continue
			}
			if len(cm.single) >= maxCMapEntries {
				return fmt.Errorf("ToUnicode CMap: more than %d entries", maxCMapEntries)
			}
			cm.single[codeKey(len(ops[i].s), c)] = string(utf16.Decode(utf16BE(ops[i+1].s)))
		}
	case "bfrange":
		for i := 0; i+2 < len(ops); i += 3 {
			lo, ok1 := codeOf(ops[i].s)
			hi, ok2 := codeOf(ops[i+1].s)
			n := len(ops[i].s)
			if ops[i].k != pString || ops[i+1].k != pString || !ok1 || !ok2 || len(ops[i+1].s) != n || hi < lo {
				continue
			}
			switch d := ops[i+2]; d.k {
			case pArray:
				for k, e := range d.a {
					if uint64(k) > uint64(hi-lo) {
						break
					}
					if e.k != pString {
						continue
					}
					if len(cm.single) >= maxCMapEntries {
						return fmt.Errorf("ToUnicode CMap: more than %d entries", maxCMapEntries)
					}
					cm.single[codeKey(n, lo+uint32(k))] = string(utf16.Decode(utf16BE(e.s)))
				}
			case pString:
				u := utf16BE(d.s)
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
	l := &lexer{b: content}
	var ops []pobj
	var cur *pdfFont
	for !out.full {
		v, err := l.next()
		if err == errEOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("content stream: %w", err)
		}
		if v.k != pOp {
			if len(ops) >= maxOperands {
				return fmt.Errorf("content stream: more than %d operands before an operator", maxOperands)
			}
			ops = append(ops, v)
			continue
		}
		switch v.s {
		case "Tf":
			if len(ops) >= 2 && ops[len(ops)-2].k == pName {
				cur = font(ops[len(ops)-2].s)
			}
		case "Tj", "'", "\"":
			if len(ops) > 0 && ops[len(ops)-1].k == pString {
				out.show(cur, ops[len(ops)-1].s)
			}
		case "TJ":
			if len(ops) > 0 && ops[len(ops)-1].k == pArray {
				for _, e := range ops[len(ops)-1].a {
					if e.k == pString {
						out.show(cur, e.s)
					}
				}
			}
		case "BI":
			if err := l.skipInlineImage(); err != nil {
				return err
			}
		}
		ops = ops[:0]
	}
	return nil
}

// skipInlineImage moves past "… ID <data> EI" after BI.
func (l *lexer) skipInlineImage() error {
	for {
		v, err := l.next()
		if err != nil {
			return fmt.Errorf("content stream: inline image: %w", err)
		}
		if v.k == pOp && v.s == "ID" {
			break
		}
	}
	l.pos++ // the single white-space byte after ID
	for i := l.pos; i+2 <= len(l.b); i++ {
		if l.b[i] == 'E' && l.b[i+1] == 'I' && i > 0 && isPDFWhite(l.b[i-1]) &&
			(i+2 == len(l.b) || isPDFWhite(l.b[i+2]) || isPDFDelim(l.b[i+2])) {
			l.pos = i + 2
			return nil
		}
	}
	return errors.New("content stream: inline image without EI")
}

// decodeStream returns the decoded data of a stream with no filter or
// FlateDecode, charging budget.
func (f *pdfFile) decodeStream(o pobj, budget *int) ([]byte, error) {
	if o.k != pStream {
		return nil, errors.New("not a stream")
	}
	filter := f.resolve(o.get("Filter"))
	if filter.k == pArray {
		switch len(filter.a) {
		case 0:
			filter = pobj{}
		case 1:
			filter = f.resolve(filter.a[0])
		default:
			return nil, errors.New("more than one stream filter is not supported")
		}
	}
	limit := min(maxDecodedStream, *budget)
	switch {
	case filter.k == pNull:
		if len(o.data) > limit {
			return nil, fmt.Errorf("stream of %d bytes over the limit of %d", len(o.data), limit)
		}
		*budget -= len(o.data)
		return o.data, nil
	case filter.k == pName && filter.s == "FlateDecode":
	default:
		return nil, fmt.Errorf("stream filter %v is not supported", filter.s)
	}
	if p := f.resolve(o.get("DecodeParms")); p.k == pDict {
		if pr, _ := f.resolve(p.get("Predictor")).isInt(); pr > 1 {
			return nil, errors.New("FlateDecode predictors are not supported in content streams")
		}
	}
	zr, err := zlib.NewReader(bytes.NewReader(o.data))
	if err != nil {
		return nil, fmt.Errorf("FlateDecode: %w", err)
	}
	var out bytes.Buffer
	out.Grow(min(4*len(o.data), limit) + 1)
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
	root := f.resolve(f.trailer.get("Root"))
	pages := root.get("Pages")
	if root.k != pDict || pages.k == pNull {
		return "", nil, errors.New("pdf: no catalog or page tree")
	}
	if err := x.walk(pages, pobj{}, 0); err != nil {
		return x.out.String(), x.errs, err
	}
	return x.out.String(), x.errs, nil
}

func (x *textExtractor) walk(ref pobj, res pobj, depth int) error {
	if depth > maxPageTreeDepth {
		return fmt.Errorf("pdf: page tree deeper than %d", maxPageTreeDepth)
	}
	if ref.k == pRef {
		n := int(ref.num)
		if x.seen[n] {
			return errors.New("pdf: page tree loop")
		}
		x.seen[n] = true
	}
	node := x.f.resolve(ref)
	if node.k != pDict {
		return errors.New("pdf: page tree node is not a dictionary")
	}
	if r := node.get("Resources"); r.k != pNull {
		res = r
	}
	if kids := x.f.resolve(node.get("Kids")); kids.k == pArray {
		for _, k := range kids.a {
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
	fontRes := x.f.resolve(x.f.resolve(res).get("Font"))
	font := func(name string) *pdfFont { return x.font(fontRes.get(name)) }
	contents := x.f.resolve(node.get("Contents"))
	list := []pobj{contents}
	if contents.k == pArray {
		list = contents.a
	}
	if len(list) > maxContentStreams {
		return fmt.Errorf("pdf: page with more than %d content streams", maxContentStreams)
	}
	for _, c := range list {
		s := x.f.resolve(c)
		if s.k == pNull {
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
func (x *textExtractor) font(ref pobj) *pdfFont {
	num := -1
	if ref.k == pRef {
		num = int(ref.num)
		if f, ok := x.fonts[num]; ok {
			return f
		}
	}
	if x.nfonts >= maxFontsPerDocument {
		return nil
	}
	x.nfonts++
	d := x.f.resolve(ref)
	if d.k != pDict {
		return nil
	}
	f := &pdfFont{composite: x.f.resolve(d.get("Subtype")).s == "Type0"}
	if tu := x.f.resolve(d.get("ToUnicode")); tu.k == pStream {
		b, err := x.f.decodeStream(tu, &x.budget)
		if err == nil {
			f.cmap, err = parseCMap(b)
		}
		if err != nil {
			name := x.f.resolve(d.get("BaseFont")).s
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
