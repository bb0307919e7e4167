package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// server is `ecert serve` running as a child process on loopback.
type server struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	apiKey string
	log    string // its stderr
	client *http.Client
}

// startServer runs the binary on a free loopback port with the portal key
// pub, the rate limit out of the way, no issuing workers and no expiry
// schedule, and waits until it answers /readyz.
func startServer(ctx context.Context, bin, dir string, b backend, pub []byte) (*server, error) {
	pubPath := filepath.Join(dir, "portal.pub.pem")
	if err := os.WriteFile(pubPath, pub, 0o600); err != nil {
		return nil, err
	}
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	secret := rand.Text()
	sum := sha256.Sum256([]byte(secret))
	args := append([]string{"serve", "--addr", addr, "--portal-public-key", pubPath,
		"--token-issuer", tokenIssuer, "--token-audience", tokenAudience,
		"--api-key", "load:" + hex.EncodeToString(sum[:]),
		"--rate-limit", "1000000", "--rate-burst", "1000000", "--workers", "-1", "--expire-every", "0"}, b.flags...)
	s := &server{base: "http://" + addr, apiKey: secret, log: filepath.Join(dir, "serve.log"), client: newClient()}
	logf, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = append(os.Environ(), b.env...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	if err := s.waitReady(ctx, 30*time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w (log: %s)", err, s.log)
	}
	return s, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/readyz", nil)
		if resp, err := s.client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("ecert serve not ready within %v", within)
}

// stop asks the server to shut down and waits for it.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// newClient keeps enough idle connections that an open-loop burst does
// not open and close connections for every request.
func newClient() *http.Client {
	t := &http.Transport{MaxIdleConns: 2048, MaxIdleConnsPerHost: 2048, IdleConnTimeout: time.Minute, DisableCompression: true}
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}
