package objectstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"time"
)

// DefaultFSRoot is the directory the embedded default store writes to.
const DefaultFSRoot = "./data/objects"

// DefaultMaxObjectSize bounds a single object unless configured otherwise.
const DefaultMaxObjectSize = 1 << 30

// FSConfig configures the filesystem store.
type FSConfig struct {
	// Root is the directory holding the objects (default DefaultFSRoot). It
	// is created if missing.
	Root string
	// MaxObjectSize bounds one object in bytes (default DefaultMaxObjectSize).
	MaxObjectSize int64
	// Now is the clock used for modification times (default time.Now).
	Now func() time.Time
	// SyncEachFile fsyncs every new file and its directory, instead of
	// sharing one filesystem-wide sync (syncfs) among all writes in flight.
	// Both keep the same guarantees; per-file syncs are slower under
	// concurrency but do not write back other programs' data on the same
	// filesystem. Always on where syncfs is unavailable (not Linux).
	SyncEachFile bool
	// SyncDelay is how long a shared sync waits for more writes to join it
	// when fewer than SyncBatch are waiting (default DefaultSyncDelay;
	// negative: start at once). Each Put waits up to twice this long more
	// when the store is idle; under load far fewer syncs run.
	SyncDelay time.Duration
	// SyncBatch is the number of waiting writes (two per Put) that starts a
	// shared sync without waiting out SyncDelay (default DefaultSyncBatch).
	SyncBatch int
}

// Defaults of the shared sync's gathering window (see groupSync).
const (
	DefaultSyncDelay = 5 * time.Millisecond
	DefaultSyncBatch = 64
)

func (c *FSConfig) setDefaults() error {
	if c.Root == "" {
		c.Root = DefaultFSRoot
	}
	if c.MaxObjectSize == 0 {
		c.MaxObjectSize = DefaultMaxObjectSize
	}
	if c.MaxObjectSize < 0 {
		return fmt.Errorf("objectstore: FSConfig.MaxObjectSize %d is negative", c.MaxObjectSize)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	switch {
	case c.SyncDelay == 0:
		c.SyncDelay = DefaultSyncDelay
	case c.SyncDelay < 0:
		c.SyncDelay = 0
	}
	if c.SyncBatch == 0 {
		c.SyncBatch = DefaultSyncBatch
	}
	if c.SyncBatch < 0 {
		return fmt.Errorf("objectstore: FSConfig.SyncBatch %d is negative", c.SyncBatch)
	}
	return nil
}

// Filesystem stores each object as one file under a root directory: a
// fixed-size header (format marker, size, SHA-256, content type, time)
// followed by the bytes. Because digest and bytes live in one file, a write
// is made visible by a single rename and can never leave the two out of step.
//
// Writes go to a temporary file in the destination directory, are made
// durable, renamed over the destination and the rename is made durable, so
// a crash leaves either the old object or the new one. On Linux the two
// barriers are shared by all writes in flight (one syncfs each, see
// groupSync) rather than an fsync per file and directory. All file access goes through
// an os.Root, so no key (and no symlink planted under the root) can reach
// outside it. Names starting with "." are the store's own temporary files.
type Filesystem struct {
	root  *os.Root
	dir   string
	cfg   FSConfig
	group *groupSync // nil: fsync each file and directory
}

var _ Store = (*Filesystem)(nil)

// NewFilesystem opens (creating if needed) a filesystem store.
func NewFilesystem(cfg FSConfig) (*Filesystem, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Root, 0o750); err != nil {
		return nil, fmt.Errorf("objectstore: create root %s: %w", cfg.Root, err)
	}
	root, err := os.OpenRoot(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("objectstore: open root %s: %w", cfg.Root, err)
	}
	s := &Filesystem{root: root, dir: cfg.Root, cfg: cfg}
	if haveGroupSync && !cfg.SyncEachFile {
		d, err := os.Open(cfg.Root)
		if err != nil {
			root.Close()
			return nil, fmt.Errorf("objectstore: open root %s: %w", cfg.Root, err)
		}
		s.group = newGroupSync(d, cfg.SyncDelay, cfg.SyncBatch)
	}
	return s, nil
}

