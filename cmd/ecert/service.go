package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/ecert/ecert/internal/app"

	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/storage/objectstore"
)

func init() {
	pf := rootCmd.PersistentFlags()
	pf.StringVar(&conf.KeyDir, "key-dir", "", "production key store directory (default <data-dir>/keys)")
	pf.StringVar(&conf.MinIOEndpoint, "minio-endpoint", "", "MinIO/S3 host:port for certificate files (default: files under <data-dir>/objects)")
	pf.StringVar(&conf.MinIOBucket, "minio-bucket", "ecert", "MinIO bucket (created with versioning if missing)")
	pf.StringVar(&conf.MinIOAccessKey, "minio-access-key", "", "MinIO access key")
	pf.StringVar(&conf.MinIOSecretKey, "minio-secret-key", "", "MinIO secret key (prefer ECERT_MINIO_SECRET_KEY)")
	pf.BoolVar(&conf.MinIOSecure, "minio-secure", false, "use HTTPS to MinIO")
	pf.BoolVar(&conf.MinIOObjectLock, "minio-object-lock", false, "create the bucket with object lock; originals get governance-mode retention")
	pf.BoolVar(&conf.FSSyncEachFile, "fs-sync-each-file", false, "without MinIO: fsync each stored file and directory instead of one shared syncfs per batch of writes (for a data directory on a busy shared filesystem)")
	pf.DurationVar(&conf.FSSyncDelay, "fs-sync-delay", objectstore.DefaultSyncDelay, "without MinIO: how long a shared syncfs waits for more writes to join it (negative: none); longer means fewer syncs under load and slower lone writes")
	pf.StringSliceVar(&conf.RedisAddrs, "redis-addrs", nil, "Redis host:port list (single node, cluster seeds, or sentinels with --redis-master); default: in-memory cache and queue")
	pf.StringVar(&conf.RedisMaster, "redis-master", "", "Redis Sentinel master name")
	pf.StringVar(&conf.RedisPassword, "redis-password", "", "Redis password (prefer ECERT_REDIS_PASSWORD)")
	pf.StringVar(&conf.RedisPrefix, "redis-prefix", "ecert:", "prefix of every Redis key")
	pf.StringVar(&conf.VerifyBaseURL, "verify-base-url", app.DefaultVerifyBaseURL, "public verification URL encoded in QR codes")
	pf.StringVar(&conf.AuthorityName, "authority-name", issuance.DefaultAuthority.Name, "issuing authority (发证机关) printed on certificates")
	pf.StringVar(&conf.AuthorityCode, "authority-code", issuance.DefaultAuthority.Code, "issuing authority's unified social credit code (issuer code of licence identifiers)")
	pf.DurationVar(&conf.QueueReclaimAfter, "queue-reclaim-after", 30*time.Second, "how long a job held by a silent worker waits before another worker takes it over")
	pf.DurationVar(&conf.BackendRetry, "backend-retry", issuance.DefaultBackendRetry, "how long a case is retried while the registry or MinIO is unavailable (exponential backoff with jitter; 0: no retries)")
	pf.DurationVar(&conf.CopyValidity, "copy-validity", 180*24*time.Hour, "usage validity of a re-stamped copy (使用有效期)")
}

// openApp builds the service from c, the flags' configuration or a copy of
// it a command adjusted (e.g. the worker's consumer count).
func openApp(ctx context.Context, c app.Config) (*app.App, error) {
	c.Logger = slog.Default()
	c.BackendRetry = backendRetry(c.BackendRetry)
	return app.Open(ctx, c)
}

// backendRetry maps --backend-retry to issuance.Config.BackendRetry: the flag's 0
// turns retries off, which the Config spells as a negative value (its zero is the default).
func backendRetry(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}

// openStore opens the configured object store.
func openStore(ctx context.Context) (objectstore.Store, func() error, error) {
	return app.OpenStore(ctx, conf)
}
