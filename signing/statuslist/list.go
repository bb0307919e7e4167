// Package statuslist is the status list that verifiers fetch, cache and
// consult offline: one 2-bit entry per certificate version and per usage
// copy, in the manner of the W3C Bitstring Status List and the IETF Token
// Status List (draft-ietf-oauth-status-list), compressed with zlib and
// carried in an SM2-signed CWT.
//
// The package builds, compresses, signs, parses and verifies lists, and
// publishes signed tokens from memory. It never decides which entry belongs
// to which certificate (the registry does), and it never answers VALID from
// a list older than MaxAge.
package statuslist

import (
	"errors"
	"fmt"
)

// Status is the value of one entry, as the IETF draft defines the first
// three values of a 2-bit list.
type Status uint8

const (
	// Valid: the certificate or copy is in force as far as the list knows.
	Valid Status = 0
	// Invalid: revoked (吊销) or cancelled (注销), for good.
	Invalid Status = 1
	// Suspended: superseded (失效) by a newer version of the certificate.
	Suspended Status = 2
)

// String names the status as the IETF draft does.
func (s Status) String() string {
	switch s {
	case Valid:
		return "VALID"
	case Invalid:
		return "INVALID"
	case Suspended:
		return "SUSPENDED"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Bits is the width of one entry.
const Bits = 2

// MinSize is the smallest list New accepts: W3C advises at least 131,072
// entries so that one index says little about whom it belongs to.
const MinSize = 1 << 17

// MaxSize bounds the lists this package makes or accepts (4 MiB
// uncompressed), so that a hostile token cannot make a verifier allocate
// more.
const MaxSize = 1 << 24

// ErrIndex reports an index outside the list.
var ErrIndex = errors.New("statuslist: index out of range")

// List is a packed list of 2-bit entries, four to a byte, the first entry
// in the least significant bits (IETF draft, section 4.1). The zero List is
// empty; a List is not safe for concurrent writes.
type List struct {
	b []byte
	n int
}

// New returns a list of size entries, all Valid. size must be a multiple
// of 4 within [MinSize, MaxSize].
func New(size int) (*List, error) {
	if size < MinSize || size > MaxSize || size%4 != 0 {
		return nil, fmt.Errorf("statuslist: size %d: want a multiple of 4 in [%d, %d]", size, MinSize, MaxSize)
	}
	return &List{b: make([]byte, size/4), n: size}, nil
}

// Len returns the number of entries.
func (l *List) Len() int { return l.n }

// Set sets entry idx to s.
func (l *List) Set(idx int, s Status) error {
	if idx < 0 || idx >= l.n {
		return fmt.Errorf("%w: %d of %d", ErrIndex, idx, l.n)
	}
	if s > 3 {
		return fmt.Errorf("statuslist: status %d does not fit in %d bits", s, Bits)
	}
	shift := uint(idx%4) * 2
	l.b[idx/4] = l.b[idx/4]&^(3<<shift) | byte(s)<<shift
	return nil
}

// Get returns entry idx.
func (l *List) Get(idx int) (Status, error) {
	if idx < 0 || idx >= l.n {
		return 0, fmt.Errorf("%w: %d of %d", ErrIndex, idx, l.n)
	}
	return Status(l.b[idx/4] >> (uint(idx%4) * 2) & 3), nil
}
