package batchverify

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"
)

// Limits bound a batch. The zero value is usable: Defaults fills it.
type Limits struct {
	// MaxFiles is the most documents in one batch.
	MaxFiles int
	// MaxFileBytes is the largest document.
	MaxFileBytes int64
	// MaxTotalBytes bounds the documents together, as uploaded or inflated
	// from a zip.
	MaxTotalBytes int64
	// MaxZipEntries is the most entries (directories included) a zip may
	// list; a larger central directory is refused before any is read.
	MaxZipEntries int
	// MaxNameLen bounds a file name, in bytes.
	MaxNameLen int
}

// Default limits.
const (
	DefaultMaxFiles      = 100
	DefaultMaxFileBytes  = 10 << 20
	DefaultMaxTotalBytes = 64 << 20
	DefaultMaxZipEntries = 256
	DefaultMaxNameLen    = 255
)

// Defaults returns l with every unset field at its default.
func (l Limits) Defaults() Limits {
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if l.MaxZipEntries <= 0 {
		l.MaxZipEntries = DefaultMaxZipEntries
	}
	if l.MaxNameLen <= 0 {
		l.MaxNameLen = DefaultMaxNameLen
	}
	return l
}

// File is one document of a batch.
type File struct {
	// Name is the name the caller gave (a zip entry's path), for the report
	// only: it is never used to open anything.
	Name string
	Data []byte
}

// Error codes of a refused batch.
const (
	CodeNotZip       = "not-zip"        // the archive is not a readable zip
	CodeTooManyFiles = "too-many-files" // more than MaxFiles documents or MaxZipEntries entries
	CodeFileTooLarge = "file-too-large" // a document larger than MaxFileBytes
	CodeTooLarge     = "batch-too-large"
	CodeEmpty        = "empty" // no document at all
	CodeBadEntry     = "bad-entry"
)

// Error is a refused batch, with a stable code.
type Error struct {
	Code   string
	Detail string
}

func (e *Error) Error() string { return "batch: " + e.Detail }

func refuse(code, format string, args ...any) error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// Counter adds documents to a batch one at a time and enforces the limits
// on their number and sizes.
type Counter struct {
	lim   Limits
	files []File
	total int64
}

// NewCounter returns an empty batch bounded by lim (Defaults applied).
func NewCounter(lim Limits) *Counter { return &Counter{lim: lim.Defaults()} }

// Limits returns the limits in force.
func (c *Counter) Limits() Limits { return c.lim }

// Remaining is the most bytes the next document may have.
func (c *Counter) Remaining() int64 {
	return min(c.lim.MaxFileBytes, c.lim.MaxTotalBytes-c.total)
}

// Add reads one document of at most Remaining() bytes from r.
func (c *Counter) Add(name string, r io.Reader) error {
	if len(c.files) >= c.lim.MaxFiles {
		return refuse(CodeTooManyFiles, "more than %d files in one batch", c.lim.MaxFiles)
	}
	limit := c.Remaining()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return err
	}
	if int64(len(data)) > limit {
		if limit < c.lim.MaxFileBytes {
			return refuse(CodeTooLarge, "the files together are larger than %d bytes", c.lim.MaxTotalBytes)
		}
		return refuse(CodeFileTooLarge, "%s is larger than %d bytes", cleanName(name, c.lim.MaxNameLen), c.lim.MaxFileBytes)
	}
	c.total += int64(len(data))
	c.files = append(c.files, File{Name: cleanName(name, c.lim.MaxNameLen), Data: data})
	return nil
}

// Files returns the documents added, refusing an empty batch.
func (c *Counter) Files() ([]File, error) {
	if len(c.files) == 0 {
		return nil, refuse(CodeEmpty, "no file in the batch")
	}
	return c.files, nil
}

// IsZip reports whether data starts like a zip archive that is not an OFD
// package: an OFD is itself a zip and is verified as a document, never
// unpacked as a batch.
func IsZip(data []byte) bool {
	if !bytes.HasPrefix(data, []byte("PK\x03\x04")) && !bytes.HasPrefix(data, []byte("PK\x05\x06")) {
		return false
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return true // refused by ReadZip with a clear error
	}
	for _, f := range zr.File {
		if f.Name == "OFD.xml" {
			return false
		}
	}
	return true
}

// ReadZip adds every regular file of the zip archive held in data to c.
// The central directory is bounded (MaxZipEntries) before any entry is
// read; each entry is inflated through a limit, so a declared size that
// lies (a zip bomb) is caught at the limit, never after; names are for
// display only. Directories and macOS resource forks (__MACOSX/) are
// skipped.
func (c *Counter) ReadZip(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return refuse(CodeNotZip, "not a readable zip archive: %v", err)
	}
	if len(zr.File) > c.lim.MaxZipEntries {
		return refuse(CodeTooManyFiles, "the zip lists %d entries, more than %d", len(zr.File), c.lim.MaxZipEntries)
	}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || strings.HasPrefix(f.Name, "__MACOSX/") || path.Base(f.Name) == ".DS_Store" {
			continue
		}
		if f.Method != zip.Store && f.Method != zip.Deflate {
			return refuse(CodeBadEntry, "%s: unsupported compression method %d", cleanName(f.Name, c.lim.MaxNameLen), f.Method)
		}
		if f.UncompressedSize64 > uint64(c.lim.MaxFileBytes) {
			return refuse(CodeFileTooLarge, "%s is larger than %d bytes", cleanName(f.Name, c.lim.MaxNameLen), c.lim.MaxFileBytes)
		}
		rc, err := f.Open()
		if err != nil {
			return refuse(CodeBadEntry, "%s: %v", cleanName(f.Name, c.lim.MaxNameLen), err)
		}
		err = c.Add(f.Name, rc)
		rc.Close()
		var be *Error
		switch {
		case errors.As(err, &be):
			return err
		case errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrChecksum):
			return refuse(CodeBadEntry, "%s does not inflate to the size and checksum its header declares (a zip bomb or a damaged zip): %v",
				cleanName(f.Name, c.lim.MaxNameLen), err)
		case err != nil:
			return refuse(CodeBadEntry, "%s: %v", cleanName(f.Name, c.lim.MaxNameLen), err)
		}
	}
	return nil
}

// cleanName makes a name printable: valid UTF-8, no control characters,
// at most max bytes (cut at a rune boundary).
func cleanName(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
	if s == "" {
		s = "(no name)"
	}
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
