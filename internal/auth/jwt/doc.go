// Package jwt is kinko's JWT/OIDC auth method (mounted as type "jwt" and
// "oidc"), speaking Vault's JWT/OIDC API: config, role/:name (LIST role/),
// the unauthenticated login path that trades a signed JWT for a token, and
// the unauthenticated OIDC authorization-code flow (oidc/auth_url, then
// oidc/callback) for people logging in through a provider in a browser.
// Tokens are minted by core from the returned logical.Auth.
//
// # Storage layout (below the mount's barrier-encrypted view)
//
//	config          the mount configuration (JSON; holds oidc_client_secret,
//	                which a config read never returns)
//	role/<name>     one role record per lower-cased role name (JSON)
//
// # Roles
//
// A role is of type "oidc" (the default, as in Vault) or "jwt". A "jwt"
// role needs a bound constraint (bound_audiences, bound_subject,
// bound_claims or token_bound_cidrs) and serves only login; an "oidc"
// role needs allowed_redirect_uris and serves only the OIDC flow (login
// refuses it: "role with oidc role_type is not allowed"). Both share the
// claim rules below, the user claim, claim_mappings, groups_claim and the
// token_* settings.
//
// # Verification
//
// A login's JWT (or a provider's ID token) is at most 64 KiB, must be a
// compact JWS signed with one of RS256/384/512, PS256/384/512,
// ES256/384/512 or EdDSA (never "none" nor an HMAC algorithm, whatever
// jwt_supported_algs says), by a key of the type and curve the algorithm
// names, taken from exactly one source: PEM public keys
// (jwt_validation_pubkeys), a JWKS URL, or an OIDC discovery URL (whose
// document's issuer must equal the URL and then binds "iss"). JWT claims
// are checked as Vault does: iss == bound_issuer, sub == bound_subject,
// aud ∩ bound_audiences (a token with an aud claim is refused by a role
// with no bound audiences), exp/nbf/iat with clock_skew_leeway (a missing
// exp or nbf is synthesised with expiration_leeway / not_before_leeway,
// Vault's rule), bound_claims (exact or glob; a list claim matches when
// any element does; keys starting with "/" are JSON pointers) and the user
// claim (present, a string). groups_claim (a claim or "/json/pointer"
// holding a string or a list of strings) becomes one
// logical.Auth.GroupAliases entry per distinct non-empty group, and the raw
// list is kept in InternalData["groups"].
//
// # OIDC authorization-code flow
//
// It needs oidc_discovery_url and oidc_client_id (oidc_client_secret unless
// the client is public); the discovery document's authorization_endpoint
// and token_endpoint must be http(s) URLs (https when the discovery URL
// is). oidc/auth_url checks the role and that redirect_uri is exactly one
// of its allowed_redirect_uris, then keeps a pending login under a fresh
// state and returns the provider's authorization URL with client_id,
// redirect_uri, response_type (oidc_response_types, default "code"),
// scope ("openid" plus oidc_scopes), state, nonce, an S256 PKCE challenge,
// response_mode=form_post when configured and max_age when the role sets
// it. State, nonce and PKCE verifier are 32 bytes from crypto/rand each.
//
// oidc/callback (GET) takes the pending login of its state, whatever
// happens next: a state works once, for pendingTTL (10 minutes). It then
// checks client_nonce (when auth_url got one) and nonce (when sent), the
// role (still "oidc") and token_bound_cidrs, exchanges the code at the
// token endpoint (client_secret_basic, or client_secret_post when that is
// the only method the provider lists; the PKCE verifier; redirects are not
// followed) and verifies the ID token: signature with the discovery
// document's keys, iss == the discovered issuer (and bound_issuer when
// set), aud contains the client ID (and one of bound_audiences when set),
// azp when present == the client ID, exp present and not past (60s skew),
// nbf/iat not in the future, sub == bound_subject when set, nonce == the
// pending login's (constant-time), auth_time within max_age when set. The
// claims then go through bound_claims, the user claim, claim_mappings and
// groups_claim exactly as a JWT login's, and the answer is the same
// logical.Auth. A POST to oidc/callback (form_post response mode, as
// Vault's CLI sends it) only records the posted code or id_token on the
// pending login, once, and answers a small HTML page; the GET that
// follows completes the login. A posted id_token (no code) is accepted
// only when oidc_response_types includes "id_token". The UserInfo
// endpoint is not used: claims come from the ID token alone.
// verbose_oidc_logging is accepted and ignored (tokens and claims are
// never logged).
//
// # Caches and concurrency
//
// Parsed configuration and key sources are cached in memory together with
// the stored config bytes they came from; a login whose config read returns
// other bytes rebuilds them, so the cache is never stale. A JWKS is fetched
// with a timeout and a bounded body, kept for jwksMaxAge, and refetched
// early when a token names an unknown kid, at most once per
// jwksMinRefetch; fetches are serialised per key source and a failed
// refetch keeps the previous keys. The discovery document (issuer, JWKS
// URL, OAuth endpoints) is fetched once per cached configuration. Roles
// are read from storage on every login.
//
// Pending OIDC logins live in memory only (their nonce and PKCE verifier
// never reach storage), keyed by the SHA-256 of their state, at most
// maxPending per mount (auth_url then answers 429), expired ones swept
// when due; a restart, a seal or an unmount voids them and the user
// starts again. The pending store has its own mutex; all other backend
// state is immutable after Factory or atomic, so handlers run
// concurrently without locks except per-role write stripes.
//
// # Errors
//
// Login and callback failures are 400 (logical.ErrInvalidRequest) with
// Vault's wording where Vault has one ("error validating claims: ...",
// "role %q could not be found", "expired or missing OAuth state", ...),
// except a source address outside token_bound_cidrs, which is 403. Error
// messages never contain the presented token, the authorization code or
// the client secret; a token endpoint's error and error_description are
// shown cleaned (printable ASCII) and shortened.
package jwt
