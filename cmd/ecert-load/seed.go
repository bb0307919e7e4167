package main

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/ecert/ecert/api"
	"github.com/ecert/ecert/internal/app"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/storage/registry"
)

// token issuer and audience of the load run's portal.
const tokenIssuer, tokenAudience = "ecert-load-portal", "ecert-load"

// cert is one issued certificate as the scenarios use it.
type cert struct {
	registry.Certificate
	holder, token string
	pdf           []byte
}

// fixture is what seeding leaves for the scenarios.
type fixture struct {
	certs     []cert
	portalPub []byte // PEM of the portal's token key
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// seed issues n certificates through the service's own issuance (not
// timed), reads back their verification codes and PDFs, and mints a
// token for each holder. It closes the service before returning: the
// embedded registry is one process's.
func seed(ctx context.Context, c app.Config, n int) (fixture, error) {
	a, err := app.Open(ctx, c)
	if err != nil {
		return fixture{}, err
	}
	defer a.Close()
	today := registration.Today(time.Now())
	as := sampledata.Generate(n, sampledata.Options{Seed: 15, Prefix: "LOAD", Base: today.AddDays(-370)})
	for i := range as {
		// Changes are downloadable at once: no public notice to wait for.
		as[i].BusinessType, as[i].NoticeEnd = registration.Change, registration.Date{}
	}
	for _, r := range a.Registry.Intake(ctx, as) {
		if r.Err != nil {
			return fixture{}, fmt.Errorf("intake %s: %w", r.CaseID, r.Err)
		}
	}
	priv, pub, err := api.GenerateDevPortalKey()
	if err != nil {
		return fixture{}, err
	}
	key, err := api.ParsePortalPrivateKey(priv)
	if err != nil {
		return fixture{}, err
	}
	certs := make([]cert, len(as))
	err = forEach(len(as), 8, func(i int) error {
		var err error
		certs[i], err = issueOne(ctx, a, key, as[i].CaseID, as[i].Person.IDNumber)
		return err
	})
	return fixture{certs: certs, portalPub: pub}, err
}

func issueOne(ctx context.Context, a *app.App, key crypto.Signer, caseID, holder string) (cert, error) {
	res, err := a.Service.Issue(ctx, caseID)
	if err != nil {
		return cert{}, fmt.Errorf("issue %s: %w", caseID, err)
	}
	rc, _, err := a.Store.Get(ctx, res.Certificate.PDFKey)
	if err != nil {
		return cert{}, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, rc); err != nil {
		return cert{}, err
	}
	tok, err := api.MintDevToken(key, api.DevToken{Holder: holder, Issuer: tokenIssuer, Audience: tokenAudience, TTL: 2 * time.Hour})
	if err != nil {
		return cert{}, err
	}
	return cert{Certificate: res.Certificate, holder: holder, token: tok, pdf: buf.Bytes()}, nil
}

// forEach calls f for 0…n-1 from `workers` goroutines; it returns the
// first error.
func forEach(n, workers int, f func(i int) error) error {
	var mu sync.Mutex
	var first error
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					first = cmpOr(first, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
