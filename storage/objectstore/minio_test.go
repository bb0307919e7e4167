package objectstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/ecert/ecert/internal/testenv"
)

// minioBucketSeq keeps test bucket names unique within a run.
var minioBucketSeq = time.Now().UnixNano() % 1e9

func newBucketName(t *testing.T) string {
	minioBucketSeq++
	return fmt.Sprintf("ecert-test-%d-%d", minioBucketSeq, time.Now().UnixNano()%1e6)
}

// newTestMinIO returns a store on a fresh bucket of the test server (or of
// endpoint/keys in cfg, if set), removed with all its versions afterwards.
func newTestMinIO(t testing.TB, cfg MinIOConfig) *MinIO {
	t.Helper()
	if cfg.Endpoint == "" {
		srv := testenv.MinIOServer(t)
		cfg.Endpoint, cfg.AccessKey, cfg.SecretKey = srv.Endpoint, srv.AccessKey, srv.SecretKey
	}
	if cfg.Bucket == "" {
		cfg.Bucket = newBucketName(nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := NewMinIO(ctx, cfg)
	if err != nil {
		t.Fatalf("NewMinIO: %v", err)
	}
	t.Cleanup(func() { removeBucket(t, s.Client(), cfg.Bucket) })
	return s
}

// removeBucket deletes every version (bypassing governance retention) and
// the bucket. Failures only log: the server may be down on purpose.
func removeBucket(t testing.TB, c *minio.Client, bucket string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for oi := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true}) {
		if oi.Err != nil {
			t.Logf("cleanup list %s: %v", bucket, oi.Err)
			return
		}
		c.RemoveObject(ctx, bucket, oi.Key, minio.RemoveObjectOptions{VersionID: oi.VersionID, GovernanceBypass: true})
	}
	for u := range c.ListIncompleteUploads(ctx, bucket, "", true) {
		c.RemoveIncompleteUpload(ctx, bucket, u.Key)
	}
	if err := c.RemoveBucket(ctx, bucket); err != nil {
		t.Logf("cleanup bucket %s: %v", bucket, err)
	}
}

// injectDigestMismatch rewrites key's recorded digest behind the store's
// back (a server-side copy with replaced metadata, as a tampering admin or a
// buggy tool would).
func injectDigestMismatch(t *testing.T, s Store, key string) {
	t.Helper()
	m := s.(*MinIO)
	_, err := m.Client().CopyObject(context.Background(),
		minio.CopyDestOptions{Bucket: m.Bucket(), Object: key, ReplaceMetadata: true,
			UserMetadata: map[string]string{metaSHA256: strings.Repeat("0", 64)}},
		minio.CopySrcOptions{Bucket: m.Bucket(), Object: key})
	if err != nil {
		t.Fatal(err)
	}
}

var minioBackend = backend{
	new:     func(t *testing.T) Store { return newTestMinIO(t, MinIOConfig{}) },
	corrupt: injectDigestMismatch,
}

func TestMinIOContract(t *testing.T) { runContract(t, minioBackend) }

// versions lists the versions (not delete markers) stored under key.
func versions(t *testing.T, s *MinIO, key string) []minio.ObjectInfo {
	t.Helper()
	var out []minio.ObjectInfo
	for oi := range s.Client().ListObjects(context.Background(), s.Bucket(), minio.ListObjectsOptions{Prefix: key, WithVersions: true, WithMetadata: true}) {
		if oi.Err != nil {
			t.Fatal(oi.Err)
		}
		if oi.Key == key && !oi.IsDeleteMarker {
			out = append(out, oi)
		}
	}
	return out
}

func TestMinIOVersioningKeepsHistory(t *testing.T) {
	s := newTestMinIO(t, MinIOConfig{})
	a := mustPut(t, s, "copies/c/1.pdf", []byte("first"), PutOptions{})
	b := mustPut(t, s, "copies/c/1.pdf", []byte("second"), PutOptions{})
	if a.VersionID == "" || a.VersionID == b.VersionID {
		t.Fatalf("version ids %q, %q", a.VersionID, b.VersionID)
	}
	if err := s.Delete(context.Background(), "copies/c/1.pdf"); err != nil {
		t.Fatal(err)
	}
	if got := len(versions(t, s, "copies/c/1.pdf")); got != 2 {
		t.Fatalf("%d versions kept after delete, want 2", got)
	}
}

func TestMinIOObjectLockGovernance(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	s := newTestMinIO(t, MinIOConfig{ObjectLock: true, LockRetention: 48 * time.Hour, Now: func() time.Time { return now }})
	ctx := context.Background()
	orig := mustPut(t, s, "certificates/京1/v1/certificate.pdf", []byte("%PDF original"), PutOptions{})
	copyInfo := mustPut(t, s, "copies/京1/c1.pdf", []byte("%PDF copy"), PutOptions{})

	mode, until, err := s.Client().GetObjectRetention(ctx, s.Bucket(), orig.Key, orig.VersionID)
	if err != nil {
		t.Fatal(err)
	}
	if mode == nil || *mode != minio.Governance || until == nil || !until.Equal(now.Add(48*time.Hour)) {
		t.Fatalf("retention of original = %v until %v", mode, until)
	}
	// The locked version cannot be removed without the governance bypass.
	err = s.Client().RemoveObject(ctx, s.Bucket(), orig.Key, minio.RemoveObjectOptions{VersionID: orig.VersionID})
	if err == nil {
		t.Fatal("locked original version removed without bypass")
	}
	// Copies are not locked.
	if err := s.Client().RemoveObject(ctx, s.Bucket(), copyInfo.Key, minio.RemoveObjectOptions{VersionID: copyInfo.VersionID}); err != nil {
		t.Fatalf("removing an unlocked copy version: %v", err)
	}
}

