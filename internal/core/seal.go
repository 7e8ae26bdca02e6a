package core

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/kinko-dev/kinko/internal/barrier"
	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/shamir"
	"github.com/kinko-dev/kinko/internal/storage"
)

// sealConfigKey is stored in plaintext below the barrier: it holds only the
// share count and threshold, which the unauthenticated seal-status reveals.
const sealConfigKey = "core/seal-config"

// SealConfig is the Shamir configuration chosen at init.
type SealConfig struct {
	SecretShares    int `json:"secret_shares"`
	SecretThreshold int `json:"secret_threshold"`
}

// InitResult is returned once, by Init.
type InitResult struct {
	Keys      [][]byte
	RootToken string
}

// SealStatus is Vault's sys/seal-status shape.
type SealStatus struct {
	Type         string `json:"type"`
	Initialized  bool   `json:"initialized"`
	Sealed       bool   `json:"sealed"`
	T            int    `json:"t"`
	N            int    `json:"n"`
	Progress     int    `json:"progress"`
	Nonce        string `json:"nonce"`
	Version      string `json:"version"`
	BuildDate    string `json:"build_date"`
	Migration    bool   `json:"migration"`
	ClusterName  string `json:"cluster_name,omitempty"`
	ClusterID    string `json:"cluster_id,omitempty"`
	StorageType  string `json:"storage_type,omitempty"`
	RecoverySeal bool   `json:"recovery_seal"`
}

// Version and BuildDate are reported by seal-status and health; release
// builds set them with -ldflags "-X".
var (
	Version   = "0.1.0"
	BuildDate = "dev"
)

// Initialized reports whether Init has run.
func (c *Core) Initialized(ctx context.Context) (bool, error) {
	return c.barrier.Initialized(ctx)
}

func (c *Core) sealConfig(ctx context.Context) (*SealConfig, error) {
	e, err := c.phys.Get(ctx, sealConfigKey)
	if err != nil || e == nil {
		return nil, err
	}
	var sc SealConfig
	if err := json.Unmarshal(e.Value, &sc); err != nil {
		return nil, fmt.Errorf("decode seal config: %w", err)
	}
	return &sc, nil
}

// Init generates the root key, splits it into shares, initialises the
// barrier and creates the initial root token. The core stays sealed.
// rootTokenID may be empty (random).
func (c *Core) Init(ctx context.Context, sc SealConfig, rootTokenID string) (*InitResult, error) {
	if err := validateSealConfig(sc); err != nil {
		return nil, err
	}
	c.unsealMu.Lock()
	defer c.unsealMu.Unlock()
	if ok, err := c.barrier.Initialized(ctx); err != nil {
		return nil, err
	} else if ok {
		return nil, logical.InvalidRequest("Vault is already initialized")
	}
	rootKey, err := barrier.GenerateKey()
	if err != nil {
		return nil, err
	}
	defer clear(rootKey)
	keys, err := shamir.Split(rootKey, sc.SecretShares, sc.SecretThreshold)
	if err != nil {
		return nil, fmt.Errorf("split root key: %w", err)
	}
	if err := c.barrier.Initialize(ctx, rootKey); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(sc)
	if err := c.phys.Put(ctx, &storage.Entry{Key: sealConfigKey, Value: b}); err != nil {
		return nil, err
	}
	if err := c.barrier.Unseal(ctx, rootKey); err != nil {
		return nil, err
	}
	defer c.barrier.Seal()
	st, err := c.buildState(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		st.cancel()
		st.leases.Stop()
	}()
	root, err := st.tokens.CreateRoot(ctx, rootTokenID)
	if err != nil {
		return nil, err
	}
	c.logger.Info("core initialized", "shares", sc.SecretShares, "threshold", sc.SecretThreshold)
	return &InitResult{Keys: keys, RootToken: root.ID}, nil
}

func validateSealConfig(sc SealConfig) error {
	switch {
	case sc.SecretShares < 1 || sc.SecretShares > 255:
		return logical.InvalidRequest("secret_shares must be between 1 and 255")
	case sc.SecretThreshold < 1 || sc.SecretThreshold > sc.SecretShares:
		return logical.InvalidRequest("secret_threshold must be between 1 and secret_shares")
	case sc.SecretShares > 1 && sc.SecretThreshold == 1:
		return logical.InvalidRequest("secret_threshold must be greater than one for multiple shares")
	}
	return nil
}

