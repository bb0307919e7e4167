package app

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ecert/ecert/api"
	"github.com/ecert/ecert/signing/cose"
	"github.com/ecert/ecert/signing/statuslist"
	"github.com/ecert/ecert/storage/registry"
)

// StatusListPath is where the api serves list id (GET /api/v1/status/{list}).
func StatusListPath(id int64) string { return "/api/v1/status/" + strconv.FormatInt(id, 10) }

// StatusListURI is the URI of list id, the sub of its token and what the
// QR claim names: the origin of VerifyBaseURL (the public service serves
// both) and StatusListPath.
func (c Config) StatusListURI(id int64) string {
	base := c.VerifyBaseURL
	if base == "" {
		base = DefaultVerifyBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return StatusListPath(id)
	}
	return u.Scheme + "://" + u.Host + StatusListPath(id)
}

// statusLists is the status list publisher of an App, started on first
// use (APIDeps) and stopped by Close.
type statusLists struct {
	once sync.Once
	pub  *statuslist.Publisher
	err  error
}

// statusPublisher returns the App's publisher, building it, publishing
// every list once and starting its background refresh the first time.
func (a *App) statusPublisher() (*statuslist.Publisher, error) {
	s := &a.status
	s.once.Do(func() {
		signer, err := a.Keys.Signer()
		if err != nil {
			s.err = fmt.Errorf("status lists: authority signer: %w", err)
			return
		}
		chain := signer.Chain()
		if len(chain) == 0 {
			s.err = fmt.Errorf("status lists: the authority signer has no certificate")
			return
		}
		pub, err := statuslist.NewPublisher(statuslist.PublisherConfig{
			Source: registrySource{a.Registry}, Signer: signer, KID: cose.KeyID(chain[0]),
			URI: a.Config.StatusListURI, Logger: a.Config.logger(),
		})
		if err != nil {
			s.err = err
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		if err := pub.Refresh(ctx); err != nil {
			a.Config.logger().Warn("status lists: first publication failed; retrying in the background", "err", err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = pub.Run(ctx)
		}()
		a.closers = append(a.closers, func() error {
			cancel()
			<-done
			return nil
		})
		s.pub = pub
	})
	return s.pub, s.err
}

// refreshStatusLists republishes the lists whose status changed, after a
// change made through this process (a revocation), so that the next fetch
// says so without waiting for the background refresh.
func (a *App) refreshStatusLists(ctx context.Context) {
	pub, err := a.statusPublisher()
	if err != nil {
		return
	}
	if err := pub.Refresh(ctx); err != nil {
		a.Config.logger().Warn("status lists: refresh after a status change failed", "err", err)
	}
}

// apiStatusLists serves the publisher's tokens to the api.
type apiStatusLists struct {
	pub *statuslist.Publisher
	// missed throttles the publications a request for an unpublished list
	// starts: a list opened by another process (the first issued
	// certificate, a list half full) is served before the next poll, and
	// requests for lists that do not exist cost one publication per
	// missRefreshEvery at most.
	missed *missThrottle
}

// missRefreshEvery is the least time between publications started by misses.
const missRefreshEvery = 250 * time.Millisecond

type missThrottle struct {
	mu   sync.Mutex
	last time.Time
}

func (x apiStatusLists) StatusList(id int64) (api.StatusListToken, bool) {
	p, ok := x.pub.Get(id)
	if !ok && x.missed.allow() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := x.pub.Refresh(ctx)
		cancel()
		if err == nil {
			p, ok = x.pub.Get(id)
		}
	}
	if !ok {
		return api.StatusListToken{}, false
	}
	return api.StatusListToken{Token: p.Token, ETag: p.ETag, IssuedAt: p.IssuedAt, TTL: p.TTL}, true
}

// allow reports whether a miss may start a publication now.
func (m *missThrottle) allow() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if time.Since(m.last) < missRefreshEvery {
		return false
	}
	m.last = time.Now()
	return true
}

// statusListsDeps is the api's StatusLists, nil (503) when the publisher
// cannot be built.
func (a *App) statusListsDeps() api.StatusLists {
	pub, err := a.statusPublisher()
	if err != nil {
		a.Config.logger().Error("status lists not served", "err", err)
		return nil
	}
	return apiStatusLists{pub: pub, missed: &missThrottle{}}
}

// registrySource adapts the registry to statuslist.Source.
type registrySource struct{ r *registry.Registry }

func (s registrySource) Lists(ctx context.Context) ([]statuslist.ListInfo, error) {
	ls, err := s.r.StatusLists(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]statuslist.ListInfo, len(ls))
	for i, l := range ls {
		out[i] = statuslist.ListInfo{ID: l.ID, Size: l.Size, Generation: l.Generation}
	}
	return out, nil
}

func (s registrySource) Entries(ctx context.Context, id int64) (statuslist.ListInfo, []statuslist.Entry, error) {
	l, es, err := s.r.StatusEntries(ctx, id)
	if err != nil {
		return statuslist.ListInfo{}, nil, err
	}
	out := make([]statuslist.Entry, len(es))
	for i, e := range es {
		out[i] = statuslist.Entry{Index: e.Index, Status: statuslist.Status(e.Status)}
	}
	return statuslist.ListInfo{ID: l.ID, Size: l.Size, Generation: l.Generation}, out, nil
}

// statusListVersions names the status lists published now, for a
// verification report: the registry answers each file's status, and the
// lists a verifier can fetch say the same as of their generation.
func (a *App) statusListVersions(ctx context.Context) string {
	pub, err := a.statusPublisher()
	if err != nil {
		return ""
	}
	ls, err := a.Registry.StatusLists(ctx)
	if err != nil || len(ls) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("registry consulted; published status lists:")
	for _, l := range ls {
		if p, ok := pub.Get(l.ID); ok {
			fmt.Fprintf(&b, " %s (generation %d, signed %s)", a.Config.StatusListURI(l.ID), p.Generation, p.IssuedAt.UTC().Format(time.RFC3339))
		}
	}
	return b.String()
}