// Close releases the root directory handles.
func (s *Filesystem) Close() error {
	if s.group != nil {
		s.group.dir.Close()
	}
	return s.root.Close()
}

// SyncMode says how writes are made durable: "shared-syncfs" (group
// commit) or "fsync-each-file".
func (s *Filesystem) SyncMode() string {
	if s.group != nil {
		return "shared-syncfs"
	}
	return "fsync-each-file"
}

// syncFile makes f's bytes durable: fsync, or the next shared sync.
func (s *Filesystem) syncFile(f *os.File) error {
	if s.group != nil {
		return s.group.Sync()
	}
	return f.Sync()
}

// Root returns the directory the store writes to.
func (s *Filesystem) Root() string { return s.dir }

// Put implements Store.
func (s *Filesystem) Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) (info Info, err error) {
	if err := checkPut(key, size, s.cfg.MaxObjectSize, &opts); err != nil {
		return Info{}, err
	}
	dir, name := path.Split(key)
	d, err := s.openDir(dir)
	if err != nil {
		return Info{}, fmt.Errorf("objectstore: put %s: create directory: %w", key, err)
	}
	if d != s.root {
		defer d.Close()
	}
	tmp := ".tmp-" + randomHex(8)
	f, err := d.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return Info{}, fmt.Errorf("objectstore: put %s: create temporary file: %w", key, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			d.Remove(tmp)
		}
	}()

	vr := newVerifyingReader(io.LimitReader(r, s.cfg.MaxObjectSize+1), size, opts.SHA256, ErrDigestMismatch, "objectstore: put "+key)
	vr.trust(r)
	var n int64
	var buf []byte // header and bytes in one write, for objects of known, modest size
	if size >= 0 && size <= maxBufferedPut {
		bp := getPutBuffer(fsHeaderSize + int(size))
		defer putBuffers.Put(bp)
		buf = (*bp)[:fsHeaderSize+size]
		m, err := io.ReadFull(ctxReader{ctx, vr}, buf[fsHeaderSize:])
		if err != nil {
			return Info{}, putReadErr(key, err)
		}
		// Read on to EOF so the verifying reader checks size and digest.
		if _, err := io.Copy(io.Discard, ctxReader{ctx, vr}); err != nil {
			return Info{}, err
		}
		n = int64(m)
	} else {
		// Reserve the header, stream the bytes after it, then fill the header in.
		if _, err := f.Write(make([]byte, fsHeaderSize)); err != nil {
			return Info{}, fmt.Errorf("objectstore: put %s: %w", key, err)
		}
		if n, err = io.Copy(f, ctxReader{ctx, vr}); err != nil {
			return Info{}, err
		}
		if n > s.cfg.MaxObjectSize {
			return Info{}, fmt.Errorf("objectstore: put %s: %w: more than %d bytes", key, ErrTooLarge, s.cfg.MaxObjectSize)
		}
	}
	info = Info{Key: key, Size: n, ContentType: opts.ContentType, SHA256: vr.sum(), Modified: s.cfg.Now().UTC()}
	hdr, err := encodeFSHeader(info)
	if err != nil {
		return Info{}, fmt.Errorf("objectstore: put %s: %w", key, err)
	}
	if buf != nil {
		copy(buf, hdr)
		_, err = f.Write(buf)
	} else {
		_, err = f.WriteAt(hdr, 0)
	}
	if err != nil {
		return Info{}, fmt.Errorf("objectstore: put %s: write: %w", key, err)
	}
	if err := s.syncFile(f); err != nil {
		return Info{}, fmt.Errorf("objectstore: put %s: sync: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return Info{}, fmt.Errorf("objectstore: put %s: close: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return Info{}, fmt.Errorf("objectstore: put %s: %w", key, err)
	}
	if err := d.Rename(tmp, name); err != nil {
		return Info{}, fmt.Errorf("objectstore: put %s: rename into place: %w", key, err)
	}
	if err := s.syncDir(d, "."); err != nil {
		return info, fmt.Errorf("objectstore: put %s: sync directory: %w", key, err)
	}
	return info, nil
}