// DecodeKey accepts a key share in hex or base64.
func DecodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) > 0 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) > 0 {
		return b, nil
	}
	return nil, logical.InvalidRequest("'key' must be a valid hex or base64 string")
}

// Unseal adds one key share; once the threshold is reached the barrier is
// unsealed. A wrong combination resets progress and returns an error.
func (c *Core) Unseal(ctx context.Context, key []byte) (*SealStatus, error) {
	c.unsealMu.Lock()
	defer c.unsealMu.Unlock()
	sc, err := c.sealConfig(ctx)
	if err != nil {
		return nil, err
	}
	if sc == nil {
		return nil, logical.InvalidRequest("Vault is not initialized")
	}
	if !c.Sealed() {
		return c.statusLocked(ctx)
	}
	if len(key) < 16 || len(key) > 64 {
		return nil, logical.InvalidRequest("invalid key length: a key share is 33 bytes (hex or base64)")
	}
	for _, p := range c.progress {
		if subtle.ConstantTimeCompare(p, key) == 1 {
			return c.statusLocked(ctx) // a share given twice counts once
		}
	}
	if len(c.progress) == 0 {
		if c.nonce, err = newUUID(); err != nil {
			return nil, err
		}
	}
	c.progress = append(c.progress, append([]byte(nil), key...))
	if len(c.progress) < sc.SecretThreshold {
		return c.statusLocked(ctx)
	}
	err = c.unsealWith(ctx, sc)
	for _, p := range c.progress {
		clear(p)
	}
	c.progress = nil
	if err != nil {
		return nil, err
	}
	return c.statusLocked(ctx)
}

func (c *Core) unsealWith(ctx context.Context, sc *SealConfig) error {
	var rootKey []byte
	if sc.SecretShares == 1 {
		rootKey = append([]byte(nil), c.progress[0]...)
	} else {
		k, err := shamir.Combine(c.progress)
		if err != nil {
			return logical.InvalidRequest("unseal failed: the key shares do not combine: %v", err)
		}
		rootKey = k
	}
	defer clear(rootKey)
	if err := c.barrier.Unseal(ctx, rootKey); err != nil {
		if errors.Is(err, barrier.ErrInvalidKey) {
			return logical.InvalidRequest("unseal failed: invalid key shares, progress has been reset")
		}
		return err
	}
	st, err := c.buildState(ctx)
	if err != nil {
		c.barrier.Seal()
		return fmt.Errorf("post-unseal setup: %w", err)
	}
	c.state.Store(st)
	c.logger.Info("vault unsealed")
	return nil
}

// ResetUnseal discards the shares collected so far.
func (c *Core) ResetUnseal(ctx context.Context) (*SealStatus, error) {
	c.unsealMu.Lock()
	defer c.unsealMu.Unlock()
	for _, p := range c.progress {
		clear(p)
	}
	c.progress = nil
	return c.statusLocked(ctx)
}

// Seal drops the unsealed state and clears key material.
func (c *Core) Seal(ctx context.Context) error {
	c.unsealMu.Lock()
	defer c.unsealMu.Unlock()
	st := c.state.Swap(nil)
	if st == nil {
		return nil
	}
	st.cancel()
	if st.leases != nil {
		st.leases.Stop()
	}
	if st.detectorImpl != nil {
		st.detectorImpl.Stop()
	}
	for _, name := range c.alerts.Names() {
		c.alerts.Remove(name)
	}
	if r := st.router.Load(); r != nil {
		r.cleanup(ctx)
	}
	c.audit.CloseAll()
	c.barrier.Seal()
	c.logger.Info("vault sealed")
	return nil
}

// SealStatus reports the seal state.
func (c *Core) SealStatus(ctx context.Context) (*SealStatus, error) {
	c.unsealMu.Lock()
	defer c.unsealMu.Unlock()
	return c.statusLocked(ctx)
}

func (c *Core) statusLocked(ctx context.Context) (*SealStatus, error) {
	sc, err := c.sealConfig(ctx)
	if err != nil {
		return nil, err
	}
	s := &SealStatus{Type: "shamir", Sealed: c.Sealed(), Version: Version, BuildDate: BuildDate, StorageType: c.conf.StorageType}
	if sc != nil {
		s.Initialized = true
		s.T, s.N = sc.SecretThreshold, sc.SecretShares
		s.Progress = len(c.progress)
		if s.Progress > 0 {
			s.Nonce = c.nonce
		}
	}
	if !s.Sealed {
		s.ClusterName = "kinko"
	}
	return s, nil
}
