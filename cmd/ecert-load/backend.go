package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/ecert/ecert/internal/app"
)

// backend is where the seeded service keeps its data: the configuration
// the seeder opens and the flags the server is started with.
type backend struct {
	config  app.Config
	flags   []string
	env     []string // added to the server's environment
	cleanup func()
}

func newBackend(ctx context.Context, name, dir string) (backend, error) {
	quiet := app.Config{DataDir: dir, Logger: quietLogger(), VerifyBaseURL: "https://ecert.example.gov.cn/verify"}
	switch name {
	case "embedded":
		return backend{config: quiet, flags: []string{"--data-dir", dir}, cleanup: func() {}}, nil
	case "services":
		return servicesBackend(ctx, quiet)
	}
	return backend{}, fmt.Errorf("-backend %q: want embedded or services", name)
}

// servicesBackend uses the development PostgreSQL, MinIO and Redis
// (scripts/services.sh) with a fresh schema, bucket and key prefix.
func servicesBackend(ctx context.Context, c app.Config) (backend, error) {
	need := func(k string) string { return os.Getenv(k) }
	dsn, redis, minio := need("ECERT_TEST_POSTGRES_DSN"), need("ECERT_TEST_REDIS_ADDR"), need("ECERT_TEST_MINIO_ENDPOINT")
	if dsn == "" || redis == "" || minio == "" {
		return backend{}, fmt.Errorf("-backend services: set ECERT_TEST_POSTGRES_DSN, ECERT_TEST_REDIS_ADDR and ECERT_TEST_MINIO_* (source /tmp/ecert-dev-services/env)")
	}
	tag := fmt.Sprintf("load%d", time.Now().UnixNano())
	schema, err := createSchema(ctx, dsn, tag)
	if err != nil {
		return backend{}, err
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	c.Database = dsn + sep + "search_path=" + schema
	c.MinIOEndpoint, c.MinIOBucket = minio, "ecert-"+tag
	c.MinIOAccessKey, c.MinIOSecretKey = need("ECERT_TEST_MINIO_ACCESS_KEY"), need("ECERT_TEST_MINIO_SECRET_KEY")
	c.RedisAddrs, c.RedisPrefix = []string{redis}, tag+":"
	flags := []string{"--data-dir", c.DataDir, "--database", c.Database, "--minio-endpoint", minio,
		"--minio-bucket", c.MinIOBucket, "--minio-access-key", c.MinIOAccessKey,
		"--redis-addrs", redis, "--redis-prefix", c.RedisPrefix}
	drop := func() { _ = dropSchema(dsn, schema) }
	return backend{config: c, flags: flags, env: []string{"ECERT_MINIO_SECRET_KEY=" + c.MinIOSecretKey}, cleanup: drop}, nil
}

func createSchema(ctx context.Context, dsn, schema string) (string, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", fmt.Errorf("create schema: %w", err)
	}
	return schema, nil
}

func dropSchema(dsn, schema string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec("DROP SCHEMA " + schema + " CASCADE")
	return err
}
