// Package deflate compresses with pooled DEFLATE writers. A new writer
// allocates and clears hundreds of KB, more than it costs to compress one
// certificate's fonts and page, so every stream of a rendering (PDF
// content and font streams, OFD zip entries, the QR picture) reuses
// writers from one pool.
//
// Compress returns a raw DEFLATE stream (RFC 1951) with the CRC-32 a zip
// entry needs; Stream.Zlib wraps it in the zlib format (RFC 1950) that
// PDF's FlateDecode and PNG's IDAT use, so the same compressed bytes serve
// both containers.
package deflate

import (
	"bytes"
	"encoding/binary"
	"hash/adler32"
	"hash/crc32"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// Level is the compression level of every pooled writer. The writers are
// github.com/klauspost/compress/flate's: at level 1 about three times as
// fast as compress/flate's BestSpeed for the same size on font and XML
// data (BenchmarkStdlib, BenchmarkKlauspost); both documents stay well
// inside their size targets (docs/rendering.md).
const Level = 1

var pool = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(io.Discard, Level)
	return w
}}

// Get returns a pooled raw DEFLATE writer reset to write to w. Close it
// (to flush) and hand it back with Put.
func Get(w io.Writer) *flate.Writer {
	fw := pool.Get().(*flate.Writer)
	fw.Reset(w)
	return fw
}

// Put returns a writer obtained from Get to the pool.
func Put(fw *flate.Writer) { pool.Put(fw) }

// Stream is data compressed once for several containers.
type Stream struct {
	Raw      []byte // the uncompressed bytes
	Deflated []byte // raw DEFLATE of Raw
	CRC32    uint32 // IEEE CRC-32 of Raw (zip)
	zlib     []byte // header + Deflated + Adler-32; Deflated is a slice of it
}

// Compress deflates src with a pooled writer.
func Compress(src []byte) *Stream {
	// Room for the zlib header, data that does not shrink, block headers
	// and the Adler-32: the output never has to grow.
	b := new(bytes.Buffer)
	b.Grow(len(src) + len(src)/64 + 64) // Grow does not clear the memory, make would
	b.Write([]byte{0x78, 0x01})         // zlib: 32 KB window, fastest level; 0x7801 % 31 == 0
	fw := Get(b)
	fw.Write(src) // writes to a bytes.Buffer cannot fail
	fw.Close()
	Put(fw)
	z := binary.BigEndian.AppendUint32(b.Bytes(), adler32.Checksum(src))
	return &Stream{Raw: src, Deflated: z[2 : len(z)-4 : len(z)-4], CRC32: crc32.ChecksumIEEE(src), zlib: z}
}

// Zlib returns the stream in zlib format: a two-byte header, the DEFLATE
// data and the Adler-32 of the uncompressed bytes. The caller must not
// modify it.
func (s *Stream) Zlib() []byte { return s.zlib }
