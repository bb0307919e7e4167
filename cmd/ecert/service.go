package main

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

	"github.com/spf13/cobra"

	"github.com/ecert/ecert/certgen"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/issuance/queue"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/storage/cache"
	"github.com/ecert/ecert/storage/objectstore"
	"github.com/ecert/ecert/storage/registry"
)

// backendConfig selects the production backends; empty values mean the
// embedded defaults (files under --data-dir, in-memory cache and queue).
type backendConfig struct {
	MinIOEndpoint, MinIOBucket, MinIOAccessKey, MinIOSecretKey string
	MinIOSecure, MinIOObjectLock                               bool
	FSSyncEachFile                                             bool
	FSSyncDelay                                                time.Duration
	RedisAddrs                                                 []string
	RedisMaster, RedisPassword, RedisPrefix                    string
	VerifyBaseURL                                              string
	AuthorityName, AuthorityCode                               string
	CopyValidity                                               time.Duration
	QueueReclaimAfter                                          time.Duration
	BackendRetry                                               time.Duration
}

var backends backendConfig

func init() {
	pf := rootCmd.PersistentFlags()
	pf.StringVar(&backends.MinIOEndpoint, "minio-endpoint", "", "MinIO/S3 host:port for certificate files (default: files under <data-dir>/objects)")
	pf.StringVar(&backends.MinIOBucket, "minio-bucket", "ecert", "MinIO bucket (created with versioning if missing)")
	pf.StringVar(&backends.MinIOAccessKey, "minio-access-key", "", "MinIO access key")
	pf.StringVar(&backends.MinIOSecretKey, "minio-secret-key", "", "MinIO secret key (prefer ECERT_MINIO_SECRET_KEY)")
	pf.BoolVar(&backends.MinIOSecure, "minio-secure", false, "use HTTPS to MinIO")
	pf.BoolVar(&backends.MinIOObjectLock, "minio-object-lock", false, "create the bucket with object lock; originals get governance-mode retention")
	pf.BoolVar(&backends.FSSyncEachFile, "fs-sync-each-file", false, "without MinIO: fsync each stored file and directory instead of one shared syncfs per batch of writes (for a data directory on a busy shared filesystem)")
	pf.DurationVar(&backends.FSSyncDelay, "fs-sync-delay", objectstore.DefaultSyncDelay, "without MinIO: how long a shared syncfs waits for more writes to join it (negative: none); longer means fewer syncs under load and slower lone writes")
	pf.StringSliceVar(&backends.RedisAddrs, "redis-addrs", nil, "Redis host:port list (single node, cluster seeds, or sentinels with --redis-master); default: in-memory cache and queue")
	pf.StringVar(&backends.RedisMaster, "redis-master", "", "Redis Sentinel master name")
	pf.StringVar(&backends.RedisPassword, "redis-password", "", "Redis password (prefer ECERT_REDIS_PASSWORD)")
	pf.StringVar(&backends.RedisPrefix, "redis-prefix", "ecert:", "prefix of every Redis key")
	pf.StringVar(&backends.VerifyBaseURL, "verify-base-url", "https://ecert.example.gov.cn/verify", "public verification URL encoded in QR codes")
	pf.StringVar(&backends.AuthorityName, "authority-name", issuance.DefaultAuthority.Name, "issuing authority (发证机关) printed on certificates")
	pf.StringVar(&backends.AuthorityCode, "authority-code", issuance.DefaultAuthority.Code, "issuing authority's unified social credit code (issuer code of licence identifiers)")
	pf.DurationVar(&backends.QueueReclaimAfter, "queue-reclaim-after", 30*time.Second, "how long a job held by a silent worker waits before another worker takes it over")
	pf.DurationVar(&backends.BackendRetry, "backend-retry", issuance.DefaultBackendRetry, "how long a case is retried while the registry or MinIO is unavailable (exponential backoff with jitter; 0: no retries)")
	pf.DurationVar(&backends.CopyValidity, "copy-validity", 180*24*time.Hour, "usage validity of a re-stamped copy (使用有效期)")
}

// app holds the parts of a running service; Close releases them.
type app struct {
	reg    *registry.Registry
	store  objectstore.Store
	cache  cache.Cache
	queue  queue.Queue
	keys   *signing.Store
	svc    *issuance.Service
	closer []func() error
}

func (a *app) Close() {
	for i := len(a.closer) - 1; i >= 0; i-- {
		_ = a.closer[i]()
	}
}

// queueConsumers is how many queue consumers this process will run: set by
// `ecert worker` from --concurrency before openApp; 0 means the store's
// default (issuance.DefaultWorkers).
var queueConsumers int

