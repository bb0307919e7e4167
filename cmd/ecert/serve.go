package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/ecert/ecert/api"
	"github.com/ecert/ecert/examples"
	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/internal/app"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
)

// serveFlags are the flags of ecert serve.
var serveFlags struct {
	addr, portalKey, issuer, audience, baseURL string
	pprofAddr                                  string
	apiKeys, trustedProxies                    []string
	workers                                    int
	expireEvery, shutdownGrace                 time.Duration
	ratePerSecond                              float64
	rateBurst                                  int
}

func init() {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP service: approvals from the portal, applicants' downloads and 加注, public verification",
		Long: `Serves the API under /api/v1 (see docs/api.md and /api/v1/openapi.json), issues queued
cases with in-process workers and runs automatic cancellation on a schedule.

On the embedded defaults (no --database, --minio-endpoint or --redis-addrs, and
no --portal-public-key) it stands in for the portal with a development key
and API key under <data-dir>/dev-portal, loads the demo approvals when the
registry is empty, and prints the URLs to open and a development token.
In production set --portal-public-key, --token-issuer, --token-audience and
--api-key (name:sha256-hex of the secret; or ECERT_API_KEY, comma-separated).`,
		Args: cobra.NoArgs,
		RunE: runServe,
	}
	f := cmd.Flags()
	f.StringVar(&serveFlags.addr, "addr", "127.0.0.1:8080", "listen address HOST:PORT")
	f.StringVar(&serveFlags.pprofAddr, "pprof-addr", "", "serve Go's profiler (net/http/pprof) on this loopback address, e.g. 127.0.0.1:6060; empty: off")
	f.StringVar(&serveFlags.portalKey, "portal-public-key", "", "PEM file of the portal's token-signing public keys (SM2 or P-256)")
	f.StringVar(&serveFlags.issuer, "token-issuer", "", "required iss of applicants' tokens")
	f.StringVar(&serveFlags.audience, "token-audience", "", "required aud of applicants' tokens")
	f.StringSliceVar(&serveFlags.apiKeys, "api-key", nil, "portal/reviewer API key as name:sha256-hex of its secret (repeatable)")
	f.StringVar(&serveFlags.baseURL, "base-url", "", "public base URL of this service, for links in responses (default: relative links)")
	f.StringSliceVar(&serveFlags.trustedProxies, "trusted-proxy", nil, "addresses whose X-Forwarded-For is believed (repeatable)")
	f.IntVar(&serveFlags.workers, "workers", 0, "in-process issuing workers"+workersHelp+"; negative: none (run `ecert worker` instead)")
	f.DurationVar(&serveFlags.expireEvery, "expire-every", time.Hour, "run automatic cancellation this often; 0 disables")
	f.DurationVar(&serveFlags.shutdownGrace, "shutdown-grace", 30*time.Second, "how long in-flight requests may take to finish on shutdown")
	f.Float64Var(&serveFlags.ratePerSecond, "rate-limit", 5, "public requests per second per client address")
	f.IntVar(&serveFlags.rateBurst, "rate-burst", 20, "burst of public requests per client address")
	rootCmd.AddCommand(cmd)
}

