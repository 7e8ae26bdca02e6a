package jwt

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/kinko-dev/kinko/internal/logical"
)

// verifyToken checks token's signature with k's keys and its registered
// claims against k's config and r, and returns every claim (numbers as
// json.Number). Errors are user-facing and never contain the token.
func (b *backend) verifyToken(ctx context.Context, k *keyring, r *role, token string) (map[string]any, error) {
	all, claims, err := b.parseVerified(ctx, k, token, "token")
	if err != nil {
		return nil, err
	}
	if err := b.checkRegistered(ctx, k, r, claims); err != nil {
		return nil, err
	}
	return all, nil
}

// parseVerified parses a compact JWS (what names it in errors: "token",
// "ID token"), checks its signature with k's keys and decodes its claims.
func (b *backend) parseVerified(ctx context.Context, k *keyring, raw, what string) (map[string]any, *josejwt.Claims, error) {
	if len(raw) > maxJWTSize {
		return nil, nil, logical.InvalidRequest("error parsing %s: it is larger than %d bytes", what, maxJWTSize)
	}
	sig, err := jose.ParseSignedCompact(raw, k.algs)
	if err != nil {
		return nil, nil, logical.InvalidRequest("error parsing %s: %s", what, joseMessage(err))
	}
	payload, err := b.verifySignature(ctx, k, sig)
	if err != nil {
		return nil, nil, err
	}
	return decodeClaims(payload)
}

// decodeClaims decodes a verified payload into every claim (numbers as
// json.Number) and the registered ones.
func decodeClaims(payload []byte) (map[string]any, *josejwt.Claims, error) {
	var claims josejwt.Claims
	all := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&all); err != nil || json.Unmarshal(payload, &claims) != nil {
		return nil, nil, logical.InvalidRequest("error parsing token: the claims are not a valid JWT claims set")
	}
	return all, &claims, nil
}

// verifySignature returns the payload once a key fitting the token's
// algorithm (and key ID, for a JWKS) verifies its signature.
func (b *backend) verifySignature(ctx context.Context, k *keyring, sig *jose.JSONWebSignature) ([]byte, error) {
	if len(sig.Signatures) != 1 {
		return nil, logical.InvalidRequest("error parsing token: exactly one signature expected")
	}
	h := sig.Signatures[0].Protected
	alg := jose.SignatureAlgorithm(h.Algorithm)
	if k.remote == nil {
		for _, key := range k.static {
			if !keyFitsAlg(alg, key) {
				continue
			}
			if payload, err := sig.Verify(key); err == nil {
				return payload, nil
			}
		}
		return nil, logical.InvalidRequest("no known key successfully validated the token signature")
	}
	keys, err := k.remote.keys(ctx, h.KeyID, b.now(), b.minRefetch)
	if err != nil {
		return nil, logical.InvalidRequest("error verifying token signature: the signing keys could not be fetched")
	}
	tried := false
	for _, jwk := range keys {
		if !keyFitsAlg(alg, jwk.Key) || (jwk.Algorithm != "" && jwk.Algorithm != string(alg)) {
			continue
		}
		tried = true
		if payload, err := sig.Verify(jwk.Key); err == nil {
			return payload, nil
		}
	}
	if !tried && h.KeyID != "" {
		return nil, logical.InvalidRequest("error verifying token signature: no %s key with the token's key ID (kid) is known", alg)
	}
	return nil, logical.InvalidRequest("error verifying token signature: no known key successfully validated the token signature")
}

// checkRegistered validates exp/nbf/iat, iss, sub and aud as Vault does
// for JWT roles: a token must carry at least one of exp, nbf and iat; a
// missing exp is its latest start (iat or nbf) plus expiration_leeway, a
// missing nbf is its iat, or exp minus not_before_leeway.
func (b *backend) checkRegistered(ctx context.Context, k *keyring, r *role, c *josejwt.Claims) error {
	zero := func(d *josejwt.NumericDate) bool { return d == nil || *d == 0 }
	if zero(c.IssuedAt) && zero(c.Expiry) && zero(c.NotBefore) {
		return logical.InvalidRequest("no issue time, notbefore, or expiration time encoded in token")
	}
	if zero(c.Expiry) {
		start := josejwt.NumericDate(0)
		for _, d := range []*josejwt.NumericDate{c.IssuedAt, c.NotBefore} {
			if d != nil && *d > start {
				start = *d
			}
		}
		exp := start + josejwt.NumericDate(leeway(r.ExpirationLeeway, defaultClaimLeeway)/time.Second)
		c.Expiry = &exp
	}
	if zero(c.NotBefore) {
		nbf := *c.Expiry - josejwt.NumericDate(leeway(r.NotBeforeLeeway, defaultClaimLeeway)/time.Second)
		if !zero(c.IssuedAt) {
			nbf = *c.IssuedAt
		}
		c.NotBefore = &nbf
	}
	expected := josejwt.Expected{Issuer: k.cfg.BoundIssuer, Subject: r.BoundSubject, Time: b.now()}
	if err := c.ValidateWithLeeway(expected, leeway(r.ClockSkewLeeway, defaultClockSkew)); err != nil {
		return logical.InvalidRequest("error validating claims: %s", joseMessage(err))
	}
	if k.remote != nil {
		iss, err := k.remote.discoveredIssuer(ctx)
		if err != nil {
			return logical.InvalidRequest("error verifying token: the OIDC discovery document could not be fetched")
		}
		if iss != "" && c.Issuer != iss {
			return logical.InvalidRequest("error validating claims: validation failed, invalid issuer claim (iss)")
		}
	}
	return checkAudience(r.BoundAudiences, c.Audience)
}

// checkAudience requires aud ∩ bound ≠ ∅ when the role binds audiences,
// and refuses a token with an aud claim when it binds none (Vault's strict
// rule for JWT roles).
func checkAudience(bound []string, aud josejwt.Audience) error {
	if len(bound) == 0 {
		if len(aud) > 0 {
			return logical.InvalidRequest("error validating claims: audience claim found in JWT but no audiences bound to the role")
		}
		return nil
	}
	for _, v := range bound {
		if aud.Contains(v) {
			return nil
		}
	}
	return logical.InvalidRequest("error validating claims: aud claim does not match any bound audience")
}

// joseMessage is a go-jose error without its package prefix.
func joseMessage(err error) string {
	msg := err.Error()
	for _, p := range []string{"go-jose/go-jose/jwt: ", "go-jose/go-jose: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	if len(msg) <= 200 {
		return msg
	}
	return msg[:200] + "..."
}
