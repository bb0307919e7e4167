package objectstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// validDigest reports whether s is a lowercase hex SHA-256.
func validDigest(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// verifyingReader passes bytes through while hashing them. At the end it
// returns io.EOF only if the count and the digest match what was expected,
// and otherwise an error wrapping errAtEnd (ErrCorrupt on reads,
// ErrDigestMismatch or ErrSizeMismatch on writes). With h nil it checks
// the count only (for a server that checks the digest itself).
type verifyingReader struct {
	r        io.Reader
	h        hash.Hash
	n        int64
	wantSize int64 // -1: unknown
	wantSum  string
	errAtEnd error
	what     string
	done     error
}

func newVerifyingReader(r io.Reader, size int64, sum string, errAtEnd error, what string) *verifyingReader {
	return &verifyingReader{r: r, h: sha256.New(), wantSize: size, wantSum: sum, errAtEnd: errAtEnd, what: what}
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.done != nil {
		return 0, v.done
	}
	if v.wantSize >= 0 && int64(len(p)) > v.wantSize-v.n+1 {
		// Never read far past the declared end: one extra byte is enough to
		// notice a longer stream.
		p = p[:v.wantSize-v.n+1]
	}
	n, err := v.r.Read(p)
	if v.h != nil {
		v.h.Write(p[:n])
	}
	v.n += int64(n)
	if v.wantSize >= 0 && v.n > v.wantSize {
		v.done = fmt.Errorf("%s: %w: more than %d bytes", v.what, v.sizeErr(), v.wantSize)
		return n, v.done
	}
	if err == io.EOF {
		v.done = v.check()
		return n, v.done
	}
	if err != nil {
		v.done = err
	}
	return n, err
}

func (v *verifyingReader) sizeErr() error {
	if v.errAtEnd == ErrCorrupt {
		return ErrCorrupt
	}
	return ErrSizeMismatch
}

func (v *verifyingReader) check() error {
	if v.wantSize >= 0 && v.n != v.wantSize {
		return fmt.Errorf("%s: %w: got %d bytes, want %d", v.what, v.sizeErr(), v.n, v.wantSize)
	}
	if v.h == nil || v.wantSum == "" {
		return io.EOF
	}
	if got := hex.EncodeToString(v.h.Sum(nil)); got != v.wantSum {
		return fmt.Errorf("%s: %w: sha256 %s, recorded %s", v.what, v.errAtEnd, got, v.wantSum)
	}
	return io.EOF
}

// sum returns the hex digest of what has been read so far (the expected
// one when the reader does not hash).
func (v *verifyingReader) sum() string {
	if v.h == nil {
		return v.wantSum
	}
	return hex.EncodeToString(v.h.Sum(nil))
}

// DigestedReader reads a byte slice whose SHA-256 this package computed
// (Digested). Put, given one that has not been read yet together with that
// digest in PutOptions.SHA256, checks the length but does not hash the
// bytes a second time.
type DigestedReader struct {
	bytes.Reader
	sum string
}

// Digested returns a reader over b and b's SHA-256 (hex). b must not change
// until the Put it is passed to returns. For callers that need the digest
// before they store (a content-derived key, say): computing it here once
// saves the store from hashing the same bytes again.
func Digested(b []byte) (*DigestedReader, string) {
	h := sha256.Sum256(b)
	d := &DigestedReader{sum: hex.EncodeToString(h[:])}
	d.Reset(b)
	return d, d.sum
}

// trust stops v hashing when r is an unread DigestedReader of size bytes
// whose digest is the expected one.
func (v *verifyingReader) trust(r io.Reader) {
	d, ok := r.(*DigestedReader)
	if ok && v.wantSum != "" && d.sum == v.wantSum && d.Len() == int(d.Size()) && d.Size() == v.wantSize {
		v.countOnly()
	}
}

// countOnly stops v hashing: it checks the count, and someone else the digest.
func (v *verifyingReader) countOnly() { v.h = nil }

// readCloser pairs a reader with a closer.
type readCloser struct {
	io.Reader
	io.Closer
}
