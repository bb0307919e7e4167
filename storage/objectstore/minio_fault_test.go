package objectstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/internal/testsvc"
)

// genReader yields n deterministic pseudo-random bytes. If pauseAt > 0, the
// read that reaches that offset first signals reached and then waits for
// resume, so a test can act while the upload is in flight.
type genReader struct {
	rng      *rand.Rand
	pending  []byte // generated but not yet returned
	word     [8]byte
	left     int64
	read     int64
	pauseAt  int64
	reached  chan struct{}
	resume   chan struct{}
	signaled bool
}

func newGenReader(seed uint64, n int64) *genReader {
	return &genReader{rng: rand.New(rand.NewPCG(seed, 7)), left: n}
}

// Read returns the same byte stream whatever the sizes of the reads.
func (g *genReader) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	if g.pauseAt > 0 && !g.signaled && g.read >= g.pauseAt {
		g.signaled = true
		close(g.reached)
		<-g.resume
	}
	p = p[:min(int64(len(p)), g.left)]
	n := 0
	for n < len(p) {
		if len(g.pending) == 0 {
			binary.LittleEndian.PutUint64(g.word[:], g.rng.Uint64())
			g.pending = g.word[:]
		}
		k := copy(p[n:], g.pending)
		g.pending = g.pending[k:]
		n += k
	}
	g.left -= int64(n)
	g.read += int64(n)
	return n, nil
}

func genDigest(seed uint64, n int64) string {
	h := sha256.New()
	io.CopyBuffer(h, newGenReader(seed, n), make([]byte, 1<<16))
	return hex.EncodeToString(h.Sum(nil))
}

