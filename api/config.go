package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ecert/ecert/batchverify"
)

// APIKey is one portal or reviewer key. Only its SHA-256 is kept.
type APIKey struct {
	Name string // who holds it; recorded as the actor in the audit log
	Hash [sha256.Size]byte
}

// NewAPIKey returns the configuration entry for a secret.
func NewAPIKey(name, secret string) APIKey {
	return APIKey{Name: name, Hash: sha256.Sum256([]byte(secret))}
}

// ParseAPIKey reads "name:sha256-hex", the form keys are configured in.
func ParseAPIKey(s string) (APIKey, error) {
	name, h, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return APIKey{}, errors.New("api key: want name:sha256-hex")
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return APIKey{}, fmt.Errorf("api key %s: want 64 hex digits of SHA-256", name)
	}
	k := APIKey{Name: name}
	copy(k.Hash[:], b)
	return k, nil
}

// RateLimit bounds public requests per client IP.
type RateLimit struct {
	PerSecond float64 // default 5
	Burst     int     // default 20
	// MaxClients bounds the limiter table; the least recently seen client
	// is evicted beyond it (default 10000).
	MaxClients int
}

// Config configures the HTTP layer. The zero value of every field but
// Tokens and APIKeys has a working default (see withDefaults).
type Config struct {
	// APIKeys are accepted from the portal and reviewers.
	APIKeys []APIKey
	// Tokens verifies applicants' bearer tokens.
	Tokens TokenConfig
	// BaseURL prefixes links in responses ("" : links are relative).
	BaseURL string

	RateLimit RateLimit
	// TrustedProxies are the addresses whose X-Forwarded-For is believed
	// when telling clients apart (none by default: the peer address).
	TrustedProxies []string

	MaxApprovalsBytes int64 // POST /approvals body, default 64 MiB
	MaxUploadBytes    int64 // POST /verify file, default 10 MiB
	MaxJSONBytes      int64 // other request bodies, default 64 KiB

	// Batch bounds POST /verify/batch: files, total bytes, zip entries
	// (batchverify defaults; each file at most MaxUploadBytes).
	Batch batchverify.Limits

	// RequestTimeout bounds ordinary requests' work in the core (default 30 s).
	RequestTimeout time.Duration
	// RestampTimeout bounds one re-stamp, detached from the client (default 60 s).
	RestampTimeout time.Duration
	// ApprovalsTimeout bounds one approvals stream (default 30 min).
	ApprovalsTimeout time.Duration

	Server ServerTimeouts

	// Logger receives the access and audit log (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// ServerTimeouts configure NewHTTPServer.
type ServerTimeouts struct {
	ReadHeaderTimeout time.Duration // default 5 s
	ReadTimeout       time.Duration // default 60 s (uploads)
	WriteTimeout      time.Duration // default 60 s
	IdleTimeout       time.Duration // default 120 s
	MaxHeaderBytes    int           // default 16 KiB
}

func (c Config) withDefaults() Config {
	def := func(p *int64, v int64) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&c.MaxApprovalsBytes, 64<<20)
	def(&c.MaxUploadBytes, 10<<20)
	if c.Batch.MaxFileBytes <= 0 {
		c.Batch.MaxFileBytes = c.MaxUploadBytes
	}
	c.Batch = c.Batch.Defaults()
	def(&c.MaxJSONBytes, 64<<10)
	durations := []struct {
		p *time.Duration
		v time.Duration
	}{
		{&c.RequestTimeout, 30 * time.Second}, {&c.RestampTimeout, 60 * time.Second},
		{&c.ApprovalsTimeout, 30 * time.Minute},
	}
	for _, d := range durations {
		if *d.p <= 0 {
			*d.p = d.v
		}
	}
	if c.RateLimit.PerSecond <= 0 {
		c.RateLimit.PerSecond = 5
	}
	if c.RateLimit.Burst <= 0 {
		c.RateLimit.Burst = 20
	}
	if c.RateLimit.MaxClients <= 0 {
		c.RateLimit.MaxClients = 10000
	}
	c.Server = c.Server.withDefaults()
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	return c
}

func (t ServerTimeouts) withDefaults() ServerTimeouts {
	durations := []struct {
		p *time.Duration
		v time.Duration
	}{
		{&t.ReadHeaderTimeout, 5 * time.Second}, {&t.ReadTimeout, 60 * time.Second},
		{&t.WriteTimeout, 60 * time.Second}, {&t.IdleTimeout, 120 * time.Second},
	}
	for _, d := range durations {
		if *d.p <= 0 {
			*d.p = d.v
		}
	}
	if t.MaxHeaderBytes <= 0 {
		t.MaxHeaderBytes = 16 << 10
	}
	return t
}

// NewHTTPServer returns a server for handler with the configured timeouts
// and header limit. Routes that stream for longer (POST /approvals) extend
// their own deadlines with http.ResponseController.
func NewHTTPServer(addr string, handler http.Handler, cfg Config) *http.Server {
	t := cfg.Server.withDefaults()
	return &http.Server{
		Addr:              addr,
		Handler:           handler,
		ReadHeaderTimeout: t.ReadHeaderTimeout,
		ReadTimeout:       t.ReadTimeout,
		WriteTimeout:      t.WriteTimeout,
		IdleTimeout:       t.IdleTimeout,
		MaxHeaderBytes:    t.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(cfg.logger().Handler(), slog.LevelWarn),
	}
}

func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}
