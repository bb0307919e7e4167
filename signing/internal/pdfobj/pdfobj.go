// Package pdfobj is the one bounded reader of PDF syntax shared by the PDF
// signer (signing/pdfsig) and the verifier (signing/verify): tokens, names,
// numbers, literal and hex strings, arrays, dictionaries and indirect
// references, with the byte span of every value so that a signer can copy
// objects verbatim.
//
// It reads hostile input, so everything is bounded: nesting depth, entries
// per array or dictionary, and the length of a number.
package pdfobj

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits of the parser.
const (
	MaxNesting     = 32   // arrays and dictionaries inside each other
	MaxDictEntries = 4096 // entries of one dictionary
	MaxArrayItems  = 8192 // items of one array
	maxNumberLen   = 32   // characters of one number
	maxGenDigits   = 5    // digits of a generation number in "N G R"
)

// ErrSyntax is wrapped by every syntax error the parser reports.
var ErrSyntax = errors.New("pdf syntax error")

// ErrEOF is returned by Next at the end of the data.
var ErrEOF = errors.New("end of data")

// Kind says what an Object is.
type Kind uint8

// The kinds of PDF values.
const (
	Null Kind = iota
	Bool
	Number
	Name
	String
	Array
	Dict
	Ref
	Stream // a dictionary with its raw data (set by callers that read streams)
	Op     // a bare keyword: an operator in a content stream or CMap, "obj", "R"...
)

// Object is one PDF value with its byte span [Start, End) in the source.
type Object struct {
	Kind       Kind
	Bool       bool  // Bool
	isInt      bool  // Number written as an integer of at most 2^53 (object mode)
	Gen        int32 // generation of a Ref
	Start, End int
	Num        float64  // Number (object mode); object number of a Ref
	S          string   // Name (without '/', #xx decoded), decoded String, Op keyword
	Items      []Object // Array items
	Entries    []Entry  // Dict entries, in source order
	Data       []byte   // Stream data, not decoded
}

// Entry is one key and value of a dictionary.
type Entry struct {
	Key      string // without '/', #xx decoded
	KeyStart int    // offset of the key's '/'
	Value    Object
}

// Get returns the value of key in a dictionary; the first one wins when a
// key repeats. ok is false when the key is absent.
func (o Object) Get(key string) (Object, bool) {
	for i := range o.Entries {
		if o.Entries[i].Key == key {
			return o.Entries[i].Value, true
		}
	}
	return Object{}, false
}

// Val returns the value of key in a dictionary, or a Null object.
func (o Object) Val(key string) Object {
	v, _ := o.Get(key)
	return v
}

// Int returns an integer Number written as an integer literal (object mode).
func (o Object) Int() (int, bool) {
	if o.Kind != Number {
		return 0, false
	}
	if !o.isInt {
		return 0, false
	}
	return int(o.Num), true
}

// RefNum returns the object and generation numbers of a Ref.
func (o Object) RefNum() [2]int { return [2]int{int(o.Num), int(o.Gen)} }

// Lexer reads PDF values and keywords from B starting at Pos.
type Lexer struct {
	B   []byte
	Pos int
	// Objects selects object syntax: numbers are parsed (and keep their
	// literal), and "N G R" is a reference. Without it (content streams and
	// CMaps) numbers are recognised but not parsed, and there are no
	// references.
	Objects bool
	depth   int
}