func newFaultStore(t *testing.T, srv *testsvc.MinIO) *MinIO {
	t.Helper()
	s, err := NewMinIO(context.Background(), MinIOConfig{
		Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey,
		Bucket: "ecert-fault", MaxRetries: 2, DialTimeout: time.Second, ResponseHeaderTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMinIOKilledMidWrite kills the server while a large object streams in
// (mid-way through its multipart upload): the write fails, nothing is
// visible after restart, and a retry leaves exactly one version with the
// right digest.
func TestMinIOKilledMidWrite(t *testing.T) {
	srv := testsvc.StartMinIO(t, testenv.MinIOBinary(t))
	s := newFaultStore(t, srv)
	ctx := context.Background()
	const size = 40<<20 + 12345 // three parts of 16 MiB
	const key = "certificates/京2112020202100001/v1/certificate.pdf"
	want := genDigest(42, size)

	for _, known := range []bool{true, false} {
		t.Run(map[bool]string{true: "streaming", false: "spooled"}[known], func(t *testing.T) {
			opts := PutOptions{ContentType: "application/pdf"}
			if known {
				opts.SHA256 = want
			}
			r := newGenReader(42, size)
			r.pauseAt, r.reached, r.resume = 20<<20, make(chan struct{}), make(chan struct{})
			if !known {
				// A spooled upload reads everything before sending: kill
				// the server once it has started storing the upload.
				r.pauseAt = 0
			}
			before := multipartFiles(srv)
			done := make(chan error, 1)
			go func() {
				_, err := s.Put(ctx, key, r, size, opts)
				done <- err
			}()
			if known {
				<-r.reached // first 16 MiB part uploaded, the second being filled
				srv.Kill()
				close(r.resume)
			} else {
				waitUploadStarted(t, srv, before)
				srv.Kill()
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(2 * time.Minute):
				t.Fatal("Put did not return after the server was killed")
			}
			if err == nil {
				t.Fatal("Put succeeded although the server was killed mid-write")
			}
			t.Logf("Put with the server killed: %v", err)
			if !errors.Is(err, ErrUnavailable) {
				t.Errorf("error does not wrap ErrUnavailable: %v", err)
			}

			srv.Start()
			if _, err := s.Stat(ctx, key); !errors.Is(err, ErrNotFound) {
				t.Fatalf("after restart, Stat = %v, want ErrNotFound (no partial object)", err)
			}
			if v := versions(t, s, key); len(v) != 0 {
				t.Fatalf("after restart, %d versions visible", len(v))
			}

			info, err := s.Put(ctx, key, newGenReader(42, size), size, opts)
			if err != nil {
				t.Fatalf("retry after restart: %v", err)
			}
			if info.SHA256 != want || info.Size != size {
				t.Fatalf("retry stored %+v, want digest %s", info, want)
			}
			v := versions(t, s, key)
			if len(v) != 1 {
				t.Fatalf("%d versions after the retry, want exactly 1", len(v))
			}
			if got, err := Verify(ctx, s, key); err != nil || got.SHA256 != want || got.VersionID != v[0].VersionID {
				t.Fatalf("Verify = %+v, %v", got, err)
			}
			// Clean up for the next sub-test: remove the version for good.
			removeBucket(t, s.Client(), s.Bucket())
			s = newFaultStore(t, srv)
		})
	}
}

// multipartFiles counts the files MinIO holds for multipart uploads in
// progress (under .minio.sys/multipart on its drive).
func multipartFiles(srv *testsvc.MinIO) int {
	n := 0
	filepath.WalkDir(filepath.Join(srv.DataDir, ".minio.sys", "multipart"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// waitUploadStarted waits until the server has stored the first part of a
// new multipart upload (its upload record and one part file).
func waitUploadStarted(t *testing.T, srv *testsvc.MinIO, before int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if n := multipartFiles(srv); n >= before+2 {
			t.Logf("multipart files %d -> %d", before, n)
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatal("upload never reached the server")
}

// TestMinIOCorruptedOnDisk changes one byte of an object's data file under
// MinIO's drive, behind its back. The read must fail, never return the
// damaged bytes as good.
func TestMinIOCorruptedOnDisk(t *testing.T) {
	srv := testsvc.StartMinIO(t, testenv.MinIOBinary(t))
	s := newFaultStore(t, srv)
	ctx := context.Background()
	const key = "certificates/x/v1/certificate.ofd"
	data := randBytes(9, 3<<20) // large enough not to be inlined in xl.meta
	mustPut(t, s, key, data, PutOptions{})

	var parts []string
	filepath.WalkDir(filepath.Join(srv.DataDir, s.Bucket(), filepath.FromSlash(key)), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), "part.") {
			parts = append(parts, p)
		}
		return nil
	})
	if len(parts) != 1 {
		t.Fatalf("found part files %v under the object's directory, want one", parts)
	}
	b, err := os.ReadFile(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	// Flip a byte in the middle of the data (the part file interleaves
	// bitrot hashes with 1 MiB blocks; any byte of a block will do).
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(parts[0], b, 0o644); err != nil {
		t.Fatal(err)
	}

	rc, _, err := s.Get(ctx, key)
	if err != nil {
		t.Logf("Get refused the corrupted object: %v", err)
		return
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err == nil {
		t.Fatalf("corrupted object served without error (%d bytes, equal to original: %v)", len(got), bytes.Equal(got, data))
	}
	t.Logf("read of corrupted object failed after %d bytes: %v", len(got), err)
}

// TestMinIORetriesAcrossRestart shows the backoff retries at work: a write
// issued while the server is down succeeds once it is back, within the
// retry budget, and stores one version.
func TestMinIORetriesAcrossRestart(t *testing.T) {
	srv := testsvc.StartMinIO(t, testenv.MinIOBinary(t))
	ctx := context.Background()
	s, err := NewMinIO(ctx, MinIOConfig{
		Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey,
		Bucket: "ecert-retry", MaxRetries: 40, // about 35 s of backoff
	})
	if err != nil {
		t.Fatal(err)
	}
	data := randBytes(11, 60<<10)
	srv.Kill()
	done := make(chan error, 1)
	go func() {
		_, err := s.Put(ctx, "copies/x/1.pdf", bytes.NewReader(data), int64(len(data)), PutOptions{})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Put returned while the server was down: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	srv.Start()
	if err := <-done; err != nil {
		t.Fatalf("Put was not retried through the restart: %v", err)
	}
	if got, _ := mustGet(t, s, "copies/x/1.pdf"); !bytes.Equal(got, data) {
		t.Fatal("stored bytes differ")
	}
	if v := versions(t, s, "copies/x/1.pdf"); len(v) != 1 {
		t.Fatalf("%d versions, want 1", len(v))
	}
}
