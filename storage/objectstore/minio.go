package objectstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// MinIOConfig configures the MinIO (S3) store. Zero values take the
// documented defaults; NewMinIO names the first bad field.
type MinIOConfig struct {
	// Endpoint is host:port of the server, without scheme.
	Endpoint string
	// AccessKey and SecretKey are the credentials (never logged).
	AccessKey, SecretKey string
	// Secure selects HTTPS.
	Secure bool
	// Region of the bucket (default: the server's).
	Region string
	// Bucket holds the objects. It is created if missing, with versioning on.
	Bucket string

	// ObjectLock creates the bucket with S3 object lock and gives objects
	// whose key starts with one of LockPrefixes a governance-mode retention
	// of LockRetention from the time they are written. An existing bucket
	// must already have object lock enabled.
	ObjectLock bool
	// LockRetention is how long locked objects are retained (default 10 years).
	LockRetention time.Duration
	// LockPrefixes selects the objects to lock (default "certificates/",
	// the immutable originals).
	LockPrefixes []string

	// PresignMaxExpiry caps PresignGet expiries (default 15 minutes).
	PresignMaxExpiry time.Duration
	// MaxRetries is the number of attempts for a request failing with a
	// transient error, with exponential backoff between them (default 3;
	// 1 disables retries).
	MaxRetries int
	// DialTimeout bounds connecting to the server (default 3 s).
	DialTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for a response once a request is
	// sent (default 30 s).
	ResponseHeaderTimeout time.Duration
	// MaxObjectSize bounds one object in bytes (default DefaultMaxObjectSize).
	MaxObjectSize int64
	// SpoolMemory is how much of an upload whose digest the caller did not
	// give is buffered in memory to compute the digest before sending; the
	// rest goes to a temporary file in SpoolDir (default 8 MiB).
	SpoolMemory int64
	// SpoolDir holds upload spool files (default os.TempDir()).
	SpoolDir string
	// Now is the clock for retention dates (default time.Now).
	Now func() time.Time
}

// metaSHA256 is the user metadata key holding the content digest
// (sent as X-Amz-Meta-Ecert-Sha256).
const metaSHA256 = "Ecert-Sha256"

// partSize is the multipart part size: it bounds the memory an upload of
// unknown length buffers.
const partSize = 16 << 20

