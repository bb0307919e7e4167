// Package app is ecert's composition root: it builds every part of the
// service — registry, object store, cache, queue, keys, renderer and the
// issuance service — from one Config value, with no package state. The CLI
// and the HTTP service both start here; tests build the real thing the same
// way.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecert/ecert/certgen"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/issuance/queue"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/storage/cache"
	"github.com/ecert/ecert/storage/objectstore"
	"github.com/ecert/ecert/storage/registry"
)

// Config selects the backends and settings. Empty backend settings mean
// the embedded defaults: SQLite, files under DataDir, in-memory cache and
// queue, and a development CA.
type Config struct {
	DataDir    string // default ./data
	Database   string // PostgreSQL URL or SQLite path; default <DataDir>/ecert.db
	Extensions string // JSON file of additional policy extensions
	KeyDir     string // production keys; default <DataDir>/keys

	MinIOEndpoint, MinIOBucket, MinIOAccessKey, MinIOSecretKey string
	MinIOSecure, MinIOObjectLock                               bool
	FSSyncEachFile                                             bool
	FSSyncDelay                                                time.Duration

	RedisAddrs                              []string
	RedisMaster, RedisPassword, RedisPrefix string

	VerifyBaseURL                string // default DefaultVerifyBaseURL
	AuthorityName, AuthorityCode string
	CopyValidity                 time.Duration
	QueueReclaimAfter            time.Duration
	// BackendRetry bounds how long a case is retried while a backend is
	// unavailable (0: issuance.DefaultBackendRetry; negative: no retries).
	BackendRetry time.Duration
	// QueueConsumers is how many queue consumers this process runs (sizes
	// the Redis pool); 0 means issuance.DefaultWorkers.
	QueueConsumers int

	Logger *slog.Logger
}

// DefaultVerifyBaseURL is the public verification page the QR codes point
// at when none is configured.
const DefaultVerifyBaseURL = "https://ecert.example.gov.cn/verify"

func (c Config) dataDir() string {
	if c.DataDir == "" {
		return "./data"
	}
	return c.DataDir
}

// DSN is the registry database the configuration names.
func (c Config) DSN() string {
	if c.Database != "" {
		return c.Database
	}
	return "sqlite:" + filepath.Join(c.dataDir(), "ecert.db")
}

// KeyDirs returns the production key directory and the development one.
func (c Config) KeyDirs() (prod, dev string) {
	prod = c.KeyDir
	if prod == "" {
		prod = filepath.Join(c.dataDir(), "keys")
	}
	return prod, filepath.Join(c.dataDir(), "dev-keys")
}

// Embedded reports whether every backend is the embedded default.
func (c Config) Embedded() bool {
	return c.Database == "" && c.MinIOEndpoint == "" && len(c.RedisAddrs) == 0
}

func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// Policy returns the rules' policy: the embedded extensions plus those of
// the Extensions file.
func (c Config) Policy() (registration.Policy, error) {
	p := registration.DefaultPolicy()
	if c.Extensions == "" {
		return p, nil
	}
	f, err := os.Open(c.Extensions)
	if err != nil {
		return p, fmt.Errorf("extensions: %w", err)
	}
	defer f.Close()
	more, err := registration.LoadExtensions(f)
	if err != nil {
		return p, fmt.Errorf("extensions %s: %w", c.Extensions, err)
	}
	p.Extensions = append(p.Extensions, more...)
	return p, nil
}

// OpenRegistry opens (and migrates) the registry.
func OpenRegistry(ctx context.Context, c Config) (*registry.Registry, error) {
	return registry.Open(ctx, c.DSN(), registry.Options{})
}

// OpenStore opens the object store: MinIO, or files under <DataDir>/objects.
// The returned function releases it.
func OpenStore(ctx context.Context, c Config) (objectstore.Store, func() error, error) {
	if c.MinIOEndpoint != "" {
		bucket := c.MinIOBucket
		if bucket == "" {
			bucket = "ecert"
		}
		m, err := objectstore.NewMinIO(ctx, objectstore.MinIOConfig{
			Endpoint: c.MinIOEndpoint, Bucket: bucket, Secure: c.MinIOSecure,
			AccessKey: c.MinIOAccessKey, SecretKey: c.MinIOSecretKey, ObjectLock: c.MinIOObjectLock,
		})
		return m, func() error { return nil }, err
	}
	fs, err := objectstore.NewFilesystem(objectstore.FSConfig{Root: filepath.Join(c.dataDir(), "objects"),
		SyncEachFile: c.FSSyncEachFile, SyncDelay: c.FSSyncDelay})
	if err != nil {
		return nil, nil, err
	}
	return fs, fs.Close, nil
}