// IsWhite reports whether c is PDF white space.
func IsWhite(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

// IsDelim reports whether c is a PDF delimiter.
func IsDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

// Skip moves past white space and comments.
func (l *Lexer) Skip() {
	for l.Pos < len(l.B) {
		c := l.B[l.Pos]
		switch {
		case IsWhite(c):
			l.Pos++
		case c == '%':
			for l.Pos < len(l.B) && l.B[l.Pos] != '\n' && l.B[l.Pos] != '\r' {
				l.Pos++
			}
		default:
			return
		}
	}
}

// Errorf returns a syntax error at the current position.
func (l *Lexer) Errorf(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", ErrSyntax, l.Pos, fmt.Sprintf(format, args...))
}

// Regular reads a run of regular (neither white nor delimiter) characters.
func (l *Lexer) Regular() []byte {
	s := l.Pos
	for l.Pos < len(l.B) && !IsWhite(l.B[l.Pos]) && !IsDelim(l.B[l.Pos]) {
		l.Pos++
	}
	return l.B[s:l.Pos]
}

// Next reads one value or keyword after white space. It returns ErrEOF at
// the end of the data. A lone ']', '>', ')', '{' or '}' is an Op.
func (l *Lexer) Next() (Object, error) {
	l.Skip()
	if l.Pos >= len(l.B) {
		return Object{}, ErrEOF
	}
	start := l.Pos
	c := l.B[l.Pos]
	switch {
	case c == '/':
		l.Pos++
		return Object{Kind: Name, S: string(UnescapeName(l.Regular())), Start: start, End: l.Pos}, nil
	case c == '(':
		return l.literal()
	case c == '<':
		if l.Pos+1 < len(l.B) && l.B[l.Pos+1] == '<' {
			return l.dict()
		}
		return l.hex()
	case c == '[':
		return l.array()
	case c == ']' || c == '>' || c == ')' || c == '{' || c == '}':
		l.Pos++
		return Object{Kind: Op, S: string(c), Start: start, End: l.Pos}, nil
	}
	tok := l.Regular()
	if len(tok) == 0 {
		l.Pos++
		return Object{}, l.Errorf("unexpected %q", c)
	}
	switch string(tok) {
	case "true", "false":
		return Object{Kind: Bool, Bool: tok[0] == 't', Start: start, End: l.Pos}, nil
	case "null":
		return Object{Kind: Null, Start: start, End: l.Pos}, nil
	}
	if c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9') {
		if !l.Objects {
			// Content streams and CMaps: operand values are not needed.
			if isNumber(tok) {
				return Object{Kind: Number, Start: start, End: l.Pos}, nil
			}
			return Object{Kind: Op, S: opName(tok), Start: start, End: l.Pos}, nil
		}
		if len(tok) > maxNumberLen || !isNumber(tok) {
			return Object{}, l.Errorf("bad number %.40q", tok)
		}
		f, err := strconv.ParseFloat(string(tok), 64)
		if err != nil {
			return Object{}, l.Errorf("bad number %q", tok)
		}
		o := Object{Kind: Number, Num: f, Start: start, End: l.Pos}
		if bytes.IndexByte(tok, '.') < 0 {
			if n, err := strconv.Atoi(string(tok)); err == nil {
				if c >= '0' && c <= '9' {
					if ref, ok := l.tryRef(n, start); ok {
						return ref, nil
					}
				}
				o.isInt = n <= 1<<53 && n >= -(1<<53)
			}
		}
		return o, nil
	}
	return Object{Kind: Op, S: opName(tok), Start: start, End: l.Pos}, nil
}

// Value reads one value; a keyword where a value is expected is an error.
func (l *Lexer) Value() (Object, error) {
	v, err := l.Next()
	if err == ErrEOF {
		return Object{}, l.Errorf("unexpected end")
	}
	if err != nil {
		return Object{}, err
	}
	if v.Kind == Op {
		return Object{}, l.Errorf("unexpected %q", v.S)
	}
	return v, nil
}

// isNumber reports whether tok is a PDF number: sign, digits, one point.
func isNumber(tok []byte) bool {
	if tok[0] == '+' || tok[0] == '-' {
		tok = tok[1:]
	}
	digits, point := 0, false
	for _, ch := range tok {
		switch {
		case ch >= '0' && ch <= '9':
			digits++
		case ch == '.' && !point:
			point = true
		default:
			return false
		}
	}
	return digits > 0
}

// opName returns the operator without allocating for the common ones.
func opName(tok []byte) string {
	switch string(tok) {
	case "q":
		return "q"
	case "Q":
		return "Q"
	case "cm":
		return "cm"
	case "re":
		return "re"
	case "f":
		return "f"
	case "S":
		return "S"
	case "B":
		return "B"
	case "w":
		return "w"
	case "rg":
		return "rg"
	case "RG":
		return "RG"
	case "BT":
		return "BT"
	case "ET":
		return "ET"
	case "Td":
		return "Td"
	case "TD":
		return "TD"
	case "Tf":
		return "Tf"
	case "Tc":
		return "Tc"
	case "Tj":
		return "Tj"
	case "TJ":
		return "TJ"
	case "Do":
		return "Do"
	case "def":
		return "def"
	case "obj":
		return "obj"
	}
	return string(tok)
}