// maxBufferedPut is the largest object Put reads into memory to write it
// with its header in one system call; larger ones are streamed.
const maxBufferedPut = 4 << 20

// putBuffers recycles the buffers of buffered Puts.
var putBuffers sync.Pool

func getPutBuffer(n int) *[]byte {
	if bp, ok := putBuffers.Get().(*[]byte); ok && cap(*bp) >= n {
		return bp
	}
	b := make([]byte, n)
	return &b
}

// putReadErr reports a source that ended before its declared size.
func putReadErr(key string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("objectstore: put %s: %w: source ended before the declared size", key, ErrSizeMismatch)
	}
	return err
}

// openDir opens the directory dir ("" or "a/b/") below the root as a root
// of its own, creating it if missing, so the writes of a Put name single
// path components instead of walking the whole key each time.
func (s *Filesystem) openDir(dir string) (*os.Root, error) {
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		return s.root, nil
	}
	d, err := s.root.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := s.root.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
		d, err = s.root.OpenRoot(dir)
	}
	return d, err
}

// checkPut validates the arguments common to every backend's Put.
func checkPut(key string, size, max int64, opts *PutOptions) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if size < -1 {
		return fmt.Errorf("objectstore: put %s: negative size %d", key, size)
	}
	if size > max {
		return fmt.Errorf("objectstore: put %s: %w: %d bytes, limit %d", key, ErrTooLarge, size, max)
	}
	if opts.SHA256 != "" && !validDigest(opts.SHA256) {
		return fmt.Errorf("objectstore: put %s: PutOptions.SHA256 %q is not a lowercase hex SHA-256", key, truncateKey(opts.SHA256))
	}
	if opts.ContentType == "" {
		opts.ContentType = defaultContentType
	}
	if len(opts.ContentType) > maxContentType || strings.ContainsFunc(opts.ContentType, func(r rune) bool { return r < 0x20 || r >= 0x7f }) {
		return fmt.Errorf("objectstore: put %s: PutOptions.ContentType must be printable ASCII of at most %d bytes", key, maxContentType)
	}
	return nil
}

// syncDir makes the names in directory dir of root durable (after a rename
// or removal): an fsync of the directory, or the next shared sync.
func (s *Filesystem) syncDir(root *os.Root, dir string) error {
	if s.group != nil {
		return s.group.Sync()
	}
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// open opens the object file and reads its header.
func (s *Filesystem) open(key string) (*os.File, Info, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Info{}, err
	}
	f, err := s.root.Open(key)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isNotDirErr(err) {
			return nil, Info{}, fmt.Errorf("objectstore: %s: %w", key, ErrNotFound)
		}
		return nil, Info{}, fmt.Errorf("objectstore: open %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Info{}, fmt.Errorf("objectstore: stat %s: %w", key, err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, Info{}, fmt.Errorf("objectstore: %s: %w", key, ErrNotFound)
	}
	hdr := make([]byte, fsHeaderSize)
	if _, err := io.ReadFull(f, hdr); err != nil {
		f.Close()
		return nil, Info{}, fmt.Errorf("objectstore: %s: %w: header unreadable: %v", key, ErrCorrupt, err)
	}
	info, err := parseFSHeader(hdr)
	if err != nil {
		f.Close()
		return nil, Info{}, fmt.Errorf("objectstore: %s: %w: %v", key, ErrCorrupt, err)
	}
	if fi.Size() != fsHeaderSize+info.Size {
		f.Close()
		return nil, Info{}, fmt.Errorf("objectstore: %s: %w: file holds %d bytes, header records %d", key, ErrCorrupt, fi.Size()-fsHeaderSize, info.Size)
	}
	info.Key = key
	return f, info, nil
}

// Get implements Store.
func (s *Filesystem) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, Info{}, err
	}
	f, info, err := s.open(key)
	if err != nil {
		return nil, Info{}, err
	}
	vr := newVerifyingReader(f, info.Size, info.SHA256, ErrCorrupt, "objectstore: get "+key)
	return readCloser{ctxReader{ctx, vr}, f}, info, nil
}