func (c *MinIOConfig) setDefaults() error {
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("objectstore: MinIOConfig.%s: %s", field, fmt.Sprintf(format, a...))
	}
	switch {
	case c.Endpoint == "":
		return bad("Endpoint", "required (host:port)")
	case strings.Contains(c.Endpoint, "://"):
		return bad("Endpoint", "%q must be host:port without scheme (use Secure for HTTPS)", c.Endpoint)
	case c.AccessKey == "":
		return bad("AccessKey", "required")
	case c.SecretKey == "":
		return bad("SecretKey", "required")
	}
	if _, _, err := net.SplitHostPort(c.Endpoint); err != nil {
		return bad("Endpoint", "%q is not host:port: %v", c.Endpoint, err)
	}
	if err := s3utils.CheckValidBucketNameStrict(c.Bucket); err != nil {
		return bad("Bucket", "%q: %v", c.Bucket, err)
	}
	if c.LockRetention == 0 {
		c.LockRetention = 10 * 365 * 24 * time.Hour
	}
	if c.LockRetention < 0 {
		return bad("LockRetention", "%v is negative", c.LockRetention)
	}
	if c.ObjectLock && c.LockPrefixes == nil {
		c.LockPrefixes = []string{"certificates/"}
	}
	if c.PresignMaxExpiry == 0 {
		c.PresignMaxExpiry = 15 * time.Minute
	}
	if c.PresignMaxExpiry < time.Second || c.PresignMaxExpiry > 7*24*time.Hour {
		return bad("PresignMaxExpiry", "%v outside 1s..7 days", c.PresignMaxExpiry)
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 3
	}
	if c.MaxRetries < 0 {
		return bad("MaxRetries", "%d is negative", c.MaxRetries)
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 3 * time.Second
	}
	if c.ResponseHeaderTimeout == 0 {
		c.ResponseHeaderTimeout = 30 * time.Second
	}
	if c.DialTimeout < 0 || c.ResponseHeaderTimeout < 0 {
		return bad("DialTimeout", "timeouts must not be negative")
	}
	if c.MaxObjectSize == 0 {
		c.MaxObjectSize = DefaultMaxObjectSize
	}
	if c.MaxObjectSize < 0 {
		return bad("MaxObjectSize", "%d is negative", c.MaxObjectSize)
	}
	if c.SpoolMemory == 0 {
		c.SpoolMemory = 8 << 20
	}
	if c.SpoolMemory < 0 {
		return bad("SpoolMemory", "%d is negative", c.SpoolMemory)
	}
	if c.SpoolDir == "" {
		c.SpoolDir = os.TempDir()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// MinIO stores objects in a versioned MinIO (or other S3) bucket. Each
// object's SHA-256 is stored as user metadata and checked as it is read;
// downloads can bypass the service with short-lived presigned URLs.
type MinIO struct {
	client *minio.Client
	cfg    MinIOConfig
}

var _ Store = (*MinIO)(nil)

// NewMinIO connects to the server and makes sure the bucket exists with
// versioning (and object lock, if configured) enabled. Wrong credentials
// give ErrCredentials and an unreachable server ErrUnavailable.
func NewMinIO(ctx context.Context, cfg MinIOConfig) (*MinIO, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	tr, err := minio.DefaultTransport(cfg.Secure)
	if err != nil {
		return nil, fmt.Errorf("objectstore: minio transport: %w", err)
	}
	tr.DialContext = (&net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = cfg.ResponseHeaderTimeout
	// Issuing keeps dozens of PUTs in flight (two per certificate being
	// issued); with minio-go's 16 idle connections per host, every request
	// beyond 16 opened and closed a TCP connection of its own.
	tr.MaxIdleConnsPerHost = 256
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     cfg.Secure,
		Region:     cfg.Region,
		Transport:  tr,
		MaxRetries: cfg.MaxRetries,
		// MinIO accepts S3 additional checksums (see putOptions); minio-go
		// sends them only to servers declared to support trailing headers.
		TrailingHeaders: true,
	})
	if err != nil {
		return nil, fmt.Errorf("objectstore: minio client for %s: %w", cfg.Endpoint, err)
	}
	s := &MinIO{client: client, cfg: cfg}
	if err := s.ensureBucket(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Client returns the underlying minio-go client, for administration and tests.
func (s *MinIO) Client() *minio.Client { return s.client }

// Bucket returns the bucket name.
func (s *MinIO) Bucket() string { return s.cfg.Bucket }

func (s *MinIO) ensureBucket(ctx context.Context) error {
	b := s.cfg.Bucket
	ok, err := s.client.BucketExists(ctx, b)
	if err != nil {
		return mapMinIOErr("check bucket", b, err)
	}
	if !ok {
		err := s.client.MakeBucket(ctx, b, minio.MakeBucketOptions{Region: s.cfg.Region, ObjectLocking: s.cfg.ObjectLock})
		if err != nil {
			code := minio.ToErrorResponse(err).Code
			if code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
				return mapMinIOErr("create bucket", b, err)
			}
		}
	}
	v, err := s.client.GetBucketVersioning(ctx, b)
	if err != nil {
		return mapMinIOErr("get versioning of bucket", b, err)
	}
	if !v.Enabled() {
		if err := s.client.EnableVersioning(ctx, b); err != nil {
			return mapMinIOErr("enable versioning of bucket", b, err)
		}
	}
	if s.cfg.ObjectLock {
		status, _, _, _, err := s.client.GetObjectLockConfig(ctx, b)
		if err != nil && minio.ToErrorResponse(err).Code != "ObjectLockConfigurationNotFoundError" {
			return mapMinIOErr("get object lock of bucket", b, err)
		}
		if status != "Enabled" {
			return fmt.Errorf("objectstore: bucket %s exists without object lock, but MinIOConfig.ObjectLock is set: use a bucket created with object lock", b)
		}
	}
	return nil
}

func (s *MinIO) locked(key string) bool {
	if !s.cfg.ObjectLock {
		return false
	}
	for _, p := range s.cfg.LockPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// Put implements Store. Without PutOptions.SHA256 the content is first
// spooled (memory, then a temporary file) to compute its digest, since S3
// metadata must be sent before the bytes; with it, the upload streams and
// fails before completion if the bytes do not match.
func (s *MinIO) Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) (Info, error) {
	if err := checkPut(key, size, s.cfg.MaxObjectSize, &opts); err != nil {
		return Info{}, err
	}
	var (
		body io.Reader
		vr   *verifyingReader
		sum  = opts.SHA256
	)
	if sum == "" {
		sp, err := s.spool(ctx, key, r, size)
		if err != nil {
			return Info{}, err
		}
		defer sp.cleanup()
		body, size, sum = sp.r, sp.size, sp.sum
	} else {
		vr = newVerifyingReader(io.LimitReader(r, s.cfg.MaxObjectSize+1), size, sum, ErrDigestMismatch, "objectstore: put "+key)
		vr.trust(r)
		body = vr
	}
	po := s.putOptions(key, opts.ContentType, sum, size)
	if vr != nil && po.UserMetadata[amzChecksumSHA256] != "" {
		// MinIO checks the bytes against the signed checksum and refuses
		// the object otherwise: hashing them here too would only repeat it.
		// The count is still checked here.
		vr.countOnly()
	}
	up, err := s.client.PutObject(ctx, s.cfg.Bucket, key, body, size, po)
	if vr != nil && vr.done != nil && vr.done != io.EOF {
		// The stream was refused by our own check: report that, not the
		// transport error it caused.
		return Info{}, vr.done
	}
	if err != nil {
		return Info{}, mapMinIOErr("put", key, err)
	}
	if vr != nil && vr.n > s.cfg.MaxObjectSize {
		return Info{}, fmt.Errorf("objectstore: put %s: %w", key, ErrTooLarge)
	}
	return Info{
		Key: key, Size: up.Size, ContentType: opts.ContentType, SHA256: sum,
		Modified: up.LastModified, VersionID: up.VersionID,
	}, nil
}

// putOptions are the PUT options for an object of size bytes with SHA-256
// sum (hex). An object sent in one request carries the sum as an S3
// additional checksum (x-amz-checksum-sha256): MinIO refuses the object if
// the bytes it received do not match, and the header is covered by the
// request signature, so the payload need not also be hashed chunk by chunk
// for a streaming signature (minio-go's default over plain HTTP, which cost
// SHA-256 and HMAC work on both sides for every 64 KB).
// amzChecksumSHA256 is the S3 additional checksum header (base64 SHA-256).
const amzChecksumSHA256 = "x-amz-checksum-sha256"

func (s *MinIO) putOptions(key, contentType, sum string, size int64) minio.PutObjectOptions {
	po := minio.PutObjectOptions{
		ContentType:  contentType,
		UserMetadata: map[string]string{metaSHA256: sum},
		PartSize:     partSize,
	}
	if raw, err := hex.DecodeString(sum); err == nil && size >= 0 && size <= partSize {
		po.UserMetadata[amzChecksumSHA256] = base64.StdEncoding.EncodeToString(raw)
		po.DisableContentSha256 = true
	}
	if s.locked(key) {
		po.Mode = minio.Governance
		po.RetainUntilDate = s.cfg.Now().Add(s.cfg.LockRetention).UTC()
	}
	return po
}

type spooled struct {
	r       io.Reader
	size    int64
	sum     string
	cleanup func()
}

// spool reads r to its end, hashing it, into memory up to SpoolMemory and
// into a temporary file beyond. The result is seekable, so the client can
// retry the upload.
func (s *MinIO) spool(ctx context.Context, key string, r io.Reader, size int64) (*spooled, error) {
	h := sha256.New()
	src := ctxReader{ctx, io.TeeReader(io.LimitReader(r, s.cfg.MaxObjectSize+1), h)}
	var mem bytes.Buffer
	n, err := io.Copy(&mem, io.LimitReader(src, s.cfg.SpoolMemory+1))
	if err != nil {
		return nil, fmt.Errorf("objectstore: put %s: read content: %w", key, err)
	}
	sp := &spooled{cleanup: func() {}}
	if n <= s.cfg.SpoolMemory {
		sp.r = bytes.NewReader(mem.Bytes())
	} else {
		f, err := os.CreateTemp(s.cfg.SpoolDir, "ecert-upload-*")
		if err != nil {
			return nil, fmt.Errorf("objectstore: put %s: spool file: %w", key, err)
		}
		sp.cleanup = func() { f.Close(); os.Remove(f.Name()) }
		m, err := io.Copy(f, io.MultiReader(&mem, src))
		if err != nil {
			sp.cleanup()
			return nil, fmt.Errorf("objectstore: put %s: spool content: %w", key, err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			sp.cleanup()
			return nil, fmt.Errorf("objectstore: put %s: spool: %w", key, err)
		}
		n, sp.r = m, f
	}
	if n > s.cfg.MaxObjectSize {
		sp.cleanup()
		return nil, fmt.Errorf("objectstore: put %s: %w: more than %d bytes", key, ErrTooLarge, s.cfg.MaxObjectSize)
	}
	if size >= 0 && n != size {
		sp.cleanup()
		return nil, fmt.Errorf("objectstore: put %s: %w: got %d bytes, want %d", key, ErrSizeMismatch, n, size)
	}
	sp.size, sp.sum = n, hex.EncodeToString(h.Sum(nil))
	return sp, nil
}

func infoFromMinIO(key string, oi minio.ObjectInfo) (Info, error) {
	info := Info{Key: key, Size: oi.Size, ContentType: oi.ContentType, Modified: oi.LastModified, VersionID: oi.VersionID}
	for k, v := range oi.UserMetadata {
		if strings.EqualFold(k, metaSHA256) {
			info.SHA256 = v
		}
	}
	if !validDigest(info.SHA256) {
		return info, fmt.Errorf("objectstore: %s: %w: no valid recorded digest (written by something other than this store?)", key, ErrCorrupt)
	}
	return info, nil
}

// Get implements Store. The object streams from the server; the reader
// returns ErrCorrupt at the end if the bytes or their count do not match.
func (s *MinIO) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Info{}, err
	}
	// One request gives metadata and body together, so they always belong
	// to the same version even while the key is being overwritten.
	body, oi, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, mapMinIOErr("get", key, err)
	}
	info, err := infoFromMinIO(key, oi)
	if err != nil {
		body.Close()
		return nil, Info{}, err
	}
	vr := newVerifyingReader(body, info.Size, info.SHA256, ErrCorrupt, "objectstore: get "+key)
	return readCloser{vr, body}, info, nil
}

