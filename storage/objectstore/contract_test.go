package objectstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// backend is what the contract suite needs to know about a Store under test.
type backend struct {
	// new returns an empty store, cleaned up by t.
	new func(t *testing.T) Store
	// corrupt changes the stored bytes or recorded digest of key behind the
	// store's back, so that its digest no longer matches.
	corrupt func(t *testing.T, s Store, key string)
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func mustPut(t *testing.T, s Store, key string, data []byte, opts PutOptions) Info {
	t.Helper()
	info, err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

func mustGet(t *testing.T, s Store, key string) ([]byte, Info) {
	t.Helper()
	rc, info, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q) read: %v", key, err)
	}
	return b, info
}

// failingReader yields n bytes then fails.
type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	f.n -= k
	return k, nil
}

// runContract is the one behaviour suite every Store backend must pass.
func runContract(t *testing.T, be backend) {
	ctx := context.Background()

	t.Run("List", func(t *testing.T) { runListContract(t, be) })

	t.Run("RoundTrip", func(t *testing.T) {
		s := be.new(t)
		data := randBytes(1, 60<<10)
		key := "certificates/京2112020202100001/v1/certificate.pdf"
		put := mustPut(t, s, key, data, PutOptions{ContentType: "application/pdf"})
		if put.Size != int64(len(data)) || put.SHA256 != sha(data) || put.Key != key {
			t.Fatalf("Put info = %+v, want size %d sha %s", put, len(data), sha(data))
		}
		got, info := mustGet(t, s, key)
		if !bytes.Equal(got, data) {
			t.Fatal("Get returned different bytes")
		}
		if info.Size != int64(len(data)) || info.SHA256 != sha(data) || info.ContentType != "application/pdf" {
			t.Fatalf("Get info = %+v", info)
		}
		st, err := s.Stat(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size != info.Size || st.SHA256 != info.SHA256 || st.ContentType != info.ContentType || st.Modified.IsZero() {
			t.Fatalf("Stat = %+v, Get info = %+v", st, info)
		}
		if v, err := Verify(ctx, s, key); err != nil || v.SHA256 != sha(data) {
			t.Fatalf("Verify = %+v, %v", v, err)
		}
	})

	t.Run("Digested", func(t *testing.T) {
		s := be.new(t)
		data := randBytes(7, 45<<10)
		r, sum := Digested(data)
		if sum != sha(data) {
			t.Fatalf("Digested sum %s, want %s", sum, sha(data))
		}
		info, err := s.Put(ctx, "d/ok", r, int64(len(data)), PutOptions{SHA256: sum})
		if err != nil || info.SHA256 != sum || info.Size != int64(len(data)) {
			t.Fatalf("Put = %+v, %v", info, err)
		}
		if got, _ := mustGet(t, s, "d/ok"); !bytes.Equal(got, data) {
			t.Fatal("Get returned different bytes")
		}
		// Another digest than the reader's own: the store hashes and refuses.
		r, _ = Digested(data)
		if _, err := s.Put(ctx, "d/other", r, int64(len(data)), PutOptions{SHA256: sha([]byte("x"))}); !errors.Is(err, ErrDigestMismatch) {
			t.Fatalf("other digest: %v", err)
		}
		// A reader already partly read is not trusted: it is hashed (and
		// here also too short).
		r, sum = Digested(data)
		r.Read(make([]byte, 10))
		if _, err := s.Put(ctx, "d/partial", r, int64(len(data)), PutOptions{SHA256: sum}); err == nil {
			t.Fatal("partly read Digested reader stored")
		}
		// Bytes changed after Digested, against its contract: either the
		// store refuses them, or it keeps them and every read reports the
		// corruption; never are they served as good.
		changed := bytes.Clone(data)
		r, sum = Digested(changed)
		changed[100] ^= 0xff
		if _, err := s.Put(ctx, "d/changed", r, int64(len(changed)), PutOptions{SHA256: sum}); err != nil {
			if !errors.Is(err, ErrDigestMismatch) {
				t.Fatalf("changed bytes: %v", err)
			}
		} else if _, err := Verify(ctx, s, "d/changed"); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("changed bytes stored and Verify = %v, want ErrCorrupt", err)
		}
	})

	t.Run("EmptyAndDefaultContentType", func(t *testing.T) {
		s := be.new(t)
		mustPut(t, s, "empty", nil, PutOptions{})
		got, info := mustGet(t, s, "empty")
		if len(got) != 0 || info.Size != 0 || info.SHA256 != sha(nil) || info.ContentType != "application/octet-stream" {
			t.Fatalf("empty object: %d bytes, info %+v", len(got), info)
		}
	})

	t.Run("UnknownSize", func(t *testing.T) {
		s := be.new(t)
		data := randBytes(2, 100<<10)
		info, err := s.Put(ctx, "copies/a/b.ofd", io.MultiReader(bytes.NewReader(data)), -1, PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != int64(len(data)) || info.SHA256 != sha(data) {
			t.Fatalf("info = %+v", info)
		}
		got, _ := mustGet(t, s, "copies/a/b.ofd")
		if !bytes.Equal(got, data) {
			t.Fatal("bytes differ")
		}
	})

	t.Run("LargeStreaming", func(t *testing.T) {
		s := be.new(t)
		data := randBytes(3, 9<<20+123) // beyond the MinIO in-memory spool
		for _, known := range []bool{false, true} {
			opts := PutOptions{}
			if known {
				opts.SHA256 = sha(data)
			}
			key := fmt.Sprintf("large-%v", known)
			info, err := s.Put(ctx, key, io.MultiReader(bytes.NewReader(data)), int64(len(data)), opts)
			if err != nil {
				t.Fatalf("known digest %v: %v", known, err)
			}
			if info.SHA256 != sha(data) {
				t.Fatalf("digest %s", info.SHA256)
			}
			got, _ := mustGet(t, s, key)
			if !bytes.Equal(got, data) {
				t.Fatal("bytes differ")
			}
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		s := be.new(t)
		mustPut(t, s, "k", []byte("one"), PutOptions{})
		mustPut(t, s, "k", []byte("two!"), PutOptions{ContentType: "text/plain"})
		got, info := mustGet(t, s, "k")
		if string(got) != "two!" || info.ContentType != "text/plain" {
			t.Fatalf("got %q %+v", got, info)
		}
	})

	t.Run("NotFoundAndDelete", func(t *testing.T) {
		s := be.new(t)
		if _, _, err := s.Get(ctx, "missing"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get missing: %v", err)
		}
		if _, err := s.Stat(ctx, "missing"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Stat missing: %v", err)
		}
		if err := s.Delete(ctx, "missing"); err != nil {
			t.Fatalf("Delete missing: %v", err)
		}
		mustPut(t, s, "dir/obj", []byte("x"), PutOptions{})
		if _, err := s.Stat(ctx, "dir"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Stat of a prefix: %v", err)
		}
		if _, err := s.Stat(ctx, "dir/obj/below"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Stat below an object: %v", err)
		}
		if err := s.Delete(ctx, "dir/obj"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Get(ctx, "dir/obj"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get after delete: %v", err)
		}
	})

	t.Run("InvalidKeys", func(t *testing.T) {
		s := be.new(t)
		for _, key := range []string{"", "/abs", "../up", "a/../b", "a/./b", "a//b", "a/", ".hidden", "a\\b", "nul\x00", "sp ace", "a/.tmp-x", strings.Repeat("a", MaxKeyLen+1), "\xff"} {
			if _, err := s.Put(ctx, key, strings.NewReader("x"), 1, PutOptions{}); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Put(%q): %v, want ErrInvalidKey", key, err)
			}
			if _, _, err := s.Get(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Get(%q): %v, want ErrInvalidKey", key, err)
			}
			if _, err := s.Stat(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Stat(%q): %v, want ErrInvalidKey", key, err)
			}
			if err := s.Delete(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Delete(%q): %v, want ErrInvalidKey", key, err)
			}
		}
	})

	t.Run("FailedWritesLeaveNothing", func(t *testing.T) {
		s := be.new(t)
		mustPut(t, s, "keep", []byte("original"), PutOptions{})
		boom := errors.New("source broke")
		cases := []struct {
			name string
			r    io.Reader
			size int64
			opts PutOptions
			want error
		}{
			{"short", strings.NewReader("abc"), 10, PutOptions{}, ErrSizeMismatch},
			{"long", strings.NewReader("abcdefghijkl"), 3, PutOptions{}, ErrSizeMismatch},
			{"digest", strings.NewReader("abc"), 3, PutOptions{SHA256: sha([]byte("abd"))}, ErrDigestMismatch},
			{"digest-unknown-size", strings.NewReader("abc"), -1, PutOptions{SHA256: sha([]byte("abd"))}, ErrDigestMismatch},
			{"reader-error", &failingReader{n: 5000, err: boom}, 10000, PutOptions{}, boom},
			{"reader-error-streaming", &failingReader{n: 5000, err: boom}, 10000, PutOptions{SHA256: sha(nil)}, boom},
		}
		for _, c := range cases {
			for _, key := range []string{"keep", "new-" + c.name} {
				_, err := s.Put(ctx, key, c.r, c.size, c.opts)
				if !errors.Is(err, c.want) {
					t.Errorf("%s: Put(%s) = %v, want %v", c.name, key, err, c.want)
				}
				c.r = resetReader(c.r)
			}
			if _, err := s.Stat(ctx, "new-"+c.name); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s: failed write is visible: %v", c.name, err)
			}
		}
		got, _ := mustGet(t, s, "keep")
		if string(got) != "original" {
			t.Fatalf("failed overwrites changed the object: %q", got)
		}
		if _, err := s.Put(ctx, "bad-digest-option", strings.NewReader("x"), 1, PutOptions{SHA256: "XYZ"}); err == nil {
			t.Error("malformed PutOptions.SHA256 accepted")
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		s := be.new(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Put(cctx, "c", strings.NewReader("x"), 1, PutOptions{}); !errors.Is(err, context.Canceled) {
			t.Errorf("Put: %v", err)
		}
		if _, err := s.Stat(ctx, "c"); !errors.Is(err, ErrNotFound) {
			t.Errorf("cancelled write visible: %v", err)
		}
	})

	t.Run("Corruption", func(t *testing.T) {
		s := be.new(t)
		data := randBytes(4, 200<<10)
		mustPut(t, s, "certificates/x/v1/certificate.ofd", data, PutOptions{})
		be.corrupt(t, s, "certificates/x/v1/certificate.ofd")
		_, err := Verify(ctx, s, "certificates/x/v1/certificate.ofd")
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Verify of corrupted object = %v, want ErrCorrupt", err)
		}
		rc, _, err := s.Get(ctx, "certificates/x/v1/certificate.ofd")
		if err == nil {
			b, rerr := io.ReadAll(rc)
			rc.Close()
			if !errors.Is(rerr, ErrCorrupt) {
				t.Fatalf("reading corrupted object: %d bytes, err %v; want ErrCorrupt", len(b), rerr)
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Get of corrupted object = %v, want ErrCorrupt", err)
		}
	})

	t.Run("Presign", func(t *testing.T) {
		s := be.new(t)
		data := []byte("%PDF-1.7 presigned")
		mustPut(t, s, "p/doc.pdf", data, PutOptions{ContentType: "application/pdf"})
		u, err := s.PresignGet(ctx, "p/doc.pdf", time.Minute)
		if errors.Is(err, ErrPresignUnsupported) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !bytes.Equal(got, data) {
			t.Fatalf("presigned GET: %s %q", resp.Status, got)
		}
		if _, err := s.PresignGet(ctx, "p/missing.pdf", time.Minute); !errors.Is(err, ErrNotFound) {
			t.Errorf("presign missing: %v", err)
		}
		if _, err := s.PresignGet(ctx, "p/doc.pdf", 30*24*time.Hour); err == nil {
			t.Error("presign with a month's expiry accepted")
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		s := be.new(t)
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for i := range 16 {
			wg.Go(func() {
				key := fmt.Sprintf("conc/%d", i%4) // writers collide on purpose
				data := randBytes(uint64(i), 10<<10+i)
				if _, err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), PutOptions{}); err != nil {
					errs <- err
					return
				}
				if _, err := Verify(ctx, s, key); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})

	t.Run("Ready", func(t *testing.T) {
		if err := be.new(t).Ready(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// resetReader gives a fresh copy of a test reader for the second key.
func resetReader(r io.Reader) io.Reader {
	switch r := r.(type) {
	case *strings.Reader:
		r.Seek(0, io.SeekStart)
		return r
	case *failingReader:
		return &failingReader{n: 5000, err: r.err}
	}
	return r
}
