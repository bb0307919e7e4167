package certgen

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sync"

	"github.com/ecert/ecert/certgen/internal/deflate"

	"github.com/ecert/ecert/certgen/internal/qr"
)

// qrCacheSize bounds the QR cache: a certificate's code is used by its
// PDF and its OFD, rendered one after the other, and re-renders of the
// same certificate (re-stamping, retries) come soon after.
const qrCacheSize = 256

// qrCache maps a URL to its modules; entries are never modified.
var qrCache = struct {
	sync.Mutex
	m     map[string][][]bool
	order []string // insertion order, oldest first
}{m: map[string][][]bool{}}

// qrModules encodes url as a QR code (error correction M, mask chosen by
// the standard penalty rules) and returns its modules including the
// 4-module quiet zone, true = dark. Results are cached (qrCacheSize URLs);
// callers must not modify them.
func qrModules(url string) ([][]bool, error) {
	qrCache.Lock()
	mods, ok := qrCache.m[url]
	qrCache.Unlock()
	if ok {
		return mods, nil
	}
	mods, err := qr.Encode([]byte(url))
	if err != nil {
		return nil, fmt.Errorf("certgen: QR code for %q: %w", url, err)
	}
	qrCache.Lock()
	if _, ok := qrCache.m[url]; !ok {
		if len(qrCache.order) >= qrCacheSize {
			delete(qrCache.m, qrCache.order[0])
			qrCache.order = qrCache.order[1:]
		}
		qrCache.m[url] = mods
		qrCache.order = append(qrCache.order, url)
	}
	qrCache.Unlock()
	return mods, nil
}

// qrPNG draws the modules as a 1-bit greyscale PNG with scale pixels per
// module (for the OFD ImageObject; readers scale it without blurring edges
// as long as scale is a few pixels). It writes the PNG itself so the IDAT
// compression uses the pooled deflater.
func qrPNG(mods [][]bool, scale int) ([]byte, error) {
	n := len(mods) * scale
	if n == 0 || n > 4096 {
		return nil, fmt.Errorf("certgen: QR picture of %d pixels", n)
	}
	stride := (n + 7) / 8
	raw := make([]byte, 0, (stride+1)*n)
	row := make([]byte, stride)
	for _, mr := range mods {
		clear(row)
		for x, dark := range mr {
			if dark {
				continue // 0 = black
			}
			for px := x * scale; px < (x+1)*scale; px++ {
				row[px>>3] |= 0x80 >> (px & 7)
			}
		}
		for range scale {
			raw = append(raw, 0) // filter type None
			raw = append(raw, row...)
		}
	}
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(n))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(n))
	ihdr[8] = 1 // bit depth; colour type 0 (greyscale), deflate, adaptive filtering, no interlace
	b := make([]byte, 0, 1024)
	b = append(b, "\x89PNG\r\n\x1a\n"...)
	b = pngChunk(b, "IHDR", ihdr[:])
	b = pngChunk(b, "IDAT", deflate.Compress(raw).Zlib())
	b = pngChunk(b, "IEND", nil)
	return b, nil
}

func pngChunk(b []byte, typ string, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	start := len(b)
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}
