package cbor

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"testing"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Examples from RFC 8949 Appendix A that fall in the supported subset, plus
// deterministic map ordering.
func TestMarshalRFC8949Examples(t *testing.T) {
	tests := []struct {
		name string
		v    Value
		hex  string
	}{
		{"0", Int(0), "00"},
		{"23", Int(23), "17"},
		{"24", Int(24), "1818"},
		{"100", Int(100), "1864"},
		{"1000", Int(1000), "1903e8"},
		{"1000000", Int(1000000), "1a000f4240"},
		{"1e12", Int(1000000000000), "1b000000e8d4a51000"},
		{"2^64-1", Uint(math.MaxUint64), "1bffffffffffffffff"},
		{"-1", Int(-1), "20"},
		{"-100", Int(-100), "3863"},
		{"-1000", Int(-1000), "3903e7"},
		{"min int64", Int(math.MinInt64), "3b7fffffffffffffff"},
		{"false", Bool(false), "f4"},
		{"true", Bool(true), "f5"},
		{"null", Null(), "f6"},
		{"empty bytes", Bytes(nil), "40"},
		{"bytes", Bytes([]byte{1, 2, 3, 4}), "4401020304"},
		{"empty text", Text(""), "60"},
		{"text a", Text("a"), "6161"},
		{"text IETF", Text("IETF"), "6449455446"},
		{"text ü", Text("\u00fc"), "62c3bc"},
		{"text 水", Text("\u6c34"), "63e6b0b4"},
		{"empty array", Array(), "80"},
		{"array", Array(Int(1), Int(2), Int(3)), "83010203"},
		{"nested", Array(Int(1), Array(Int(2), Int(3)), Array(Int(4), Int(5))), "8301820203820405"},
		{"empty map", Map(), "a0"},
		{"map", Map(Pair{Int(1), Int(2)}, Pair{Int(3), Int(4)}), "a201020304"},
		{"tag 1", Tag(1, Int(1363896240)), "c11a514b67b0"},
		{"tag 18", Tag(18, Array()), "d280"},
		// Sorting: encoded keys bytewise, so 10 (0x0a) < 100 (0x1864) < -1 (0x20) < "z" (0x617a) < "aa" (0x626161).
		{"sorted keys", Map(
			Pair{Text("aa"), Int(5)}, Pair{Text("z"), Int(4)}, Pair{Int(-1), Int(3)},
			Pair{Int(100), Int(2)}, Pair{Int(10), Int(1)},
		), "a50a011864022003617a0462616105"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			want := mustHex(t, tt.hex)
			if !bytes.Equal(got, want) {
				t.Fatalf("Marshal = %x, want %x", got, want)
			}
			back, err := Unmarshal(want)
			if err != nil {
				t.Fatalf("Unmarshal(%x): %v", want, err)
			}
			again, err := Marshal(back)
			if err != nil || !bytes.Equal(again, want) {
				t.Fatalf("round trip = %x, %v; want %x", again, err, want)
			}
		})
	}
}

func TestUnmarshalRefuses(t *testing.T) {
	deep := strings.Repeat("81", MaxDepth+1) + "00"
	tests := []struct {
		name string
		hex  string
		want error
	}{
		{"empty", "", ErrTruncated},
		{"truncated argument", "19 03", ErrTruncated},
		{"truncated bytes", "44 0102", ErrTooLong},
		{"truncated array", "82 01 1903", ErrTruncated},
		{"trailing", "00 00", ErrTrailing},
		{"non-minimal 1 byte", "18 17", ErrNotMinimal},
		{"non-minimal 2 bytes", "19 00ff", ErrNotMinimal},
		{"non-minimal 4 bytes", "1a 0000ffff", ErrNotMinimal},
		{"non-minimal 8 bytes", "1b 00000000ffffffff", ErrNotMinimal},
		{"non-minimal length", "58 01 00", ErrNotMinimal},
		{"non-minimal tag", "d8 12 80", ErrNotMinimal},
		{"indefinite bytes", "5f 41 00 ff", ErrIndefinite},
		{"indefinite array", "9f ff", ErrIndefinite},
		{"indefinite map", "bf ff", ErrIndefinite},
		{"break", "ff", ErrIndefinite},
		{"reserved", "1c", ErrReserved},
		{"float16", "f9 3c00", ErrUnsupported},
		{"float64", "fb 3ff199999999999a", ErrUnsupported},
		{"undefined", "f7", ErrUnsupported},
		{"simple 16", "f0", ErrUnsupported},
		{"invalid utf8", "62 c328", ErrInvalidUTF8},
		{"surrogate utf8", "63 eda080", ErrInvalidUTF8},
		{"bytes key", "a1 4100 00", ErrKeyType},
		{"array key", "a1 80 00", ErrKeyType},
		{"duplicate key", "a2 01 00 01 00", ErrDuplicateKey},
		{"unsorted int keys", "a2 02 00 01 00", ErrUnsorted},
		{"unsorted int/text", "a2 6161 00 01 00", ErrUnsorted},
		{"length beyond input", "5b 7fffffffffffffff", ErrTooLong},
		{"huge array", "9b 7fffffffffffffff", ErrTooLong},
		{"huge map", "bb 7fffffffffffffff", ErrTooLong},
		{"map needs two bytes per entry", "a2 0100", ErrTooLong},
		{"too deep", deep, ErrDepth},
		{"too deep tags", strings.Repeat("c1", MaxDepth+1) + "00", ErrDepth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Unmarshal(mustHex(t, tt.hex))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Unmarshal(%s) = %v, want %v", tt.hex, err, tt.want)
			}
		})
	}
}