// Stat implements Store.
func (s *MinIO) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	oi, err := s.client.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, mapMinIOErr("stat", key, err)
	}
	return infoFromMinIO(key, oi)
}

// Delete implements Store. In the versioned bucket this adds a delete
// marker: earlier versions (and locked originals) are kept.
func (s *MinIO) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return mapMinIOErr("delete", key, err)
	}
	return nil
}

// PresignGet implements Store. expiry must be positive and at most
// MinIOConfig.PresignMaxExpiry. The object must exist. A presigned download
// is served by MinIO directly, so the digest check is the downloader's.
func (s *MinIO) PresignGet(ctx context.Context, key string, expiry time.Duration) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	if expiry <= 0 || expiry > s.cfg.PresignMaxExpiry {
		return "", fmt.Errorf("objectstore: presign %s: expiry %v outside (0, %v]", key, expiry, s.cfg.PresignMaxExpiry)
	}
	if _, err := s.Stat(ctx, key); err != nil {
		return "", err
	}
	u, err := s.client.PresignedGetObject(ctx, s.cfg.Bucket, key, expiry, nil)
	if err != nil {
		return "", mapMinIOErr("presign", key, err)
	}
	return u.String(), nil
}

// Ready implements Store: the server answers, accepts the credentials and
// has the bucket.
func (s *MinIO) Ready(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return mapMinIOErr("ready: bucket", s.cfg.Bucket, err)
	}
	if !ok {
		return fmt.Errorf("objectstore: ready: bucket %s: %w", s.cfg.Bucket, ErrBucketMissing)
	}
	return nil
}

