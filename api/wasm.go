package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// wasmGz is the offline verifier (cmd/ecert-wasm) as committed, gzipped:
// `make wasm` rebuilds it and TestWasmArtifactFresh fails when the Go
// sources that went into it have changed since.
var wasmGz = sync.OnceValues(func() ([]byte, string) {
	b, err := webFS.ReadFile("web/ecert.wasm.gz")
	if err != nil {
		panic(err) // embedded at build time
	}
	sum := sha256.Sum256(b)
	return b, `"` + hex.EncodeToString(sum[:16]) + `"`
})

// wasm serves /assets/ecert.wasm: the gzipped bytes as they are with
// Content-Encoding: gzip to clients that accept it (every browser), else
// inflated.
func wasm(c *gin.Context) {
	gz, etag := wasmGz()
	h := c.Writer.Header()
	h.Set("ETag", etag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("Cache-Control", "no-cache") // revalidated by ETag: 2.5 MB is not fetched twice
	if c.GetHeader("If-None-Match") != "" && notModified(c.Request, etag, time.Time{}) {
		c.Status(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/wasm")
	if strings.Contains(c.GetHeader("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		c.Data(http.StatusOK, "application/wasm", gz)
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusOK)
	_, _ = io.Copy(c.Writer, zr)
}
