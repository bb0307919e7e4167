// Command ecert-load measures the HTTP service under load on loopback: it
// issues certificates into a fresh registry, starts `ecert serve` on them
// as a separate process (so the server's CPU is told apart from the
// generator's), and runs four scenarios — cached re-stamps, verification
// by licence id and fetches of the signed status list at a constant
// request rate (open loop), and upload verification of issued PDFs with a
// fixed number of clients.
// It is a development tool (make load); it never points at anything but
// the server it started.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"
)

type options struct {
	pprof            string
	ecert, backend   string
	certs, clients   int
	rate             float64
	duration, settle time.Duration
	warmup           time.Duration
	runs             int
	keep             bool
}

func main() {
	var o options
	flag.StringVar(&o.ecert, "ecert", "bin/ecert", "the ecert binary to serve with")
	flag.StringVar(&o.backend, "backend", "embedded", "embedded (SQLite, files, in-memory cache) or services (PostgreSQL, MinIO, Redis from ECERT_TEST_*)")
	flag.IntVar(&o.certs, "certs", 300, "certificates to issue before measuring")
	flag.Float64Var(&o.rate, "rate", 1000, "requests per second of the open-loop scenarios")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "length of each scenario")
	flag.DurationVar(&o.settle, "settle", time.Second, "pause between scenarios")
	flag.DurationVar(&o.warmup, "warmup", 5*time.Second, "unmeasured load of each scenario before the measured runs (pools, prepared statements and caches fill)")
	flag.IntVar(&o.clients, "clients", 8, "concurrent clients of the upload scenario")
	flag.IntVar(&o.runs, "runs", 1, "times to run the scenarios")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary data directory")
	flag.StringVar(&o.pprof, "pprof-addr", "", "start ecert serve with --pprof-addr ADDR (loopback) to profile or trace it during the run")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("ecert-load: ")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "ecert-load-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	b, err := newBackend(ctx, o.backend, dir)
	if err != nil {
		return err
	}
	defer b.cleanup()
	t0 := time.Now()
	fx, err := seed(ctx, b.config, o.certs)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	log.Printf("%s: issued %d certificates in %v", o.backend, len(fx.certs), time.Since(t0).Round(time.Millisecond))
	if o.pprof != "" {
		b.flags = append(b.flags, "--pprof-addr", o.pprof)
	}
	srv, err := startServer(ctx, o.ecert, dir, b, fx.portalPub)
	if err != nil {
		return err
	}
	defer srv.stop()
	return measureAll(ctx, o, srv, fx)
}
