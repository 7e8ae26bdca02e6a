package jwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// remoteKeys is a JWKS fetched from jwksURL, or from the jwks_uri of the
// OIDC discovery document at discoveryURL. See the package doc for the
// caching and refetch rules.
type remoteKeys struct {
	client       *http.Client
	jwksURL      string // fixed, or resolved from discovery
	discoveryURL string // without trailing slash; "" for a plain JWKS URL

	// mu serialises fetches and guards jwksURL (discovery), meta and
	// lastAttempt.
	mu          sync.Mutex
	lastAttempt time.Time
	// meta is the discovery document, set once resolved.
	meta  atomic.Pointer[providerMeta]
	state atomic.Pointer[jwksState]
}

// providerMeta is the part of an OIDC discovery document kinko uses.
type providerMeta struct {
	Issuer                string   `json:"issuer"`
	JWKSURI               string   `json:"jwks_uri"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	TokenAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
}

// jwksState is one fetched key set.
type jwksState struct {
	keys    []jose.JSONWebKey
	fetched time.Time
}

// match returns the signing keys named kid (every key when kid is empty).
func (s *jwksState) match(kid string) []jose.JSONWebKey {
	if s == nil {
		return nil
	}
	var out []jose.JSONWebKey
	for _, k := range s.keys {
		if kid == "" || k.KeyID == kid {
			out = append(out, k)
		}
	}
	return out
}

// errFetch marks a failure to obtain keys (network, status, format).
var errFetch = errors.New("fetching keys failed")

// keys returns the candidate keys for kid, fetching or refetching the set
// when it is missing, old, or lacks kid (rate-limited by minRefetch).
func (r *remoteKeys) keys(ctx context.Context, kid string, now time.Time, minRefetch time.Duration) ([]jose.JSONWebKey, error) {
	st := r.state.Load()
	if st != nil && now.Sub(st.fetched) < jwksMaxAge {
		if ks := st.match(kid); len(ks) > 0 {
			return ks, nil
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st = r.state.Load()
	fresh := st != nil && now.Sub(st.fetched) < jwksMaxAge
	if ks := st.match(kid); fresh && len(ks) > 0 {
		return ks, nil
	}
	if st != nil && now.Sub(r.lastAttempt) < minRefetch {
		return st.match(kid), nil
	}
	r.lastAttempt = now
	next, err := r.fetchLocked(ctx, now)
	if err != nil {
		if st != nil {
			return st.match(kid), nil // keep the previous keys
		}
		return nil, err
	}
	r.state.Store(next)
	return next.match(kid), nil
}

// discoveredIssuer returns the issuer of the discovery document ("" for a
// plain JWKS URL), resolving the document if needed.
func (r *remoteKeys) discoveredIssuer(ctx context.Context) (string, error) {
	if r.discoveryURL == "" {
		return "", nil
	}
	m, err := r.provider(ctx)
	if err != nil {
		return "", err
	}
	return m.Issuer, nil
}

// provider returns the discovery document, resolving it if needed. It
// must only be called on a discovery URL's key source.
func (r *remoteKeys) provider(ctx context.Context) (*providerMeta, error) {
	if m := r.meta.Load(); m != nil {
		return m, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.discoveryURL == "" {
		return nil, fmt.Errorf("%w: no OIDC discovery URL is configured", errFetch)
	}
	if err := r.discoverLocked(ctx); err != nil {
		return nil, err
	}
	return r.meta.Load(), nil
}

// check fetches the documents once, for config validation.
func (r *remoteKeys) check(ctx context.Context, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastAttempt = now
	st, err := r.fetchLocked(ctx, now)
	if err != nil {
		return err
	}
	r.state.Store(st)
	return nil
}

func (r *remoteKeys) fetchLocked(ctx context.Context, now time.Time) (*jwksState, error) {
	if err := r.discoverLocked(ctx); err != nil {
		return nil, err
	}
	// Keys are decoded one by one so that one key of an unknown type does
	// not hide the others.
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := r.getJSON(ctx, r.jwksURL, &set); err != nil {
		return nil, err
	}
	st := &jwksState{fetched: now}
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			continue
		}
		if k.Valid() && k.IsPublic() && (k.Use == "" || k.Use == "sig") && usableKey(k.Key) {
			st.keys = append(st.keys, k)
		}
	}
	if len(st.keys) == 0 {
		return nil, fmt.Errorf("%w: the JWKS has no usable signing key", errFetch)
	}
	return st, nil
}

// discoverLocked resolves the discovery document once: its issuer must
// equal the discovery URL (as OIDC requires) and it must name a jwks_uri.
func (r *remoteKeys) discoverLocked(ctx context.Context) error {
	if r.discoveryURL == "" || r.jwksURL != "" {
		return nil
	}
	var doc providerMeta
	if err := r.getJSON(ctx, r.discoveryURL+"/.well-known/openid-configuration", &doc); err != nil {
		return err
	}
	if strings.TrimSuffix(doc.Issuer, "/") != r.discoveryURL {
		return fmt.Errorf("%w: the discovery document's issuer %q does not match the discovery URL", errFetch, doc.Issuer)
	}
	if !strings.HasPrefix(doc.JWKSURI, "https://") && !strings.HasPrefix(doc.JWKSURI, "http://") {
		return fmt.Errorf("%w: the discovery document has no http(s) jwks_uri", errFetch)
	}
	r.jwksURL = doc.JWKSURI
	r.meta.Store(&doc)
	return nil
}

// getJSON fetches u with the client's timeout and decodes at most
// maxFetchBody bytes of JSON into v.
func (r *remoteKeys) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", errFetch, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", errFetch, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: GET %s: HTTP %d", errFetch, u, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFetchBody+1))
	if err != nil {
		return fmt.Errorf("%w: GET %s: %v", errFetch, u, err)
	}
	if len(body) > maxFetchBody {
		return fmt.Errorf("%w: GET %s: document larger than %d bytes", errFetch, u, maxFetchBody)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: GET %s: invalid JSON", errFetch, u)
	}
	return nil
}
