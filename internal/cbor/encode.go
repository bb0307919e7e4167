package cbor

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"
)

// Major types of RFC 8949 §3.1.
const (
	majorUint  = 0
	majorNeg   = 1
	majorBytes = 2
	majorText  = 3
	majorArray = 4
	majorMap   = 5
	majorTag   = 6
	majorOther = 7
)

// Simple values of major type 7 that this package knows.
const (
	simpleFalse = 20
	simpleTrue  = 21
	simpleNull  = 22
)

// Marshal returns the core deterministic encoding of v. It refuses the zero
// Value, invalid UTF-8 in text, map keys that are not integers or text,
// duplicate map keys and nesting deeper than MaxDepth, so that Unmarshal
// accepts everything Marshal writes.
func Marshal(v Value) ([]byte, error) {
	return appendValue(nil, v, 0)
}

func appendHead(dst []byte, major byte, arg uint64) []byte {
	m := major << 5
	switch {
	case arg < 24:
		return append(dst, m|byte(arg))
	case arg <= 0xff:
		return append(dst, m|24, byte(arg))
	case arg <= 0xffff:
		return append(dst, m|25, byte(arg>>8), byte(arg))
	case arg <= 0xffffffff:
		return append(dst, m|26, byte(arg>>24), byte(arg>>16), byte(arg>>8), byte(arg))
	}
	return append(dst, m|27, byte(arg>>56), byte(arg>>48), byte(arg>>40), byte(arg>>32),
		byte(arg>>24), byte(arg>>16), byte(arg>>8), byte(arg))
}

func appendValue(dst []byte, v Value, depth int) ([]byte, error) {
	switch v.kind {
	case KindUint:
		return appendHead(dst, majorUint, v.n), nil
	case KindNeg:
		return appendHead(dst, majorNeg, v.n), nil
	case KindBytes:
		return append(appendHead(dst, majorBytes, uint64(len(v.b))), v.b...), nil
	case KindText:
		if !utf8.Valid(v.b) {
			return nil, fmt.Errorf("cbor: marshal: %w", ErrInvalidUTF8)
		}
		return append(appendHead(dst, majorText, uint64(len(v.b))), v.b...), nil
	case KindBool:
		if v.n == 1 {
			return append(dst, majorOther<<5|simpleTrue), nil
		}
		return append(dst, majorOther<<5|simpleFalse), nil
	case KindNull:
		return append(dst, majorOther<<5|simpleNull), nil
	}
	if depth >= MaxDepth {
		return nil, fmt.Errorf("cbor: marshal: %w", ErrDepth)
	}
	var err error
	switch v.kind {
	case KindArray:
		dst = appendHead(dst, majorArray, uint64(len(v.items)))
		for _, it := range v.items {
			if dst, err = appendValue(dst, it, depth+1); err != nil {
				return nil, err
			}
		}
		return dst, nil
	case KindTag:
		return appendValue(appendHead(dst, majorTag, v.n), v.items[0], depth+1)
	case KindMap:
		return appendMap(dst, v.pairs, depth)
	}
	return nil, errors.New("cbor: marshal: invalid (zero) value")
}

// appendMap writes the entries sorted by the bytewise order of their
// encoded keys (RFC 8949 §4.2.1).
func appendMap(dst []byte, pairs []Pair, depth int) ([]byte, error) {
	type entry struct{ key, val []byte }
	es := make([]entry, len(pairs))
	for i, p := range pairs {
		if p.Key.kind != KindUint && p.Key.kind != KindNeg && p.Key.kind != KindText {
			return nil, fmt.Errorf("cbor: marshal: %w: %s", ErrKeyType, p.Key.kind)
		}
		k, err := appendValue(nil, p.Key, depth+1)
		if err != nil {
			return nil, err
		}
		val, err := appendValue(nil, p.Val, depth+1)
		if err != nil {
			return nil, err
		}
		es[i] = entry{k, val}
	}
	slices.SortFunc(es, func(a, b entry) int { return bytes.Compare(a.key, b.key) })
	dst = appendHead(dst, majorMap, uint64(len(es)))
	for i, e := range es {
		if i > 0 && bytes.Equal(es[i-1].key, e.key) {
			return nil, fmt.Errorf("cbor: marshal: %w %x", ErrDuplicateKey, e.key)
		}
		dst = append(append(dst, e.key...), e.val...)
	}
	return dst, nil
}
