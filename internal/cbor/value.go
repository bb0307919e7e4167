// Package cbor is the small subset of CBOR (RFC 8949) that ecert's signed QR
// claims need: integers, byte and text strings, arrays, maps keyed by
// integers or text, tags, booleans and null, all with definite lengths.
//
// Marshal writes the core deterministic encoding of RFC 8949 §4.2.1
// (shortest arguments, definite lengths, map keys sorted by their encoded
// bytes). Unmarshal is a parser of outside data and accepts exactly that
// encoding and nothing else: it never panics, bounds nesting depth, never
// allocates more than the input length justifies, and refuses indefinite
// lengths, non-shortest arguments, unsorted or duplicate map keys, invalid
// UTF-8, floating-point and other simple values, and trailing bytes. So for
// any input it accepts, Marshal of the result gives the input back.
//
// It must never grow into a general-purpose CBOR library: no reflection, no
// floats, no streaming.
package cbor

import (
	"bytes"
	"fmt"
	"iter"
	"math"
)

// Kind is the type of a Value.
type Kind uint8

// The kinds of Value. Integers are split as CBOR splits them: Uint is major
// type 0 (0..2^64-1), Neg is major type 1 (-2^64..-1).
const (
	KindInvalid Kind = iota // the zero Value
	KindUint
	KindNeg
	KindBytes
	KindText
	KindArray
	KindMap
	KindTag
	KindBool
	KindNull
)

var kindNames = [...]string{"invalid", "unsigned integer", "negative integer", "byte string", "text string", "array", "map", "tag", "boolean", "null"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Value is one CBOR data item. The zero Value is invalid and cannot be
// marshalled. Values are immutable once built: constructors copy nothing,
// so callers must not modify slices they passed in.
type Value struct {
	kind  Kind
	n     uint64  // Uint: value; Neg: -1-value; Tag: tag number; Bool: 0 or 1
	b     []byte  // Bytes and Text contents
	items []Value // Array elements; Tag content (one item)
	pairs []Pair  // Map entries, in the order given or decoded
}

// Pair is one map entry.
type Pair struct {
	Key, Val Value
}

// Uint returns the unsigned integer u.
func Uint(u uint64) Value { return Value{kind: KindUint, n: u} }

// Int returns the integer i, as major type 0 or 1 according to its sign.
func Int(i int64) Value {
	if i >= 0 {
		return Value{kind: KindUint, n: uint64(i)}
	}
	return Value{kind: KindNeg, n: uint64(-1 - i)}
}

// Bytes returns a byte string holding b.
func Bytes(b []byte) Value {
	if b == nil {
		b = []byte{}
	}
	return Value{kind: KindBytes, b: b}
}

// Text returns a text string holding s. Marshal refuses s if it is not
// valid UTF-8.
func Text(s string) Value { return Value{kind: KindText, b: []byte(s)} }

// Array returns an array of items.
func Array(items ...Value) Value {
	if items == nil {
		items = []Value{}
	}
	return Value{kind: KindArray, items: items}
}

// Map returns a map of pairs. Their order does not matter: Marshal sorts
// them. Marshal refuses duplicate keys and keys other than integers and
// text strings.
func Map(pairs ...Pair) Value {
	if pairs == nil {
		pairs = []Pair{}
	}
	return Value{kind: KindMap, pairs: pairs}
}

// Tag returns content tagged with number tag.
func Tag(tag uint64, content Value) Value {
	return Value{kind: KindTag, n: tag, items: []Value{content}}
}

// Bool returns true or false.
func Bool(b bool) Value {
	v := Value{kind: KindBool}
	if b {
		v.n = 1
	}
	return v
}

// Null returns null.
func Null() Value { return Value{kind: KindNull} }

// Kind returns the type of v.
func (v Value) Kind() Kind { return v.kind }

// Int64 returns v as an int64 if v is an integer in int64's range.
func (v Value) Int64() (int64, bool) {
	switch v.kind {
	case KindUint:
		if v.n <= math.MaxInt64 {
			return int64(v.n), true
		}
	case KindNeg:
		if v.n <= math.MaxInt64 {
			return -1 - int64(v.n), true
		}
	}
	return 0, false
}

// Uint64 returns v if it is an unsigned integer.
func (v Value) Uint64() (uint64, bool) { return v.n, v.kind == KindUint }

// ByteString returns the contents of a byte string. The slice is shared
// with v.
func (v Value) ByteString() ([]byte, bool) {
	if v.kind != KindBytes {
		return nil, false
	}
	return v.b, true
}

// TextString returns the contents of a text string.
func (v Value) TextString() (string, bool) {
	if v.kind != KindText {
		return "", false
	}
	return string(v.b), true
}

// Items returns the elements of an array. The slice is shared with v.
func (v Value) Items() ([]Value, bool) {
	if v.kind != KindArray {
		return nil, false
	}
	return v.items, true
}

// Pairs returns the entries of a map (sorted by encoded key if v was
// decoded). The slice is shared with v.
func (v Value) Pairs() ([]Pair, bool) {
	if v.kind != KindMap {
		return nil, false
	}
	return v.pairs, true
}

// Entries iterates over the entries of a map; it yields nothing if v is not
// a map.
func (v Value) Entries() iter.Seq2[Value, Value] {
	return func(yield func(Value, Value) bool) {
		for _, p := range v.pairs {
			if !yield(p.Key, p.Val) {
				return
			}
		}
	}
}

// Lookup returns the value stored under key in map v.
func (v Value) Lookup(key Value) (Value, bool) {
	for _, p := range v.pairs {
		if p.Key.Equal(key) {
			return p.Val, true
		}
	}
	return Value{}, false
}

// TagContent returns the tag number and the tagged item.
func (v Value) TagContent() (uint64, Value, bool) {
	if v.kind != KindTag {
		return 0, Value{}, false
	}
	return v.n, v.items[0], true
}

// BoolValue returns the value of a boolean.
func (v Value) BoolValue() (bool, bool) { return v.n == 1, v.kind == KindBool }

// Equal reports whether v and w are the same data item. Maps are equal if
// they hold the same entries in the same order.
func (v Value) Equal(w Value) bool {
	if v.kind != w.kind || v.n != w.n || !bytes.Equal(v.b, w.b) ||
		len(v.items) != len(w.items) || len(v.pairs) != len(w.pairs) {
		return false
	}
	for i := range v.items {
		if !v.items[i].Equal(w.items[i]) {
			return false
		}
	}
	for i := range v.pairs {
		if !v.pairs[i].Key.Equal(w.pairs[i].Key) || !v.pairs[i].Val.Equal(w.pairs[i].Val) {
			return false
		}
	}
	return true
}
