package httpapi

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/kinko-dev/kinko/internal/core"
	"github.com/kinko-dev/kinko/internal/logical"
)

// initRequest is Vault's sys/init body. PGP and recovery fields are
// accepted so the official client works, and refused when set.
type initRequest struct {
	SecretShares      int      `json:"secret_shares"`
	SecretThreshold   int      `json:"secret_threshold"`
	StoredShares      int      `json:"stored_shares"`
	PGPKeys           []string `json:"pgp_keys"`
	RecoveryShares    int      `json:"recovery_shares"`
	RecoveryThreshold int      `json:"recovery_threshold"`
	RecoveryPGPKeys   []string `json:"recovery_pgp_keys"`
	RootTokenPGPKey   string   `json:"root_token_pgp_key"`
}

func (h *Handler) decodeInto(r *http.Request, v any) error {
	b, err := readBody(r, h.limit)
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return logical.InvalidRequest("failed to parse JSON input: %s", jsonErrText(err))
	}
	return nil
}

func (h *Handler) handleInit(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodPut, http.MethodPost) {
		return
	}
	if r.Method == http.MethodGet {
		ok, err := h.core.Initialized(r.Context())
		if err != nil {
			h.fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"initialized": ok})
		return
	}
	var in initRequest
	if err := h.decodeInto(r, &in); err != nil {
		h.fail(w, err)
		return
	}
	if len(in.PGPKeys) > 0 || len(in.RecoveryPGPKeys) > 0 || in.RootTokenPGPKey != "" {
		h.fail(w, logical.InvalidRequest("PGP-encrypted key shares are not supported"))
		return
	}
	res, err := h.core.Init(r.Context(), core.SealConfig{SecretShares: in.SecretShares, SecretThreshold: in.SecretThreshold}, "")
	if err != nil {
		h.fail(w, err)
		return
	}
	out := map[string]any{"keys": []string{}, "keys_base64": []string{}, "root_token": res.RootToken}
	var hx, b64 []string
	for _, k := range res.Keys {
		hx = append(hx, hex.EncodeToString(k))
		b64 = append(b64, base64.StdEncoding.EncodeToString(k))
		clear(k)
	}
	out["keys"], out["keys_base64"] = hx, b64
	writeJSON(w, http.StatusOK, out)
}

type unsealRequest struct {
	Key     string `json:"key"`
	Reset   bool   `json:"reset"`
	Migrate bool   `json:"migrate"`
}

func (h *Handler) handleUnseal(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPut, http.MethodPost) {
		return
	}
	var in unsealRequest
	if err := h.decodeInto(r, &in); err != nil {
		h.fail(w, err)
		return
	}
	var st *core.SealStatus
	var err error
	switch {
	case in.Reset:
		st, err = h.core.ResetUnseal(r.Context())
	case in.Key == "":
		err = logical.InvalidRequest("'key' must be specified in request body as JSON, or 'reset' set to true")
	default:
		var key []byte
		if key, err = core.DecodeKey(in.Key); err == nil {
			st, err = h.core.Unseal(r.Context(), key)
			clear(key)
		}
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (h *Handler) handleSealStatus(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet) {
		return
	}
	st, err := h.core.SealStatus(r.Context())
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// handleHealth answers with Vault's status codes: 200 active, 501 not
// initialised, 503 sealed; each overridable by query (activecode, ...).
func (h *Handler) handleHealth(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	st, err := h.core.SealStatus(r.Context())
	if err != nil {
		h.fail(w, err)
		return
	}
	q := r.URL.Query()
	code := codeParam(q.Get("activecode"), http.StatusOK)
	switch {
	case !st.Initialized:
		code = codeParam(q.Get("uninitcode"), http.StatusNotImplemented)
	case st.Sealed:
		code = codeParam(q.Get("sealedcode"), http.StatusServiceUnavailable)
	}
	body := map[string]any{
		"initialized": st.Initialized, "sealed": st.Sealed, "standby": false, "performance_standby": false,
		"replication_performance_mode": "disabled", "replication_dr_mode": "disabled",
		"server_time_utc": time.Now().Unix(), "version": st.Version, "cluster_name": st.ClusterName,
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(code)
		return
	}
	writeJSON(w, code, body)
}

func codeParam(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil && n >= 100 && n <= 599 {
		return n
	}
	return def
}

func (h *Handler) handleLeader(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet) {
		return
	}
	if h.core.Sealed() {
		h.fail(w, logical.ErrSealed)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"ha_enabled": false, "is_self": false, "active_time": "0001-01-01T00:00:00Z",
		"leader_address": "", "leader_cluster_address": "", "performance_standby": false,
		"performance_standby_last_remote_wal": 0,
	})
}

func (h *Handler) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet) {
		return
	}
	if err := h.core.CheckAccess(r.Context(), clientToken(r), logical.ReadOperation, "sys/metrics"); err != nil {
		h.fail(w, err)
		return
	}
	h.metrics.handler.ServeHTTP(w, r)
}
