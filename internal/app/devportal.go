package app

import (
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ecert/ecert/api"
	"github.com/ecert/ecert/internal/flock"
)

// The development portal's token issuer and audience.
const (
	DevTokenIssuer   = "ecert-dev-portal"
	DevTokenAudience = "ecert"
)

// DevPortalWarning is logged whenever the development portal is in use.
const DevPortalWarning = "DEVELOPMENT PORTAL KEY IN USE — NOT FOR PRODUCTION: anyone holding <data-dir>/dev-portal can sign in as any applicant; " +
	"configure the portal's public key and API keys"

// DevPortal stands in for the government portal on the embedded defaults:
// an SM2 key that signs applicants' tokens and an API key for approvals,
// kept (0600) under <data-dir>/dev-portal and made on first use.
type DevPortal struct {
	Dir       string
	Key       crypto.Signer
	PublicPEM []byte
	APIKey    string // the secret; the service keeps only its SHA-256
}

// OpenDevPortal returns the development portal of dataDir, creating it on
// first use; processes starting together take turns and share one.
func OpenDevPortal(dataDir string) (*DevPortal, error) {
	dir := filepath.Join(dataDir, "dev-portal")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("development portal: %w", err)
	}
	unlock, err := flock.Lock(filepath.Join(dir, ".lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	keyPath, pubPath, apiPath := filepath.Join(dir, "portal-key.pem"), filepath.Join(dir, "portal.pub.pem"), filepath.Join(dir, "api-key")
	if _, err := os.Stat(keyPath); errors.Is(err, os.ErrNotExist) {
		if err := createDevPortal(keyPath, pubPath, apiPath); err != nil {
			return nil, err
		}
	}
	d := &DevPortal{Dir: dir}
	priv, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	if d.Key, err = api.ParsePortalPrivateKey(priv); err != nil {
		return nil, err
	}
	if d.PublicPEM, err = os.ReadFile(pubPath); err != nil {
		return nil, err
	}
	secret, err := os.ReadFile(apiPath)
	if err != nil {
		return nil, err
	}
	d.APIKey = strings.TrimSpace(string(secret))
	return d, nil
}

func createDevPortal(keyPath, pubPath, apiPath string) error {
	priv, pub, err := api.GenerateDevPortalKey()
	if err != nil {
		return err
	}
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	// The key last: its presence means the portal is complete.
	for _, f := range []struct {
		path string
		data []byte
	}{{pubPath, pub}, {apiPath, []byte(hex.EncodeToString(secret) + "\n")}, {keyPath, priv}} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return fmt.Errorf("development portal: %w", err)
		}
	}
	return nil
}

// Token mints an applicant's token as the portal would.
func (d *DevPortal) Token(holder string, enterprise bool, ttl time.Duration) (string, error) {
	return api.MintDevToken(d.Key, api.DevToken{Holder: holder, Enterprise: enterprise, Issuer: DevTokenIssuer,
		Audience: DevTokenAudience, TTL: ttl})
}

// TokenConfig is the service's token configuration for this portal.
func (d *DevPortal) TokenConfig() api.TokenConfig {
	return api.TokenConfig{PublicKeysPEM: d.PublicPEM, Issuer: DevTokenIssuer, Audience: DevTokenAudience}
}
