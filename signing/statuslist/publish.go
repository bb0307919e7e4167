package statuslist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ecert/ecert/signing"
)

// ListInfo describes a list in the system of record: its size and the
// generation of its entries, which grows with every change of a status.
type ListInfo struct {
	ID         int64
	Size       int
	Generation int64
}

// Entry is an entry that is not Valid.
type Entry struct {
	Index  int64
	Status Status
}

// Source is the system of record the publisher reads (the registry).
type Source interface {
	// Lists returns every list; the publisher polls it, so it must be cheap.
	Lists(ctx context.Context) ([]ListInfo, error)
	// Entries returns a list and its entries that are not Valid, reading
	// the generation before the entries.
	Entries(ctx context.Context, id int64) (ListInfo, []Entry, error)
}

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	Source Source
	// Signer signs the tokens (the authority key) and KID names its
	// certificate (cose.KeyID).
	Signer signing.Signer
	KID    []byte
	// URI returns the address a list is published at, the token's sub.
	URI func(id int64) string
	// TTL is the token's ttl claim; DefaultTTL when 0. Tokens are re-signed
	// when half of it has passed, changed or not.
	TTL time.Duration
	// Poll is how often Run asks the source for changed lists; 2 s when 0.
	Poll time.Duration
	// Clock returns the current time; time.Now when nil.
	Clock func() time.Time
	// Logger receives rebuild failures; slog.Default when nil.
	Logger *slog.Logger
}

// Published is a signed token ready to serve.
type Published struct {
	ID         int64
	Token      []byte
	ETag       string // a strong entity tag, quoted
	IssuedAt   time.Time
	ExpiresAt  time.Time
	TTL        time.Duration
	Generation int64
}

// Publisher keeps a signed token of every list in memory, rebuilt in the
// background when the list's generation changes or half the TTL has
// passed, so that serving a list never builds or signs one.
type Publisher struct {
	cfg PublisherConfig
	// cur maps list id to its published token; replaced whole, never
	// changed, so that Get takes no lock.
	cur atomic.Pointer[map[int64]*Published]
	mu  sync.Mutex // serialises Refresh
}

// NewPublisher validates cfg and returns a Publisher with no token yet:
// call Refresh or Run.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	switch {
	case cfg.Source == nil:
		return nil, errors.New("statuslist: PublisherConfig.Source is nil")
	case cfg.Signer == nil:
		return nil, errors.New("statuslist: PublisherConfig.Signer is nil")
	case len(cfg.KID) == 0:
		return nil, errors.New("statuslist: PublisherConfig.KID is empty")
	case cfg.URI == nil:
		return nil, errors.New("statuslist: PublisherConfig.URI is nil")
	case cfg.TTL < 0 || cfg.TTL > MaxAge:
		return nil, fmt.Errorf("statuslist: PublisherConfig.TTL %s: want 0 (default %s) up to %s", cfg.TTL, DefaultTTL, MaxAge)
	case cfg.Poll < 0:
		return nil, fmt.Errorf("statuslist: PublisherConfig.Poll %s is negative", cfg.Poll)
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.TTL < 2*time.Second {
		return nil, fmt.Errorf("statuslist: PublisherConfig.TTL %s: want at least 2s", cfg.TTL)
	}
	if cfg.Poll == 0 {
		cfg.Poll = 2 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Publisher{cfg: cfg}
	p.cur.Store(&map[int64]*Published{})
	return p, nil
}

// Get returns the token of list id, or false if there is none (yet).
func (p *Publisher) Get(id int64) (*Published, bool) {
	t, ok := (*p.cur.Load())[id]
	return t, ok
}

// Run refreshes every Poll until ctx ends, logging failures (the tokens
// already published stay served until they are rebuilt).
func (p *Publisher) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.Poll)
	defer t.Stop()
	for {
		if err := p.Refresh(ctx); err != nil && ctx.Err() == nil {
			p.cfg.Logger.Warn("status list refresh failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Refresh rebuilds and re-signs every list that is new, whose generation
// changed, or whose token is half its TTL old. Callers that just changed a
// status (a revocation) may call it to publish at once.
func (p *Publisher) Refresh(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	lists, err := p.cfg.Source.Lists(ctx)
	if err != nil {
		return fmt.Errorf("statuslist: lists: %w", err)
	}
	old := *p.cur.Load()
	next := make(map[int64]*Published, len(lists))
	now := p.cfg.Clock()
	var errs []error
	for _, l := range lists {
		cur, ok := old[l.ID]
		if ok && cur.Generation == l.Generation && now.Sub(cur.IssuedAt) < p.cfg.TTL/2 {
			next[l.ID] = cur
			continue
		}
		t, err := p.build(ctx, l.ID, now)
		if err != nil {
			errs = append(errs, err)
			if ok {
				next[l.ID] = cur // keep serving the last good token
			}
			continue
		}
		next[l.ID] = t
	}
	p.cur.Store(&next)
	return errors.Join(errs...)
}

// build reads list id and signs its token.
func (p *Publisher) build(ctx context.Context, id int64, now time.Time) (*Published, error) {
	info, entries, err := p.cfg.Source.Entries(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("statuslist: list %d: %w", id, err)
	}
	l, err := New(info.Size)
	if err != nil {
		return nil, fmt.Errorf("statuslist: list %d: %w", id, err)
	}
	for _, e := range entries {
		if err := l.Set(int(e.Index), e.Status); err != nil {
			return nil, fmt.Errorf("statuslist: list %d: %w", id, err)
		}
	}
	iat := now.Truncate(time.Second)
	tok := Token{Subject: p.cfg.URI(id), IssuedAt: iat, ExpiresAt: iat.Add(MaxAge), TTL: p.cfg.TTL, List: l}
	b, err := tok.Sign(ctx, p.cfg.Signer, p.cfg.KID)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	return &Published{ID: id, Token: b, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`, IssuedAt: iat,
		ExpiresAt: tok.ExpiresAt, TTL: p.cfg.TTL, Generation: info.Generation}, nil
}
