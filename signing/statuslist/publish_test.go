package statuslist

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeSource is a Source in memory.
type fakeSource struct {
	mu      sync.Mutex
	lists   map[int64]ListInfo
	entries map[int64][]Entry
	fail    error
	builds  int
}

func (f *fakeSource) Lists(context.Context) ([]ListInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	var out []ListInfo
	for _, l := range f.lists {
		out = append(out, l)
	}
	return out, nil
}

func (f *fakeSource) Entries(_ context.Context, id int64) (ListInfo, []Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.builds++
	return f.lists[id], append([]Entry(nil), f.entries[id]...), nil
}

func (f *fakeSource) set(id int64, e Entry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries[id] = append(f.entries[id], e)
	l := f.lists[id]
	l.Generation++
	f.lists[id] = l
}

func TestPublisherRebuildsOnChangeAndHalfTTL(t *testing.T) {
	is := newIssuer(t)
	now := iat
	src := &fakeSource{lists: map[int64]ListInfo{1: {ID: 1, Size: MinSize}}, entries: map[int64][]Entry{}}
	p, err := NewPublisher(PublisherConfig{Source: src, Signer: is.signer, KID: is.kid, TTL: time.Hour,
		URI:   func(id int64) string { return "https://ecert.example/api/v1/status/1" },
		Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, ok := p.Get(1); ok {
		t.Fatal("a token before the first refresh")
	}
	statusAt := func(idx int) Status {
		t.Helper()
		pub, ok := p.Get(1)
		if !ok {
			t.Fatal("no token for list 1")
		}
		tok, err := Parse(pub.Token, is.keys)
		if err != nil {
			t.Fatal(err)
		}
		s, err := tok.Status(idx, now)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if err := p.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	first, _ := p.Get(1)
	if statusAt(42) != Valid || first.TTL != time.Hour || !first.ExpiresAt.Equal(iat.Add(MaxAge)) || first.ETag == "" {
		t.Fatalf("first token: %+v", first)
	}

	// Unchanged and young: the same token, not rebuilt.
	now = now.Add(29 * time.Minute)
	if err := p.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if again, _ := p.Get(1); again != first || src.builds != 1 {
		t.Fatalf("rebuilt an unchanged young list (%d builds)", src.builds)
	}

	// A status change: rebuilt at once.
	src.set(1, Entry{Index: 42, Status: Invalid})
	if err := p.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	changed, _ := p.Get(1)
	if statusAt(42) != Invalid || changed.ETag == first.ETag || changed.Generation != 1 {
		t.Fatalf("after the change: %v, %+v", statusAt(42), changed)
	}

	// Half the TTL later, unchanged: re-signed with a new iat.
	now = now.Add(30 * time.Minute)
	if err := p.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if renewed, _ := p.Get(1); !renewed.IssuedAt.Equal(now) || statusAt(42) != Invalid {
		t.Fatalf("after half the TTL: %+v", renewed)
	}

	// The source failing keeps the tokens served.
	src.fail = errors.New("database down")
	if err := p.Refresh(ctx); err == nil {
		t.Fatal("refresh with a failing source succeeded")
	}
	if _, ok := p.Get(1); !ok {
		t.Fatal("token dropped while the source failed")
	}
}

func TestNewPublisherValidates(t *testing.T) {
	is := newIssuer(t)
	good := PublisherConfig{Source: &fakeSource{}, Signer: is.signer, KID: is.kid, URI: func(int64) string { return "u" }}
	if _, err := NewPublisher(good); err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(*PublisherConfig){
		"no source": func(c *PublisherConfig) { c.Source = nil },
		"no signer": func(c *PublisherConfig) { c.Signer = nil },
		"no kid":    func(c *PublisherConfig) { c.KID = nil },
		"no uri":    func(c *PublisherConfig) { c.URI = nil },
		"ttl > 24h": func(c *PublisherConfig) { c.TTL = 25 * time.Hour },
		"ttl 1s":    func(c *PublisherConfig) { c.TTL = time.Second },
		"poll < 0":  func(c *PublisherConfig) { c.Poll = -1 },
	}
	for name, mutate := range bad {
		c := good
		mutate(&c)
		if _, err := NewPublisher(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