func TestMinIOExistingBucketWithoutLockRefused(t *testing.T) {
	s := newTestMinIO(t, MinIOConfig{})
	srv := testenv.MinIOServer(t)
	_, err := NewMinIO(context.Background(), MinIOConfig{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Bucket: s.Bucket(), ObjectLock: true})
	if err == nil || !strings.Contains(err.Error(), "without object lock") {
		t.Fatalf("NewMinIO on an unlocked bucket with ObjectLock = %v", err)
	}
}

func TestMinIOTypedErrors(t *testing.T) {
	srv := testenv.MinIOServer(t)
	ctx := context.Background()
	_, err := NewMinIO(ctx, MinIOConfig{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: "wrong-secret", Bucket: "ecert-any", MaxRetries: 1})
	if !errors.Is(err, ErrCredentials) {
		t.Errorf("wrong secret: %v, want ErrCredentials", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("error reveals the secret: %v", err)
	}
	_, err = NewMinIO(ctx, MinIOConfig{Endpoint: srv.Endpoint, AccessKey: "nobody", SecretKey: "whatever1", Bucket: "ecert-any", MaxRetries: 1})
	if !errors.Is(err, ErrCredentials) {
		t.Errorf("unknown access key: %v, want ErrCredentials", err)
	}
	_, err = NewMinIO(ctx, MinIOConfig{Endpoint: "127.0.0.1:1", AccessKey: "a", SecretKey: "b", Bucket: "ecert-any", MaxRetries: 1})
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("nothing listening: %v, want ErrUnavailable", err)
	}

	// Bucket removed under a running store.
	s := newTestMinIO(t, MinIOConfig{})
	removeBucket(t, s.Client(), s.Bucket())
	if err := s.Ready(ctx); !errors.Is(err, ErrBucketMissing) {
		t.Errorf("Ready without bucket: %v", err)
	}
	if _, err := s.Put(ctx, "k", strings.NewReader("x"), 1, PutOptions{}); !errors.Is(err, ErrBucketMissing) {
		t.Errorf("Put without bucket: %v", err)
	}
	if _, err := s.Stat(ctx, "k"); !errors.Is(err, ErrBucketMissing) && !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat without bucket: %v", err)
	}
}

func TestMinIOConfigValidationNamesField(t *testing.T) {
	ok := MinIOConfig{Endpoint: "127.0.0.1:9000", AccessKey: "a", SecretKey: "b", Bucket: "ecert-objects"}
	cases := []struct {
		field string
		edit  func(*MinIOConfig)
	}{
		{"Endpoint", func(c *MinIOConfig) { c.Endpoint = "" }},
		{"Endpoint", func(c *MinIOConfig) { c.Endpoint = "http://127.0.0.1:9000" }},
		{"Endpoint", func(c *MinIOConfig) { c.Endpoint = "localhost" }},
		{"AccessKey", func(c *MinIOConfig) { c.AccessKey = "" }},
		{"SecretKey", func(c *MinIOConfig) { c.SecretKey = "" }},
		{"Bucket", func(c *MinIOConfig) { c.Bucket = "" }},
		{"Bucket", func(c *MinIOConfig) { c.Bucket = "Upper_Case" }},
		{"LockRetention", func(c *MinIOConfig) { c.LockRetention = -time.Hour }},
		{"PresignMaxExpiry", func(c *MinIOConfig) { c.PresignMaxExpiry = 30 * 24 * time.Hour }},
		{"MaxRetries", func(c *MinIOConfig) { c.MaxRetries = -1 }},
		{"MaxObjectSize", func(c *MinIOConfig) { c.MaxObjectSize = -1 }},
	}
	for _, c := range cases {
		cfg := ok
		c.edit(&cfg)
		_, err := NewMinIO(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), "MinIOConfig."+c.field) {
			t.Errorf("bad %s: error %v does not name the field", c.field, err)
		}
	}
}

// MinIO itself checks the SHA-256 a Put declares: bytes that do not match
// the checksum header are refused by the server (our own reader checks the
// same before sending; this sends around it).
func TestMinIOServerChecksTheDeclaredSHA256(t *testing.T) {
	s := newTestMinIO(t, MinIOConfig{})
	ctx := context.Background()
	good, bad := []byte("the bytes that were signed"), []byte("the bytes that were sent!!")
	sum := sha256.Sum256(good)
	po := s.putOptions("checksum/x.pdf", "application/pdf", hex.EncodeToString(sum[:]), int64(len(bad)))
	if po.UserMetadata["x-amz-checksum-sha256"] == "" || !po.DisableContentSha256 {
		t.Fatalf("options carry no checksum: %+v", po)
	}
	if _, err := s.client.PutObject(ctx, s.cfg.Bucket, "checksum/x.pdf", bytes.NewReader(bad), int64(len(bad)), po); err == nil {
		t.Fatal("MinIO stored bytes that do not match the declared SHA-256")
	}
	if _, err := s.client.PutObject(ctx, s.cfg.Bucket, "checksum/x.pdf", bytes.NewReader(good), int64(len(good)), po); err != nil {
		t.Fatalf("matching bytes refused: %v", err)
	}
	if _, err := s.Stat(ctx, "checksum/x.pdf"); err != nil {
		t.Fatal(err)
	}
}