// mapMinIOErr wraps a minio-go error with the matching sentinel of this
// package (and keeps the original in the chain).
func mapMinIOErr(op, name string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("objectstore: %s %s: %w", op, name, err)
	}
	resp := minio.ToErrorResponse(err)
	var kind error
	switch resp.Code {
	case "NoSuchKey", "NoSuchVersion":
		kind = ErrNotFound
	case "NoSuchBucket":
		kind = ErrBucketMissing
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken", "InvalidSecurity":
		kind = ErrCredentials
	case "XAmzContentChecksumMismatch", "BadDigest", "XAmzContentSHA256Mismatch":
		kind = ErrDigestMismatch
	case "SlowDown", "XMinioServerNotInitialized", "ServiceUnavailable", "InternalError", "RequestTimeout":
		kind = ErrUnavailable
	default:
		var ne net.Error
		switch {
		case resp.StatusCode >= 500:
			kind = ErrUnavailable
		case errors.As(err, &ne), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
			errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE):
			kind = ErrUnavailable
		case resp.StatusCode == http.StatusForbidden:
			kind = ErrCredentials
		}
	}
	if kind == nil {
		return fmt.Errorf("objectstore: %s %s: %w", op, name, err)
	}
	return fmt.Errorf("objectstore: %s %s: %w: %w", op, name, kind, err)
}
