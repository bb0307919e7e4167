package cache

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ecert/ecert/internal/redisutil"
)

// RedisConfig configures the Redis cache. The topology follows the fields:
// MasterName set → Sentinel (Addrs are the sentinels); several Addrs or
// Cluster → Redis Cluster; otherwise a single node. Zero values take the
// documented defaults; NewRedis names the first bad field.
type RedisConfig struct {
	// Addrs are host:port addresses of the node, the cluster seeds or the sentinels.
	Addrs []string
	// MasterName is the Sentinel master name; setting it selects Sentinel.
	MasterName string
	// Cluster selects Redis Cluster even with a single seed address.
	Cluster bool
	// Username and Password authenticate to Redis (never logged).
	Username, Password string
	// SentinelPassword authenticates to the sentinels, if they need it.
	SentinelPassword string
	// DB is the database number (single node and Sentinel only).
	DB int
	// TLS, if set, is used for every connection.
	TLS *tls.Config
	// KeyPrefix is put before every key (default "ecert:"), so that several
	// deployments or applications can share one Redis.
	KeyPrefix string

	// DialTimeout bounds connecting (default 500 ms).
	DialTimeout time.Duration
	// ReadTimeout and WriteTimeout bound each command's socket I/O
	// (default 500 ms each).
	ReadTimeout, WriteTimeout time.Duration
	// PoolTimeout bounds the wait for a free connection when all are busy
	// (default 1 s).
	PoolTimeout time.Duration
	// PoolSize is the number of connections per node (default: go-redis's,
	// 10 per CPU). It also bounds the goroutines blocked on Redis.
	PoolSize int
	// MaxRetries is how often a command failing with a network error is
	// retried (default 1; -1 disables retries).
	MaxRetries int
}

func (c *RedisConfig) setDefaults() error {
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("cache: RedisConfig.%s: %s", field, fmt.Sprintf(format, a...))
	}
	if len(c.Addrs) == 0 {
		return bad("Addrs", "at least one host:port required")
	}
	for _, a := range c.Addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return bad("Addrs", "%q is not host:port", a)
		}
	}
	if c.DB < 0 {
		return bad("DB", "%d is negative", c.DB)
	}
	if c.DB != 0 && c.MasterName == "" && (c.Cluster || len(c.Addrs) > 1) {
		return bad("DB", "Redis Cluster has only database 0")
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = "ecert:"
	}
	if len(c.KeyPrefix) > 64 {
		return bad("KeyPrefix", "longer than 64 bytes")
	}
	for name, d := range map[string]*time.Duration{"DialTimeout": &c.DialTimeout, "ReadTimeout": &c.ReadTimeout, "WriteTimeout": &c.WriteTimeout, "PoolTimeout": &c.PoolTimeout} {
		if *d < 0 {
			return bad(name, "%v is negative", *d)
		}
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 500 * time.Millisecond
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 500 * time.Millisecond
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 500 * time.Millisecond
	}
	if c.PoolTimeout == 0 {
		c.PoolTimeout = time.Second
	}
	if c.PoolSize < 0 {
		return bad("PoolSize", "%d is negative", c.PoolSize)
	}
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = 1
	case c.MaxRetries < -1:
		return bad("MaxRetries", "%d: use -1 to disable retries", c.MaxRetries)
	}
	return nil
}

// Redis is a cache in Redis, shared by every replica of the service.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

var _ Cache = (*Redis)(nil)

// NewRedis returns a Redis cache. It does not contact Redis: a server that
// is down at start makes calls fail with ErrUnavailable (see Ready), and the
// client reconnects by itself when the server comes back.
func NewRedis(cfg RedisConfig) (*Redis, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	client := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:              cfg.Addrs,
		MasterName:         cfg.MasterName,
		IsClusterMode:      cfg.Cluster,
		Username:           cfg.Username,
		Password:           cfg.Password,
		SentinelPassword:   cfg.SentinelPassword,
		DB:                 cfg.DB,
		TLSConfig:          cfg.TLS,
		DialTimeout:        cfg.DialTimeout,
		DialerRetries:      1,
		DialerRetryTimeout: 50 * time.Millisecond,
		ReadTimeout:        cfg.ReadTimeout,
		WriteTimeout:       cfg.WriteTimeout,
		PoolTimeout:        cfg.PoolTimeout,
		PoolSize:           cfg.PoolSize,
		MaxRetries:         cfg.MaxRetries,
		MinRetryBackoff:    8 * time.Millisecond,
		MaxRetryBackoff:    100 * time.Millisecond,
	})
	return &Redis{client: client, prefix: cfg.KeyPrefix}, nil
}

// Close closes the connections.
func (r *Redis) Close() error { return r.client.Close() }

// Client returns the underlying client (for the issue queue, which shares
// the connection settings).
func (r *Redis) Client() redis.UniversalClient { return r.client }

// Get implements Cache.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	b, err := r.client.Get(ctx, r.prefix+key).Bytes()
	if err != nil {
		return nil, mapRedisErr("get", err)
	}
	return b, nil
}

// Set implements Cache.
func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := checkSet(key, value, ttl); err != nil {
		return err
	}
	if err := r.client.Set(ctx, r.prefix+key, value, ttl).Err(); err != nil {
		return mapRedisErr("set", err)
	}
	return nil
}

// SetNX implements Cache.
func (r *Redis) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if err := checkSet(key, value, ttl); err != nil {
		return false, err
	}
	ok, err := r.client.SetNX(ctx, r.prefix+key, value, ttl).Result()
	if err != nil {
		return false, mapRedisErr("setnx", err)
	}
	return ok, nil
}

// compareAndDelete deletes KEYS[1] only if it holds ARGV[1], atomically.
var compareAndDelete = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// CompareAndDelete implements Cache with a Lua script, so that the check
// and the delete cannot be separated by another client's write.
func (r *Redis) CompareAndDelete(ctx context.Context, key string, value []byte) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	n, err := compareAndDelete.Run(ctx, r.client, []string{r.prefix + key}, value).Int()
	if err != nil {
		return false, mapRedisErr("compare-and-delete", err)
	}
	return n == 1, nil
}

// Delete implements Cache.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := r.client.Del(ctx, r.prefix+key).Err(); err != nil {
		return mapRedisErr("delete", err)
	}
	return nil
}

// Ready implements Cache: Redis answers PING.
func (r *Redis) Ready(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return mapRedisErr("ping", err)
	}
	return nil
}

// mapRedisErr turns go-redis errors into this package's sentinels (keeping
// the original in the chain). Keys are not named: they carry certificate
// numbers, which are fine, but callers add context themselves.
func mapRedisErr(op string, err error) error {
	if errors.Is(err, redis.Nil) {
		return ErrMiss
	}
	if redisutil.IsUnavailable(err) {
		return fmt.Errorf("cache: redis %s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("cache: redis %s: %w", op, err)
}
