package statuslist

import (
	"context"
	"testing"
)

// The sizes of issue #17: a million entries, 1 % of them set at random.
const (
	benchSize     = 1 << 20
	benchFraction = 0.01
)

// BenchmarkCompress reports the compressed size of the list (bytes/list).
func BenchmarkCompress(b *testing.B) {
	l := randomList(b, benchSize, benchFraction, 6)
	var n int
	for b.Loop() {
		z, err := l.Compress()
		if err != nil {
			b.Fatal(err)
		}
		n = len(z)
	}
	b.ReportMetric(float64(n), "bytes/list")
}

// BenchmarkBuildAndSign: set 1 % of a fresh list, compress and sign.
func BenchmarkBuildAndSign(b *testing.B) {
	is := newIssuer(b)
	src := randomList(b, benchSize, benchFraction, 7)
	var set []int
	for i := range benchSize {
		if s, _ := src.Get(i); s != Valid {
			set = append(set, i)
		}
	}
	var n int
	for b.Loop() {
		l, err := New(benchSize)
		if err != nil {
			b.Fatal(err)
		}
		for _, i := range set {
			s, _ := src.Get(i)
			_ = l.Set(i, s)
		}
		tok, err := Token{Subject: "https://ecert.example/api/v1/status/1", IssuedAt: iat, ExpiresAt: iat.Add(MaxAge),
			TTL: DefaultTTL, List: l}.Sign(context.Background(), is.signer, is.kid)
		if err != nil {
			b.Fatal(err)
		}
		n = len(tok)
	}
	b.ReportMetric(float64(n), "bytes/token")
}

// BenchmarkParseAndVerify: what a verifier does once per fetched list.
func BenchmarkParseAndVerify(b *testing.B) {
	is := newIssuer(b)
	tok := signedToken(b, is, randomList(b, benchSize, benchFraction, 8))
	for b.Loop() {
		if _, err := Parse(tok, is.keys); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatus: one offline lookup in a parsed token.
func BenchmarkStatus(b *testing.B) {
	is := newIssuer(b)
	tok, err := Parse(signedToken(b, is, randomList(b, benchSize, benchFraction, 9)), is.keys)
	if err != nil {
		b.Fatal(err)
	}
	now := iat.Add(1)
	i := 0
	for b.Loop() {
		if _, err := tok.Status(i, now); err != nil {
			b.Fatal(err)
		}
		i = (i + 7919) & (benchSize - 1)
	}
}