// App holds the parts of a running service; Close releases them.
type App struct {
	Config   Config
	Policy   registration.Policy
	Registry *registry.Registry
	Store    objectstore.Store
	Cache    cache.Cache
	Queue    queue.Queue
	Keys     *signing.Store
	Service  *issuance.Service
	// Metrics gathers the core's Prometheus metrics (ecert_issue_total, …).
	Metrics *prometheus.Registry
	// status publishes the signed status lists (statuslist.go).
	status  statusLists
	closers []func() error
}

// Close releases every part, in the reverse order of opening.
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		_ = a.closers[i]()
	}
}

// Open builds the service from c.
func Open(ctx context.Context, c Config) (*App, error) {
	a := &App{Config: c}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	var err error
	if a.Policy, err = c.Policy(); err != nil {
		return nil, err
	}
	if a.Registry, err = OpenRegistry(ctx, c); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.Registry.Close)
	var closeStore func() error
	if a.Store, closeStore, err = OpenStore(ctx, c); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, closeStore)
	if err := a.openCacheAndQueue(c); err != nil {
		return nil, err
	}
	if err := a.openService(ctx, c); err != nil {
		return nil, err
	}
	ok = true
	return a, nil
}

// queueOptions are the issue queue's settings: a permanent issuance failure
// is dead-lettered at once.
func queueOptions(c Config) queue.Options {
	return queue.Options{
		KeyPrefix:    c.RedisPrefix,
		ReclaimAfter: c.QueueReclaimAfter,
		Logger:       c.logger(),
		Permanent:    func(err error) bool { return errors.Is(err, issuance.ErrPermanent) },
	}
}

func (a *App) openCacheAndQueue(c Config) error {
	qopt := queueOptions(c)
	var err error
	if len(c.RedisAddrs) == 0 {
		a.Cache = cache.NewMemory(cache.MemoryConfig{})
		if a.Queue, err = queue.NewMemory(qopt); err != nil {
			return err
		}
		a.closers = append(a.closers, a.Queue.Close)
		return nil
	}
	rc, err := cache.NewRedis(cache.RedisConfig{Addrs: c.RedisAddrs, MasterName: c.RedisMaster,
		Password: c.RedisPassword, KeyPrefix: c.RedisPrefix, PoolSize: redisPoolSize(c, a.Store)})
	if err != nil {
		return err
	}
	a.Cache = rc
	a.closers = append(a.closers, rc.Close)
	// The queue shares the cache's connection pool (go-redis extends the
	// read timeout of blocking stream reads by their block time).
	if a.Queue, err = queue.NewRedis(rc.Client(), qopt); err != nil {
		return err
	}
	a.closers = append(a.closers, a.Queue.Close)
	return nil
}

// redisPoolSize is the Redis connection pool: go-redis's usual 10 per core
// for the cache and the queue's short commands, plus one per queue
// consumer, because a consumer waiting for jobs holds its connection for
// the queue's block time; without them idle consumers time out waiting
// for the pool. Connections are opened when needed, so an unused maximum
// costs nothing.
func redisPoolSize(c Config, store objectstore.Store) int {
	n := c.QueueConsumers
	if n <= 0 {
		n = issuance.DefaultWorkers(store)
	}
	return 10*runtime.GOMAXPROCS(0) + n
}

func (a *App) openService(ctx context.Context, c Config) error {
	log := c.logger()
	prod, dev := c.KeyDirs()
	var err error
	if a.Keys, err = signing.Open(ctx, prod, dev, log); err != nil {
		return err
	}
	signer, err := a.Keys.Signer()
	if err != nil {
		return err
	}
	base := c.VerifyBaseURL
	if base == "" {
		base = DefaultVerifyBaseURL
	}
	rnd, err := certgen.NewDefault(certgen.Options{VerifyBaseURL: strings.TrimRight(base, "/")})
	if err != nil {
		return err
	}
	auth := issuance.DefaultAuthority
	if c.AuthorityName != "" {
		auth.Name = c.AuthorityName
	}
	if c.AuthorityCode != "" {
		auth.Code = c.AuthorityCode
	}
	a.Metrics = prometheus.NewRegistry()
	a.Service, err = issuance.New(ctx, issuance.Config{Authority: auth, CopyValidity: c.CopyValidity, Policy: a.Policy,
		Logger: log, BackendRetry: c.BackendRetry},
		issuance.Deps{Registry: a.Registry, Store: a.Store, Cache: a.Cache, Renderer: rnd, Signer: signer,
			Metrics: issuance.NewMetrics(a.Metrics)})
	return err
}
