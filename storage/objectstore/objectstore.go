// Package objectstore stores the certificate files (OFD and PDF originals and
// usage copies) as named objects, behind one small Store interface with two
// backends: a local directory (the embedded default, ./data/objects) and a
// MinIO (S3) bucket for production.
//
// Every object carries the SHA-256 digest of its bytes, computed when it is
// written. Readers returned by Get check that digest as the bytes stream past
// and return ErrCorrupt instead of io.EOF when it does not match, so a damaged
// object is reported and never served silently. Callers forwarding a stream
// to a client must treat any read error as a failed download.
//
// This package never interprets the bytes it stores and never loads a whole
// object into memory to forward it.
package objectstore

import (
	"context"
	"errors"
	"io"
	"time"
)

// Errors returned by every backend. Backends wrap them with context, so test
// with errors.Is.
var (
	// ErrNotFound: no object under that key.
	ErrNotFound = errors.New("objectstore: object not found")
	// ErrInvalidKey: the key is not an acceptable object name (see ValidateKey).
	ErrInvalidKey = errors.New("objectstore: invalid key")
	// ErrCorrupt: the stored bytes do not match the digest recorded when they were written.
	ErrCorrupt = errors.New("objectstore: object corrupt (digest mismatch)")
	// ErrSizeMismatch: Put read a different number of bytes than declared.
	ErrSizeMismatch = errors.New("objectstore: size does not match declared size")
	// ErrTooLarge: the object is larger than the store's configured limit.
	ErrTooLarge = errors.New("objectstore: object too large")
	// ErrDigestMismatch: Put was given an expected digest that the bytes do not have.
	ErrDigestMismatch = errors.New("objectstore: content does not match the expected digest")
	// ErrPresignUnsupported: the backend cannot hand out direct download URLs;
	// the caller must stream the object itself.
	ErrPresignUnsupported = errors.New("objectstore: presigned URLs not supported by this backend")
	// ErrUnavailable: the backend cannot be reached (network error, server down).
	ErrUnavailable = errors.New("objectstore: backend unavailable")
	// ErrCredentials: the backend refused the configured credentials.
	ErrCredentials = errors.New("objectstore: credentials refused")
	// ErrBucketMissing: the configured bucket does not exist.
	ErrBucketMissing = errors.New("objectstore: bucket does not exist")
)

// Store is an object store. Implementations are safe for concurrent use.
type Store interface {
	// Put stores the bytes read from r under key, replacing any previous
	// object (a versioned backend keeps the old one as a version). size is
	// the number of bytes r yields, or -1 if unknown. The object becomes
	// visible only once completely written; on error nothing new is visible.
	Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) (Info, error)
	// Get opens the object for streaming. The reader returns ErrCorrupt
	// (instead of io.EOF) at the end if the bytes do not match the stored
	// digest. The caller must close it.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Stat returns the object's metadata without reading its bytes.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the object. Deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// PresignGet returns a URL from which anyone holding it can download the
	// object until expiry passes, or ErrPresignUnsupported. The URL is a
	// bearer credential: hand it to the requester, never log it.
	PresignGet(ctx context.Context, key string, expiry time.Duration) (string, error)
	// Ready reports whether the store can serve requests (for /readyz).
	Ready(ctx context.Context) error
}

// PutOptions are the optional attributes of a stored object.
type PutOptions struct {
	// ContentType is the media type served with the object
	// (default application/octet-stream).
	ContentType string
	// SHA256 is the expected lowercase hex SHA-256 of the content, if the
	// caller knows it. The write fails with ErrDigestMismatch (and nothing is
	// stored) if the bytes differ. Knowing it lets the MinIO backend stream
	// the upload directly instead of spooling it first to compute the digest.
	SHA256 string
}

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	ContentType string
	// SHA256 is the lowercase hex SHA-256 of the content, recorded at write time.
	SHA256 string
	// Modified is when the object was written; MinIO does not return it
	// from Put, so there it is set by Stat and Get only.
	Modified time.Time
	// VersionID is the backend's version of this object ("" if unversioned).
	VersionID string
}

const defaultContentType = "application/octet-stream"

// Verify reads the whole object under key and reports ErrCorrupt if its
// bytes no longer match the digest recorded when it was written.
func Verify(ctx context.Context, s Store, key string) (Info, error) {
	rc, info, err := s.Get(ctx, key)
	if err != nil {
		return Info{}, err
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return info, err
	}
	return info, nil
}