// tryRef recognises "G R" after object number num, restoring the position
// when they are not there.
func (l *Lexer) tryRef(num, start int) (Object, bool) {
	save := l.Pos
	l.Skip()
	g := l.Regular()
	if len(g) == 0 || len(g) > maxGenDigits {
		l.Pos = save
		return Object{}, false
	}
	gen := 0
	for _, ch := range g {
		if ch < '0' || ch > '9' {
			l.Pos = save
			return Object{}, false
		}
		gen = gen*10 + int(ch-'0')
	}
	l.Skip()
	if l.Pos < len(l.B) && l.B[l.Pos] == 'R' && (l.Pos+1 == len(l.B) || IsWhite(l.B[l.Pos+1]) || IsDelim(l.B[l.Pos+1])) {
		l.Pos++
		return Object{Kind: Ref, Num: float64(num), Gen: int32(gen), Start: start, End: l.Pos}, true
	}
	l.Pos = save
	return Object{}, false
}

// UnescapeName decodes the #xx escapes of a name.
func UnescapeName(b []byte) []byte {
	if bytes.IndexByte(b, '#') < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '#' && i+2 < len(b) {
			h, ok1 := Unhex(b[i+1])
			lo, ok2 := Unhex(b[i+2])
			if ok1 && ok2 {
				out = append(out, h<<4|lo)
				i += 2
				continue
			}
		}
		out = append(out, b[i])
	}
	return out
}

// Unhex returns the value of hex digit c.
func Unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (l *Lexer) hex() (Object, error) {
	start := l.Pos
	l.Pos++ // <
	end := bytes.IndexByte(l.B[l.Pos:], '>')
	if end < 0 {
		return Object{}, l.Errorf("unterminated hex string")
	}
	raw := l.B[l.Pos : l.Pos+end]
	var str string
	bad := -1
	if len(raw)/2+1 <= 32 {
		// Short strings (content streams, CMaps): decoded on the stack.
		var small [32]byte
		var out []byte
		out, bad = unhexTo(small[:0], raw)
		str = string(out)
	} else {
		// Long strings (a signature's /Contents): decoded once, not copied.
		var sb strings.Builder
		sb.Grow(len(raw)/2 + 1)
		var hi byte
		half := false
		for i, c := range raw {
			if IsWhite(c) {
				continue
			}
			v, ok := Unhex(c)
			if !ok {
				bad = i
				break
			}
			if half {
				sb.WriteByte(hi<<4 | v)
			} else {
				hi = v
			}
			half = !half
		}
		if half {
			sb.WriteByte(hi << 4)
		}
		str = sb.String()
	}
	if bad >= 0 {
		l.Pos += bad
		return Object{}, l.Errorf("bad hex digit %q", raw[bad])
	}
	l.Pos += end + 1
	return Object{Kind: String, S: str, Start: start, End: l.Pos}, nil
}