// redisPoolSize is the Redis connection pool: go-redis's usual 10 per core
// for the cache and the queue's short commands, plus one per queue
// consumer, because a consumer waiting for jobs holds its connection for
// the queue's block time. Without them, 128 idle consumers on 20
// connections timed out waiting for the pool (218 warnings in 15 s).
// Connections are opened when needed, so an unused maximum costs nothing.
func redisPoolSize(store objectstore.Store) int {
	n := queueConsumers
	if n <= 0 {
		n = issuance.DefaultWorkers(store)
	}
	return 10*runtime.GOMAXPROCS(0) + n
}

// openApp builds the service from the configured (or embedded default) backends.
func openApp(ctx context.Context, cmd *cobra.Command) (*app, error) {
	log := slog.Default()
	a := &app{}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	var err error
	if a.reg, err = openRegistry(ctx); err != nil {
		return nil, err
	}
	a.closer = append(a.closer, a.reg.Close)

	var closeStore func() error
	if a.store, closeStore, err = openStore(ctx); err != nil {
		return nil, err
	}
	a.closer = append(a.closer, closeStore)

	if len(backends.RedisAddrs) > 0 {
		rc, err := cache.NewRedis(cache.RedisConfig{Addrs: backends.RedisAddrs, MasterName: backends.RedisMaster,
			Password: backends.RedisPassword, KeyPrefix: backends.RedisPrefix, PoolSize: redisPoolSize(a.store)})
		if err != nil {
			return nil, err
		}
		a.cache = rc
		a.closer = append(a.closer, rc.Close)
		// The queue shares the cache's connection pool (go-redis extends the
		// read timeout of blocking stream reads by their block time).
		if a.queue, err = queue.NewRedis(rc.Client(), queueOptions(log)); err != nil {
			return nil, err
		}
	} else {
		a.cache = cache.NewMemory(cache.MemoryConfig{})
		if a.queue, err = queue.NewMemory(queueOptions(log)); err != nil {
			return nil, err
		}
	}
	a.closer = append(a.closer, a.queue.Close)

	if a.keys, err = signing.Open(ctx, keyDir(), devKeyDir(), log); err != nil {
		return nil, err
	}
	signer, err := a.keys.Signer()
	if err != nil {
		return nil, err
	}
	rnd, err := certgen.NewDefault(certgen.Options{VerifyBaseURL: strings.TrimRight(backends.VerifyBaseURL, "/")})
	if err != nil {
		return nil, err
	}
	policy, err := global.policy()
	if err != nil {
		return nil, err
	}
	auth := issuance.DefaultAuthority
	auth.Name, auth.Code = backends.AuthorityName, backends.AuthorityCode
	a.svc, err = issuance.New(ctx, issuance.Config{Authority: auth, CopyValidity: backends.CopyValidity, Policy: policy, Logger: log,
		BackendRetry: backendRetry(backends.BackendRetry)},
		issuance.Deps{Registry: a.reg, Store: a.store, Cache: a.cache, Renderer: rnd, Signer: signer})
	if err != nil {
		return nil, err
	}
	ok = true
	return a, nil
}

// backendRetry maps --backend-retry to issuance.Config.BackendRetry: the flag's 0
// turns retries off, which the Config spells as a negative value (its zero is the default).
func backendRetry(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}

// openStore opens the configured object store: MinIO, or files under
// <data-dir>/objects.
func openStore(ctx context.Context) (objectstore.Store, func() error, error) {
	if backends.MinIOEndpoint != "" {
		m, err := objectstore.NewMinIO(ctx, objectstore.MinIOConfig{
			Endpoint: backends.MinIOEndpoint, Bucket: backends.MinIOBucket, Secure: backends.MinIOSecure,
			AccessKey: backends.MinIOAccessKey, SecretKey: backends.MinIOSecretKey, ObjectLock: backends.MinIOObjectLock,
		})
		return m, func() error { return nil }, err
	}
	fs, err := objectstore.NewFilesystem(objectstore.FSConfig{Root: filepath.Join(global.DataDir, "objects"),
		SyncEachFile: backends.FSSyncEachFile, SyncDelay: backends.FSSyncDelay})
	if err != nil {
		return nil, nil, err
	}
	return fs, fs.Close, nil
}

func queueOptions(log *slog.Logger) queue.Options {
	return queue.Options{
		KeyPrefix:    backends.RedisPrefix,
		ReclaimAfter: backends.QueueReclaimAfter,
		Logger:       log,
		Permanent:    func(err error) bool { return errors.Is(err, issuance.ErrPermanent) },
	}
}

// consumerName is unique per process and worker goroutine.
func consumerName(i int) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%d", host, os.Getpid(), i)
}