func TestDepthLimitIsExact(t *testing.T) {
	v := Int(0)
	for range MaxDepth {
		v = Array(v)
	}
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Unmarshal(b); err != nil {
		t.Fatalf("depth %d refused: %v", MaxDepth, err)
	}
	if _, err := Marshal(Array(v)); !errors.Is(err, ErrDepth) {
		t.Fatalf("Marshal at depth %d = %v, want ErrDepth", MaxDepth+1, err)
	}
}

func TestMarshalRefuses(t *testing.T) {
	tests := []struct {
		name string
		v    Value
		want error
	}{
		{"invalid utf8", Text("\xff"), ErrInvalidUTF8},
		{"duplicate key", Map(Pair{Int(1), Null()}, Pair{Int(1), Null()}), ErrDuplicateKey},
		{"bytes key", Map(Pair{Bytes(nil), Null()}), ErrKeyType},
		{"nested invalid", Array(Tag(1, Text("\xff"))), ErrInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Marshal(tt.v); !errors.Is(err, tt.want) {
				t.Fatalf("Marshal = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := Marshal(Value{}); err == nil {
		t.Fatal("Marshal of the zero Value succeeded")
	}
}

func TestAccessors(t *testing.T) {
	m := Map(Pair{Int(-7), Text("x")}, Pair{Text("k"), Bytes([]byte{9})})
	b, err := Marshal(Tag(18, Array(m, Bool(true), Uint(math.MaxUint64))))
	if err != nil {
		t.Fatal(err)
	}
	v, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	tag, content, ok := v.TagContent()
	if !ok || tag != 18 {
		t.Fatalf("tag = %d, %v", tag, ok)
	}
	items, ok := content.Items()
	if !ok || len(items) != 3 {
		t.Fatalf("items = %v, %v", items, ok)
	}
	if s, ok := mustLookup(t, items[0], Int(-7)).TextString(); !ok || s != "x" {
		t.Errorf("m[-7] = %q, %v", s, ok)
	}
	if bs, ok := mustLookup(t, items[0], Text("k")).ByteString(); !ok || !bytes.Equal(bs, []byte{9}) {
		t.Errorf("m[k] = %x, %v", bs, ok)
	}
	if _, ok := items[0].Lookup(Int(7)); ok {
		t.Error("m[7] found")
	}
	if bv, ok := items[1].BoolValue(); !ok || !bv {
		t.Errorf("bool = %v, %v", bv, ok)
	}
	if _, ok := items[2].Int64(); ok {
		t.Error("2^64-1 reported as an int64")
	}
	if u, ok := items[2].Uint64(); !ok || u != math.MaxUint64 {
		t.Errorf("uint = %d, %v", u, ok)
	}
	if i, ok := Int(math.MinInt64).Int64(); !ok || i != math.MinInt64 {
		t.Errorf("min int64 = %d, %v", i, ok)
	}
	if _, ok := (Value{kind: KindNeg, n: math.MaxUint64}).Int64(); ok {
		t.Error("-2^64 reported as an int64")
	}
	n := 0
	for range items[0].Entries() {
		n++
	}
	if n != 2 {
		t.Errorf("Entries yielded %d, want 2", n)
	}
}

func mustLookup(t *testing.T, m, k Value) Value {
	t.Helper()
	v, ok := m.Lookup(k)
	if !ok {
		t.Fatalf("key %v missing", k)
	}
	return v
}

// Decoding must not keep references to the input.
func TestUnmarshalCopies(t *testing.T) {
	in := []byte{0x42, 1, 2}
	v, err := Unmarshal(in)
	if err != nil {
		t.Fatal(err)
	}
	in[1] = 0xff
	if b, _ := v.ByteString(); b[0] != 1 {
		t.Fatal("decoded byte string aliases the input")
	}
}

// FuzzUnmarshal: never panics, and whatever is accepted is exactly the
// deterministic encoding of what it decodes to.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{"00", "a201020304", "d28443a10126a10442313154546869732069732074686520636f6e74656e742e58408eb33e4ca31d1c465ab05aac34cc6b23d58fef5c083106c4d25a91aef0b0b", "9f ff", "bb7fffffffffffffff", "62c3bc", strings.Repeat("81", 20) + "00"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Unmarshal(data)
		if err != nil {
			return
		}
		out, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal of accepted %x: %v", data, err)
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("round trip %x -> %x", data, out)
		}
	})
}