// Stat implements Store.
func (s *Filesystem) Stat(ctx context.Context, key string) (Info, error) {
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	f, info, err := s.open(key)
	if err != nil {
		return Info{}, err
	}
	f.Close()
	return info, nil
}

// Delete implements Store.
func (s *Filesystem) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := s.root.Lstat(key)
	if errors.Is(err, fs.ErrNotExist) || isNotDirErr(err) || err == nil && fi.IsDir() {
		return nil
	}
	if err != nil {
		return fmt.Errorf("objectstore: delete %s: %w", key, err)
	}
	if err := s.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("objectstore: delete %s: %w", key, err)
	}
	if err := s.syncDir(s.root, path.Dir(key)); err != nil {
		return fmt.Errorf("objectstore: delete %s: fsync directory: %w", key, err)
	}
	return nil
}

// PresignGet implements Store: a local directory has no URL to hand out.
func (s *Filesystem) PresignGet(ctx context.Context, key string, expiry time.Duration) (string, error) {
	return "", fmt.Errorf("objectstore: presign %s: %w", key, ErrPresignUnsupported)
}

// Ready implements Store: the root must exist and accept a new file.
func (s *Filesystem) Ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	probe := ".ready-" + randomHex(6)
	f, err := s.root.OpenFile(probe, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("objectstore: %s not writable: %w", s.dir, err)
	}
	f.Close()
	if err := s.root.Remove(probe); err != nil {
		return fmt.Errorf("objectstore: %s: remove probe: %w", s.dir, err)
	}
	return nil
}

// Verify is a convenience for Verify(ctx, s, key).
func (s *Filesystem) Verify(ctx context.Context, key string) (Info, error) {
	return Verify(ctx, s, key)
}

// The on-disk header: exactly fsHeaderSize bytes, "ecert-object 1\n", a JSON
// object, space padding, "\n".
const (
	fsHeaderSize   = 1024
	fsMagic        = "ecert-object 1\n"
	maxContentType = 255
)

type fsHeader struct {
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	ContentType string    `json:"content_type"`
	Modified    time.Time `json:"modified"`
}

func encodeFSHeader(info Info) ([]byte, error) {
	j, err := json.Marshal(fsHeader{Size: info.Size, SHA256: info.SHA256, ContentType: info.ContentType, Modified: info.Modified})
	if err != nil {
		return nil, err
	}
	if len(fsMagic)+len(j)+1 > fsHeaderSize {
		return nil, fmt.Errorf("header of %d bytes does not fit in %d", len(j), fsHeaderSize)
	}
	b := bytes.Repeat([]byte{' '}, fsHeaderSize)
	copy(b, fsMagic)
	copy(b[len(fsMagic):], j)
	b[fsHeaderSize-1] = '\n'
	return b, nil
}

// parseFSHeader decodes a header read from disk. It trusts nothing in it.
func parseFSHeader(b []byte) (Info, error) {
	if len(b) != fsHeaderSize {
		return Info{}, fmt.Errorf("header is %d bytes, want %d", len(b), fsHeaderSize)
	}
	if !bytes.HasPrefix(b, []byte(fsMagic)) {
		return Info{}, errors.New("not an object file (bad format marker)")
	}
	if b[fsHeaderSize-1] != '\n' {
		return Info{}, errors.New("header not terminated")
	}
	body := bytes.TrimRight(b[len(fsMagic):fsHeaderSize-1], " ")
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var h fsHeader
	if err := dec.Decode(&h); err != nil {
		return Info{}, fmt.Errorf("header: %v", err)
	}
	if dec.More() {
		return Info{}, errors.New("header: trailing data")
	}
	switch {
	case h.Size < 0:
		return Info{}, fmt.Errorf("header: negative size %d", h.Size)
	case !validDigest(h.SHA256):
		return Info{}, errors.New("header: sha256 is not a lowercase hex SHA-256")
	case len(h.ContentType) > maxContentType:
		return Info{}, errors.New("header: content type too long")
	}
	return Info{Size: h.Size, SHA256: h.SHA256, ContentType: h.ContentType, Modified: h.Modified}, nil
}

// ctxReader stops a stream once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
