package statuslist

import (
	"bytes"
	"compress/zlib"
	"errors"
	"math/rand/v2"
	"testing"
)

// The 2-bit example of draft-ietf-oauth-status-list (section 4.1): entries
// packed four to a byte, the first in the least significant bits.
func TestPackingIsTheDraftsExample(t *testing.T) {
	l, err := New(MinSize)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range []Status{1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3} {
		if err := l.Set(i, s); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := l.b[:3], []byte{0xC9, 0x44, 0xF9}; !bytes.Equal(got, want) {
		t.Fatalf("packed % X, want % X", got, want)
	}
}

func TestSetGet(t *testing.T) {
	l, err := New(MinSize)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		idx  int
		set  Status
		want error
	}{
		{0, Invalid, nil},
		{1, Suspended, nil},
		{MinSize - 1, Invalid, nil},
		{2, 3, nil},
		{MinSize, Invalid, ErrIndex},
		{-1, Invalid, ErrIndex},
	}
	for _, tc := range cases {
		err := l.Set(tc.idx, tc.set)
		if !errors.Is(err, tc.want) {
			t.Errorf("Set(%d): %v, want %v", tc.idx, err, tc.want)
			continue
		}
		if err != nil {
			if _, err := l.Get(tc.idx); !errors.Is(err, ErrIndex) {
				t.Errorf("Get(%d): %v, want ErrIndex", tc.idx, err)
			}
			continue
		}
		if got, err := l.Get(tc.idx); err != nil || got != tc.set {
			t.Errorf("Get(%d) = %v %v, want %v", tc.idx, got, err, tc.set)
		}
	}
	// Setting an entry leaves its neighbours alone, also when cleared.
	if err := l.Set(1, Valid); err != nil {
		t.Fatal(err)
	}
	for idx, want := range map[int]Status{0: Invalid, 1: Valid, 2: 3, 3: Valid} {
		if got, _ := l.Get(idx); got != want {
			t.Errorf("entry %d = %v, want %v", idx, got, want)
		}
	}
	if err := l.Set(5, 4); err == nil {
		t.Error("Set accepted a status of 3 bits")
	}
}

func TestNewRefusesBadSizes(t *testing.T) {
	for _, n := range []int{0, 4, MinSize - 4, MinSize + 2, MaxSize + 4} {
		if _, err := New(n); err == nil {
			t.Errorf("New(%d) accepted", n)
		}
	}
}

func TestCompressRoundTrip(t *testing.T) {
	l := randomList(t, MinSize, 0.01, 1)
	z, err := l.Compress()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decompress(z, MinSize)
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != l.Len() || !bytes.Equal(got.b, l.b) {
		t.Fatalf("round trip: %d entries, want %d; bytes equal %v", got.Len(), l.Len(), bytes.Equal(got.b, l.b))
	}
}

func zlibOf(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// Hostile input: more than the declared size needs (a zip bomb: 64 MiB of
// zeros in 64 KiB), truncated, not zlib, a wrong checksum, empty.
func TestDecompressRefusesHostileInput(t *testing.T) {
	good := zlibOf(t, make([]byte, MinSize/4))
	badSum := append([]byte(nil), good...)
	badSum[len(badSum)-1] ^= 0xff
	cases := map[string]struct {
		lst []byte
		max int
	}{
		"beyond the declared size": {good, MinSize - 4},
		"zip bomb":                 {zlibOf(t, make([]byte, 64<<20)), 0},
		"truncated":                {good[:len(good)-5], MinSize},
		"not zlib":                 {[]byte("not a compressed list"), MinSize},
		"wrong checksum":           {badSum, MinSize},
		"empty stream":             {zlibOf(t, nil), MinSize},
		"nothing":                  {nil, MinSize},
	}
	for name, tc := range cases {
		if l, err := Decompress(tc.lst, tc.max); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v (list %v), want ErrCorrupt", name, err, l != nil)
		}
	}
}

// randomList returns a list of size entries with a fraction of them set at
// random positions to Invalid or Suspended.
func randomList(t testing.TB, size int, fraction float64, seed uint64) *List {
	t.Helper()
	l, err := New(size)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	for range int(float64(size) * fraction) {
		if err := l.Set(rng.IntN(size), Status(1+rng.IntN(2))); err != nil {
			t.Fatal(err)
		}
	}
	return l
}