func runServe(cmd *cobra.Command, _ []string) error {
	ctx := cmd.Context()
	log := slog.Default()
	cfg, dev, err := serveConfig(log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", serveFlags.addr)
	if err != nil {
		return err
	}
	c := conf
	if dev != nil && !cmd.Flags().Changed("verify-base-url") {
		// The demo's QR codes open this service's verification page.
		c.VerifyBaseURL = "http://" + ln.Addr().String() + "/verify"
	}
	a, err := openApp(ctx, c)
	if err != nil {
		ln.Close()
		return err
	}
	defer a.Close()
	srv, err := api.New(cfg, a.APIDeps())
	if err != nil {
		return err
	}
	hs := api.NewHTTPServer(ln.Addr().String(), srv.Handler(), cfg)
	var wg sync.WaitGroup
	bg, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer func() { stopBackground(); wg.Wait() }()
	if err := startBackground(bg, &wg, a, log); err != nil {
		return err
	}
	if dev != nil {
		if err := serveDemo(ctx, cmd.OutOrStdout(), a, dev, ln.Addr().String()); err != nil {
			return err
		}
	}
	if err := startProfiler(serveFlags.pprofAddr, log); err != nil {
		return err
	}
	log.Info("serving", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "grace", serveFlags.shutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), serveFlags.shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// startBackground runs the issuing workers and the automatic-cancellation
// schedule until bg ends; a job under way when it ends is returned to the
// queue by the queue.
func startBackground(bg context.Context, wg *sync.WaitGroup, a *app.App, log *slog.Logger) error {
	if serveFlags.workers >= 0 {
		n, err := issueWorkers("--workers", serveFlags.workers, a)
		if err != nil {
			return err
		}
		wg.Go(func() {
			if err := issuance.RunWorkers(bg, a.Queue, a.Service, n, log, nil); err != nil && bg.Err() == nil {
				log.Error("issuing workers stopped", "err", err)
			}
		})
	}
	if serveFlags.expireEvery > 0 {
		wg.Go(func() { issuance.RunExpiryEvery(bg, a.Cache, a.Registry, a.Policy, serveFlags.expireEvery, log) })
	}
	return nil
}

// serveConfig is the HTTP layer's configuration: production keys from the
// flags, or the development portal on the embedded defaults.
func serveConfig(log *slog.Logger) (api.Config, *app.DevPortal, error) {
	cfg := api.Config{BaseURL: strings.TrimRight(serveFlags.baseURL, "/"), TrustedProxies: serveFlags.trustedProxies,
		RateLimit: api.RateLimit{PerSecond: serveFlags.ratePerSecond, Burst: serveFlags.rateBurst}, Logger: log}
	for _, k := range serveFlags.apiKeys {
		key, err := api.ParseAPIKey(k)
		if err != nil {
			return cfg, nil, fmt.Errorf("--api-key: %w", err)
		}
		cfg.APIKeys = append(cfg.APIKeys, key)
	}
	if serveFlags.portalKey != "" {
		pem, err := os.ReadFile(serveFlags.portalKey)
		if err != nil {
			return cfg, nil, fmt.Errorf("--portal-public-key: %w", err)
		}
		if serveFlags.issuer == "" || serveFlags.audience == "" {
			return cfg, nil, errors.New("--token-issuer and --token-audience are required with --portal-public-key")
		}
		cfg.Tokens = api.TokenConfig{PublicKeysPEM: pem, Issuer: serveFlags.issuer, Audience: serveFlags.audience}
		if len(cfg.APIKeys) == 0 {
			return cfg, nil, errors.New("--api-key: at least one is required in production")
		}
		return cfg, nil, nil
	}
	if !conf.Embedded() {
		return cfg, nil, errors.New("--portal-public-key is required with production backends (the development portal runs only on the embedded defaults)")
	}
	dev, err := app.OpenDevPortal(conf.DataDir)
	if err != nil {
		return cfg, nil, err
	}
	log.Warn(app.DevPortalWarning, "dir", dev.Dir)
	cfg.Tokens = dev.TokenConfig()
	cfg.APIKeys = append(cfg.APIKeys, api.NewAPIKey("dev-portal", dev.APIKey))
	return cfg, dev, nil
}

// serveDemo loads the demo approvals into an empty registry (issued by the
// workers) and prints where to start.
func serveDemo(ctx context.Context, out io.Writer, a *app.App, dev *app.DevPortal, addr string) error {
	counts, err := a.Registry.Counts(ctx)
	if err != nil {
		return err
	}
	holder := demoHolder()
	if counts["cases"] == 0 {
		fresh := demoFresh()
		var buf bytes.Buffer
		buf.Write(examples.Approvals)
		enc := json.NewEncoder(&buf)
		for _, r := range fresh {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		enqueue := func(ctx context.Context, id string) error { return a.Queue.Enqueue(ctx, id, nil) }
		n := 0
		err := issuance.Ingest(ctx, a.Registry, &buf, issuance.IngestOptions{Batch: 500, Enqueue: enqueue}, func(l issuance.IngestedLine) error {
			if l.Queued {
				n++
			}
			return nil
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "loaded the demo approvals: %d cases queued for issuance\n", n)
	}
	token, err := dev.Token(holder, false, 12*time.Hour)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(dev.APIKey))
	base := "http://" + addr
	fmt.Fprintf(out, `
ecert is serving on %[1]s (embedded defaults, development portal — not for production)

  API description   %[1]s/api/v1/openapi.json
  health            %[1]s/healthz   %[1]s/readyz
  applicant         curl -H 'Authorization: Bearer %[2]s' %[1]s/api/v1/me/certificates
  press 加注         curl -X POST -H 'Authorization: Bearer %[2]s' '%[1]s/api/v1/me/certificates/NO/restamp?format=pdf&purpose=投标'
  verify a file     curl -F file=@certificate.pdf %[1]s/api/v1/verify
  portal API key    %[3]s (sha256 %[4]s; in %[5]s)

The token above names the demo applicant %[6]s for 12 hours; mint others with
  ecert token --holder ID [--enterprise]
`, base, token, dev.APIKey, hex.EncodeToString(sum[:8]), dev.Dir, registration.MaskID(holder))
	return nil
}

// demoFresh are the demo approvals dated relative to today (the shipped
// examples age), as the demo command issues them.
func demoFresh() []intake.Approval {
	fresh := sampledata.Generate(5, sampledata.Options{Seed: 2026, Prefix: "DEMO", Base: registration.Today(time.Now()).AddDays(-60)})
	for i := range fresh {
		fresh[i].BusinessType, fresh[i].NoticeEnd = registration.Change, registration.Date{}
	}
	return fresh
}

// demoHolder is the applicant of the first fresh demo approval.
func demoHolder() string { return demoFresh()[0].Person.IDNumber }

// startProfiler serves net/http/pprof on addr, which must be a loopback
// address: profiles show internals no client should see.
func startProfiler(addr string, log *slog.Logger) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--pprof-addr %q: want a loopback HOST:PORT", addr)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("profiler stopped", "err", err)
		}
	}()
	log.Info("profiler listening", "addr", addr)
	return nil
}
