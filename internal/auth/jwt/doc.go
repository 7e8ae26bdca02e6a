// Package jwt is kinko's JWT/OIDC auth method (mounted as type "jwt" and
// "oidc"), speaking Vault's JWT API: config, role/:name (LIST role/) and the
// unauthenticated login path that trades a signed JWT for a token (minted
// by core from the returned logical.Auth). Only the "jwt" role type is
// served; the interactive OIDC browser flow ("oidc" roles, auth_url,
// callback) is not.
//
// # Storage layout (below the mount's barrier-encrypted view)
//
//	config          the mount configuration (JSON)
//	role/<name>     one role record per lower-cased role name (JSON)
//
// # Verification
//
// A login's JWT is at most 64 KiB, must be a compact JWS signed with one of
// RS256/384/512, PS256/384/512, ES256/384/512 or EdDSA (never "none" nor an
// HMAC algorithm, whatever jwt_supported_algs says), by a key of the type
// and curve the algorithm names, taken from exactly one source: PEM public
// keys (jwt_validation_pubkeys), a JWKS URL, or an OIDC discovery URL
// (whose document's issuer must equal the URL and then binds "iss").
// Claims are checked as Vault does: iss == bound_issuer, sub ==
// bound_subject, aud ∩ bound_audiences (a token with an aud claim is
// refused by a role with no bound audiences), exp/nbf/iat with
// clock_skew_leeway (a missing exp or nbf is synthesised with
// expiration_leeway / not_before_leeway, Vault's rule), bound_claims (exact
// or glob; a list claim matches when any element does; keys starting with
// "/" are JSON pointers) and the user claim (present, a string).
//
// # Caches and concurrency
//
// Parsed configuration and key sources are cached in memory together with
// the stored config bytes they came from; a login whose config read returns
// other bytes rebuilds them, so the cache is never stale. A JWKS is fetched
// with a timeout and a bounded body, kept for jwksMaxAge, and refetched
// early when a token names an unknown kid, at most once per
// jwksMinRefetch; fetches are serialised per key source and a failed
// refetch keeps the previous keys. Roles are read from storage on every
// login. All other backend state is immutable after Factory, so handlers
// run concurrently without locks except per-role write stripes.
//
// # Errors
//
// Login failures are 400 (logical.ErrInvalidRequest) with Vault's wording
// ("error validating claims: ...", "role %q could not be found", ...),
// except a source address outside token_bound_cidrs, which is 403. Error
// messages never contain the presented token.
package jwt
