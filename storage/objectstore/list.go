package objectstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
)

// Lister is implemented by stores that can enumerate their objects, for
// the sweep that removes objects no registry row refers to.
type Lister interface {
	// List yields every object whose key starts with prefix, with its Key,
	// Size and Modified time (not its digest: listing reads no bytes), in
	// no particular order. An error ends the listing.
	List(ctx context.Context, prefix string) iter.Seq2[Info, error]
}

// tempPrefix starts the name of a file that a Put is still writing, or
// that a Put killed part-way left behind.
const tempPrefix = ".tmp-"

// List implements Lister: it walks the directories below the root.
// Temporary files of Puts in flight (or of crashed ones) are not objects
// and are not listed; SweepTemp removes the stale ones.
func (s *Filesystem) List(ctx context.Context, prefix string) iter.Seq2[Info, error] {
	return func(yield func(Info, error) bool) {
		err := s.walk(ctx, prefix, func(key string, fi fs.FileInfo) bool {
			if strings.HasPrefix(path.Base(key), tempPrefix) || !strings.HasPrefix(key, prefix) {
				return true
			}
			return yield(Info{Key: key, Size: max(fi.Size()-fsHeaderSize, 0), Modified: fi.ModTime().UTC()}, nil)
		})
		if err != nil {
			yield(Info{}, err)
		}
	}
}

// SweepTemp removes the temporary files that Puts killed part-way left
// behind, if they were last written before cutoff (a Put in flight writes
// its file continuously, so a cutoff well in the past never touches one).
// It returns how many files and bytes it removed.
func (s *Filesystem) SweepTemp(ctx context.Context, cutoff time.Time) (n int, bytes int64, err error) {
	err = s.walk(ctx, "", func(key string, fi fs.FileInfo) bool {
		if !strings.HasPrefix(path.Base(key), tempPrefix) || !fi.ModTime().Before(cutoff) {
			return true
		}
		if rerr := s.root.Remove(key); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = fmt.Errorf("objectstore: remove %s: %w", key, rerr)
			return false
		}
		n++
		bytes += fi.Size()
		return true
	})
	return n, bytes, err
}

// walk calls f with the key and file info of every regular file below the
// directory part of prefix, until f returns false.
func (s *Filesystem) walk(ctx context.Context, prefix string, f func(key string, fi fs.FileInfo) bool) error {
	start := strings.TrimSuffix(path.Dir(prefix+"x"), "/")
	if start == "" {
		start = "."
	}
	err := fs.WalkDir(s.root.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == start {
				return fs.SkipAll // nothing stored under prefix yet
			}
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // renamed or removed since the directory was read
		}
		if err != nil {
			return err
		}
		if !f(filepath.ToSlash(p), fi) {
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("objectstore: list %q: %w", prefix, err)
	}
	return nil
}

// List implements Lister: the latest version of every object under prefix.
func (s *MinIO) List(ctx context.Context, prefix string) iter.Seq2[Info, error] {
	return func(yield func(Info, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel() // stops minio-go's listing goroutine when we stop early
		for oi := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if oi.Err != nil {
				yield(Info{}, mapMinIOErr("list", prefix, oi.Err))
				return
			}
			if !yield(Info{Key: oi.Key, Size: oi.Size, Modified: oi.LastModified.UTC()}, nil) {
				return
			}
		}
	}
}

var (
	_ Lister = (*Filesystem)(nil)
	_ Lister = (*MinIO)(nil)
)
