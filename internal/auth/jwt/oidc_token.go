package jwt

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/kinko-dev/kinko/internal/logical"
)

// maxCodeSize bounds an authorization code before it is sent anywhere.
const maxCodeSize = 4 << 10

// providerEndpoint validates an endpoint of the discovery document: an
// absolute http(s) URL, https when the discovery URL is (no downgrade).
func providerEndpoint(raw, discoveryURL string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.Fragment != "" {
		return nil, fmt.Errorf("not an http(s) URL")
	}
	if strings.HasPrefix(discoveryURL, "https://") && u.Scheme != "https" {
		return nil, fmt.Errorf("not an https URL")
	}
	return u, nil
}

// exchangeCode trades an authorization code (with the login's PKCE
// verifier and redirect URI) for the provider's ID token at its token
// endpoint, authenticating as the configured client. Errors are
// user-facing and contain neither the code nor the client secret.
func (b *backend) exchangeCode(ctx context.Context, k *keyring, meta *providerMeta, p *pending, code string) (string, error) {
	if len(code) > maxCodeSize {
		return "", logical.InvalidRequest("error exchanging oidc code: the code is longer than %d bytes", maxCodeSize)
	}
	ep, err := providerEndpoint(meta.TokenEndpoint, k.remote.discoveryURL)
	if err != nil {
		return "", logical.InvalidRequest("error exchanging oidc code: the provider's discovery document has no valid token_endpoint")
	}
	cfg := k.cfg
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {p.redirectURI}, "code_verifier": {p.codeVerifier}}
	basic := cfg.OIDCClientSecret != "" && useBasicAuth(meta.TokenAuthMethods)
	if !basic {
		form.Set("client_id", cfg.OIDCClientID)
		if cfg.OIDCClientSecret != "" {
			form.Set("client_secret", cfg.OIDCClientSecret)
		}
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("jwt: token request: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hreq.Header.Set("Accept", "application/json")
	if basic {
		hreq.SetBasicAuth(url.QueryEscape(cfg.OIDCClientID), url.QueryEscape(cfg.OIDCClientSecret))
	}
	// Never follow a redirect: a 307 would resend the code and secret to
	// wherever the token endpoint points.
	client := *k.remote.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(hreq)
	if err != nil {
		return "", logical.InvalidRequest("error exchanging oidc code: the provider's token endpoint could not be reached")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFetchBody+1))
	if err != nil || len(body) > maxFetchBody {
		return "", logical.InvalidRequest("error exchanging oidc code: the token endpoint's answer could not be read")
	}
	return parseTokenResponse(resp.StatusCode, body)
}

// useBasicAuth reports whether the client authenticates with HTTP Basic
// (client_secret_basic, OIDC's default) rather than in the form
// (client_secret_post, when that is all the provider lists).
func useBasicAuth(methods []string) bool {
	return len(methods) == 0 || slices.Contains(methods, "client_secret_basic") || !slices.Contains(methods, "client_secret_post")
}

// parseTokenResponse reads a token endpoint's answer (RFC 6749 §5): the
// id_token of a success, or the error and its description (cleaned and
// shortened: they come from another server).
func parseTokenResponse(status int, body []byte) (string, error) {
	var t struct {
		IDToken     string `json:"id_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	jsonErr := json.Unmarshal(body, &t)
	if status == http.StatusOK && jsonErr == nil && t.IDToken != "" {
		return t.IDToken, nil
	}
	msg := "error exchanging oidc code: "
	switch {
	case status != http.StatusOK:
		msg += fmt.Sprintf("the provider's token endpoint answered HTTP %d", status)
	case jsonErr != nil:
		return "", logical.InvalidRequest("%sthe token endpoint's answer is not a JSON object", msg)
	case t.Error == "":
		return "", logical.InvalidRequest("%sthe token endpoint's answer has no id_token (is the \"openid\" scope allowed for this client?)", msg)
	default:
		msg += "the provider's token endpoint refused it"
	}
	if jsonErr == nil && t.Error != "" {
		msg += ": " + printable(t.Error, 64)
		if t.Description != "" {
			msg += " (" + printable(t.Description, 200) + ")"
		}
	}
	return "", logical.InvalidRequest("%s", msg)
}

// printable keeps the printable ASCII of s, at most n bytes of it.
func printable(s string, n int) string {
	var sb strings.Builder
	for i := 0; i < len(s) && sb.Len() < n; i++ {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// verifyIDToken checks an ID token from the provider: its signature with
// the discovery document's keys, then its claims (checkIDToken). It
// returns every claim.
func (b *backend) verifyIDToken(ctx context.Context, k *keyring, meta *providerMeta, r *role, nonce, raw string) (map[string]any, error) {
	all, claims, err := b.parseVerified(ctx, k, raw, "ID token")
	if err != nil {
		return nil, err
	}
	if err := b.checkIDToken(k.cfg, meta, r, nonce, claims, all); err != nil {
		return nil, err
	}
	return all, nil
}

// checkIDToken applies OIDC Core §3.1.3.7 to a verified ID token: iss is
// the provider's issuer (and bound_issuer when set), aud holds the client
// ID (and one of the role's bound_audiences when set), azp when present is
// the client ID, exp is present and not past, nbf/iat not in the future
// (with the default clock skew), sub is the role's bound_subject when set,
// nonce is the login's, and auth_time is within the role's max_age when
// set.
func (b *backend) checkIDToken(cfg *config, meta *providerMeta, r *role, nonce string, c *josejwt.Claims, all map[string]any) error {
	if c.Expiry == nil || *c.Expiry == 0 {
		return logical.InvalidRequest("error validating claims: the ID token has no expiration time (exp)")
	}
	now := b.now()
	want := josejwt.Expected{Issuer: meta.Issuer, Subject: r.BoundSubject, AnyAudience: josejwt.Audience{cfg.OIDCClientID}, Time: now}
	if err := c.ValidateWithLeeway(want, defaultClockSkew); err != nil {
		return logical.InvalidRequest("error validating claims: %s", joseMessage(err))
	}
	if cfg.BoundIssuer != "" && c.Issuer != cfg.BoundIssuer {
		return logical.InvalidRequest("error validating claims: validation failed, invalid issuer claim (iss)")
	}
	if azp, ok := all["azp"]; ok && azp != cfg.OIDCClientID {
		return logical.InvalidRequest("error validating claims: the authorized party (azp) is not this client")
	}
	if len(r.BoundAudiences) > 0 {
		if err := checkAudience(r.BoundAudiences, c.Audience); err != nil {
			return err
		}
	}
	got, _ := all["nonce"].(string)
	if subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
		return logical.InvalidRequest("error validating claims: the ID token's nonce does not match the login's")
	}
	if r.MaxAge > 0 {
		return checkAuthTime(all["auth_time"], now, r.MaxAge)
	}
	return nil
}

// checkAuthTime requires an auth_time claim no older than maxAge (plus
// the clock skew).
func checkAuthTime(raw any, now time.Time, maxAge time.Duration) error {
	n, ok := raw.(json.Number)
	if !ok {
		return logical.InvalidRequest("error validating claims: max_age is set but the ID token has no auth_time")
	}
	secs, err := n.Float64()
	if err != nil {
		return logical.InvalidRequest("error validating claims: auth_time is not a number")
	}
	at := time.Unix(int64(secs), 0)
	if now.Sub(at) > maxAge+defaultClockSkew {
		return logical.InvalidRequest("error validating claims: the last authentication (auth_time) is older than the role's max_age")
	}
	return nil
}