// unhexTo appends the bytes of the hex digits in raw (white space skipped,
// an odd last digit followed by 0) to dst. bad is the index of the first
// byte that is neither, or -1.
func unhexTo(dst, raw []byte) (out []byte, bad int) {
	var hi byte
	half := false
	for i, c := range raw {
		if IsWhite(c) {
			continue
		}
		v, ok := Unhex(c)
		if !ok {
			return dst, i
		}
		if half {
			dst = append(dst, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		dst = append(dst, hi<<4)
	}
	return dst, -1
}

func (l *Lexer) literal() (Object, error) {
	start := l.Pos
	l.Pos++ // (
	var out strings.Builder
	nest := 0
	for l.Pos < len(l.B) {
		c := l.B[l.Pos]
		l.Pos++
		switch c {
		case '(':
			nest++
		case ')':
			if nest == 0 {
				return Object{Kind: String, S: out.String(), Start: start, End: l.Pos}, nil
			}
			nest--
		case '\\':
			if l.Pos >= len(l.B) {
				return Object{}, l.Errorf("unterminated string")
			}
			e := l.B[l.Pos]
			l.Pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if l.Pos < len(l.B) && l.B[l.Pos] == '\n' {
					l.Pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && l.Pos < len(l.B) && l.B[l.Pos] >= '0' && l.B[l.Pos] <= '7'; k++ {
						v = v*8 + int(l.B[l.Pos]-'0')
						l.Pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out.WriteByte(c)
	}
	return Object{}, l.Errorf("unterminated string")
}

func (l *Lexer) enter() error {
	l.depth++
	if l.depth > MaxNesting {
		return l.Errorf("nesting deeper than %d", MaxNesting)
	}
	return nil
}

func (l *Lexer) array() (Object, error) {
	start := l.Pos
	l.Pos++ // [
	if err := l.enter(); err != nil {
		return Object{}, err
	}
	defer func() { l.depth-- }()
	o := Object{Kind: Array, Start: start}
	for {
		v, err := l.Next()
		if err != nil {
			if err == ErrEOF {
				return Object{}, l.Errorf("unterminated array")
			}
			return Object{}, err
		}
		if v.Kind == Op {
			if v.S == "]" {
				o.End = l.Pos
				return o, nil
			}
			return Object{}, l.Errorf("operator %q inside an array", v.S)
		}
		if len(o.Items) >= MaxArrayItems {
			return Object{}, l.Errorf("array of more than %d items", MaxArrayItems)
		}
		o.Items = append(o.Items, v)
	}
}

func (l *Lexer) dict() (Object, error) {
	start := l.Pos
	l.Pos += 2 // <<
	if err := l.enter(); err != nil {
		return Object{}, err
	}
	defer func() { l.depth-- }()
	o := Object{Kind: Dict, Start: start}
	for {
		l.Skip()
		if l.Pos+1 < len(l.B) && l.B[l.Pos] == '>' && l.B[l.Pos+1] == '>' {
			l.Pos += 2
			o.End = l.Pos
			return o, nil
		}
		k, err := l.Next()
		if err != nil {
			if err == ErrEOF {
				return Object{}, l.Errorf("unterminated dictionary")
			}
			return Object{}, err
		}
		if k.Kind != Name {
			return Object{}, l.Errorf("dictionary key is not a name")
		}
		v, err := l.Next()
		if err != nil {
			if err == ErrEOF {
				return Object{}, l.Errorf("unterminated dictionary")
			}
			return Object{}, err
		}
		if v.Kind == Op {
			return Object{}, l.Errorf("operator %q as a dictionary value", v.S)
		}
		if len(o.Entries) >= MaxDictEntries {
			return Object{}, l.Errorf("dictionary of more than %d entries", MaxDictEntries)
		}
		o.Entries = append(o.Entries, Entry{Key: k.S, KeyStart: k.Start, Value: v})
	}
}

// ParseAt parses one value (object syntax) at offset off of b.
func ParseAt(b []byte, off int) (Object, error) {
	if off < 0 || off >= len(b) {
		return Object{}, fmt.Errorf("%w: offset %d outside the file", ErrSyntax, off)
	}
	l := &Lexer{B: b, Pos: off, Objects: true}
	return l.Value()
}

// ParseIndirect parses "num G obj <value>" at off of b, checking the
// object number. The lexer is left after the value.
func ParseIndirect(b []byte, off, num int) (Object, *Lexer, error) {
	if off < 0 || off >= len(b) {
		return Object{}, nil, fmt.Errorf("object %d: offset %d outside the file", num, off)
	}
	l := &Lexer{B: b, Pos: off, Objects: true}
	n, _ := l.Next()
	g, _ := l.Next()
	kw, _ := l.Next()
	if got, ok := n.Int(); !ok || got != num || g.Kind != Number {
		return Object{}, nil, fmt.Errorf("object %d: offset %d does not point at it", num, off)
	}
	if kw.Kind != Op || kw.S != "obj" {
		return Object{}, nil, fmt.Errorf("object %d: 'obj' keyword missing", num)
	}
	v, err := l.Value()
	if err != nil {
		return Object{}, nil, fmt.Errorf("object %d: %w", num, err)
	}
	return v, l, nil
}
