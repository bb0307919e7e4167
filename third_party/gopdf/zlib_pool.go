package gopdf

// ecert patch: pooled zlib compressors.
//
// A new zlib writer allocates and clears about 800 KB of tables, which for
// a one-page document with a few small font subsets costs more than the
// compression itself. Writers are reused per compression level, and come
// from github.com/klauspost/compress/zlib (same format and API as
// compress/zlib, about twice as fast at the low levels).

import (
	"io"
	"sync"

	"github.com/klauspost/compress/zlib"
)

// zlibPools holds writers by level + 2 (zlib.HuffmanOnly = -2 … zlib.BestCompression = 9).
var zlibPools [12]sync.Pool

func getZlibWriter(w io.Writer, level int) (*zlib.Writer, error) {
	if level < zlib.HuffmanOnly || level > zlib.BestCompression {
		return zlib.NewWriterLevel(w, level) // reports the invalid level
	}
	if zw, ok := zlibPools[level+2].Get().(*zlib.Writer); ok {
		zw.Reset(w)
		return zw, nil
	}
	return zlib.NewWriterLevel(w, level)
}

// putZlibWriter returns a closed writer to its pool.
func putZlibWriter(zw *zlib.Writer, level int) {
	if level >= zlib.HuffmanOnly && level <= zlib.BestCompression {
		zlibPools[level+2].Put(zw)
	}
}

// fontCompressLevel is the level for embedded font programs: the
// document's level, but never none (font programs were always compressed).
func fontCompressLevel(gp *GoPdf) int {
	if gp == nil || gp.compressLevel == zlib.NoCompression {
		return zlib.DefaultCompression
	}
	return gp.compressLevel
}
