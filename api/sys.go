package api

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// SealStatusResponse is the body of sys/seal-status and sys/unseal.
type SealStatusResponse struct {
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
	RecoverySeal bool   `json:"recovery_seal"`
	StorageType  string `json:"storage_type,omitempty"`
}

// InitRequest is the body of PUT sys/init.
type InitRequest struct {
	SecretShares    int `json:"secret_shares"`
	SecretThreshold int `json:"secret_threshold"`
}

// InitResponse is the body returned by PUT sys/init. Keys are hex-encoded
// unseal key shares; KeysB64 the same shares in base64.
type InitResponse struct {
	Keys      []string `json:"keys"`
	KeysB64   []string `json:"keys_base64"`
	RootToken string   `json:"root_token"`
}

// HealthResponse is the body of sys/health.
type HealthResponse struct {
	Initialized                bool   `json:"initialized"`
	Sealed                     bool   `json:"sealed"`
	Standby                    bool   `json:"standby"`
	PerformanceStandby         bool   `json:"performance_standby"`
	ReplicationPerformanceMode string `json:"replication_performance_mode"`
	ReplicationDRMode          string `json:"replication_dr_mode"`
	ServerTimeUTC              int64  `json:"server_time_utc"`
	Version                    string `json:"version"`
	ClusterName                string `json:"cluster_name,omitempty"`
	ClusterID                  string `json:"cluster_id,omitempty"`
}

// KeyStatus is the state of the barrier keyring (sys/key-status).
type KeyStatus struct {
	Term        int       `json:"term"`
	InstallTime time.Time `json:"install_time"`
	Encryptions int64     `json:"encryptions"`
}

// SealStatus returns the seal state (GET sys/seal-status; no token needed).
func (c *Client) SealStatus(ctx context.Context) (*SealStatusResponse, error) {
	var out SealStatusResponse
	err := c.sendJSON(ctx, &Request{Method: http.MethodGet, Path: "sys/seal-status"}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// InitStatus reports whether the server is initialised (GET sys/init).
func (c *Client) InitStatus(ctx context.Context) (bool, error) {
	var out struct {
		Initialized bool `json:"initialized"`
	}
	err := c.sendJSON(ctx, &Request{Method: http.MethodGet, Path: "sys/init"}, &out)
	return out.Initialized, err
}

// Init initialises the server (PUT sys/init) and returns the unseal key
// shares and the initial root token.
func (c *Client) Init(ctx context.Context, req *InitRequest) (*InitResponse, error) {
	var out InitResponse
	err := c.sendJSON(ctx, &Request{Method: http.MethodPut, Path: "sys/init", Body: req}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Unseal submits one unseal key share (PUT sys/unseal) and returns the seal
// state after it.
func (c *Client) Unseal(ctx context.Context, key string) (*SealStatusResponse, error) {
	return c.unseal(ctx, map[string]any{"key": key})
}

// UnsealReset discards the key shares submitted so far.
func (c *Client) UnsealReset(ctx context.Context) (*SealStatusResponse, error) {
	return c.unseal(ctx, map[string]any{"reset": true})
}

func (c *Client) unseal(ctx context.Context, body map[string]any) (*SealStatusResponse, error) {
	var out SealStatusResponse
	err := c.sendJSON(ctx, &Request{Method: http.MethodPut, Path: "sys/unseal", Body: body}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Seal seals the server (PUT sys/seal).
func (c *Client) Seal(ctx context.Context) error {
	return c.sendJSON(ctx, &Request{Method: http.MethodPut, Path: "sys/seal"}, nil)
}

// Health returns the server's health. Like Vault's client it asks the
// server to answer 2xx whatever the state, so a sealed or uninitialised
// server is reported in the response rather than as an error.
func (c *Client) Health(ctx context.Context) (*HealthResponse, error) {
	q := url.Values{}
	for _, k := range []string{"uninitcode", "sealedcode", "standbycode", "drsecondarycode", "performancestandbycode"} {
		q.Set(k, "299")
	}
	var out HealthResponse
	err := c.sendJSON(ctx, &Request{Method: http.MethodGet, Path: "sys/health", Query: q}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Rotate adds a new encryption key term to the barrier keyring
// (POST sys/rotate).
func (c *Client) Rotate(ctx context.Context) error {
	return c.sendJSON(ctx, &Request{Method: http.MethodPost, Path: "sys/rotate"}, nil)
}

// KeyStatus returns the current key term (GET sys/key-status).
func (c *Client) KeyStatus(ctx context.Context) (*KeyStatus, error) {
	var out KeyStatus
	if err := c.sendData(ctx, &Request{Method: http.MethodGet, Path: "sys/key-status"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// LeaderResponse is the body of sys/leader.
type LeaderResponse struct {
	HAEnabled            bool      `json:"ha_enabled"`
	IsSelf               bool      `json:"is_self"`
	ActiveTime           time.Time `json:"active_time"`
	LeaderAddress        string    `json:"leader_address"`
	LeaderClusterAddress string    `json:"leader_cluster_address"`
}

// Leader returns the high-availability state (GET sys/leader).
func (c *Client) Leader(ctx context.Context) (*LeaderResponse, error) {
	var out LeaderResponse
	err := c.sendJSON(ctx, &Request{Method: http.MethodGet, Path: "sys/leader"}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}
