package statuslist

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
)

// ErrCorrupt reports a compressed list that does not inflate to a list:
// not zlib, truncated, or larger than allowed.
var ErrCorrupt = errors.New("statuslist: corrupt compressed list")

// Compress returns the list as the IETF draft's "lst": the packed bytes
// compressed with zlib (DEFLATE) at the best compression.
func (l *List) Compress() ([]byte, error) {
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(l.b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Decompress inflates lst into a list of at most maxEntries entries (at
// most MaxSize). It reads no more than the packed size of maxEntries plus
// one byte, so a zip bomb costs the caller that much and no more; a
// stream that inflates beyond it, is truncated, or fails its checksum is
// ErrCorrupt.
func Decompress(lst []byte, maxEntries int) (*List, error) {
	if maxEntries <= 0 || maxEntries > MaxSize {
		maxEntries = MaxSize
	}
	limit := int64(maxEntries*Bits+7) / 8
	zr, err := zlib.NewReader(bytes.NewReader(lst))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if n > limit {
		return nil, fmt.Errorf("%w: inflates beyond %d bytes (%d entries)", ErrCorrupt, limit, maxEntries)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: empty list", ErrCorrupt)
	}
	// io.Copy stops at EOF only after zlib has checked the Adler-32 sum.
	return &List{b: buf.Bytes(), n: int(n) * 8 / Bits}, nil
}
