package statuslist

import (
	"testing"
	"time"
)

// FuzzDecompress: any input is refused or inflates to at most the bound.
func FuzzDecompress(f *testing.F) {
	l := randomList(f, MinSize, 0.01, 4)
	z, _ := l.Compress()
	f.Add(z, MinSize)
	f.Add(zlibOf(f, make([]byte, 1<<20)), MinSize)
	f.Add([]byte{0x78, 0x9c}, 0)
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		got, err := Decompress(data, max)
		if err != nil {
			return
		}
		bound := max
		if bound <= 0 || bound > MaxSize {
			bound = MaxSize
		}
		if got.Len() > bound+3 || got.Len()%4 != 0 {
			t.Fatalf("%d entries from a bound of %d", got.Len(), bound)
		}
	})
}

// FuzzParse: any input is refused or yields a token whose lookups answer.
func FuzzParse(f *testing.F) {
	is := newIssuer(f)
	f.Add(signedToken(f, is, randomList(f, MinSize, 0.01, 5)))
	f.Add([]byte{0xd2, 0x84, 0x40, 0xa0, 0x40, 0x40})
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := Parse(data, is.keys)
		if err != nil {
			return
		}
		if tok.List == nil || tok.Subject == "" || !tok.ExpiresAt.After(tok.IssuedAt) {
			t.Fatalf("accepted a token without its claims: %+v", tok)
		}
		_, _ = tok.Status(0, time.Now())
	})
}
