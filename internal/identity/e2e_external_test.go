package identity_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/testserver"
)

// signJWT returns a token for subject "ann" carrying the groups claim.
func signJWT(t *testing.T, key *ecdsa.PrivateKey, groups []string) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c := josejwt.Claims{Subject: "ann", Audience: josejwt.Audience{"kinko"}, IssuedAt: josejwt.NewNumericDate(now),
		NotBefore: josejwt.NewNumericDate(now.Add(-time.Minute)), Expiry: josejwt.NewNumericDate(now.Add(5 * time.Minute))}
	tok, err := josejwt.Signed(sig).Claims(c).Claims(map[string]any{"groups": groups}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestExternalGroupsEndToEnd: a JWT login whose groups claim names "devs"
// gets the policy of the external group "devs" through its group alias;
// a later login without "devs" takes the membership away, and the first
// token (still valid) is denied from then on.
func TestExternalGroupsEndToEnd(t *testing.T) {
	s := testserver.Start(t)
	root := newClient(t, s.Addr, s.RootToken)
	secret := must[*vault.Secret](t)
	ok(t, root.Sys().PutPolicy("reader", `path "secret/data/app" { capabilities = ["read"] }`))
	must[*vault.KVSecret](t)(root.KVv2("secret").Put(t.Context(), "app", map[string]any{"k": "v"}))
	ok(t, root.Sys().EnableAuthWithOptions("jwt", &vault.EnableAuthOptions{Type: "jwt"}))
	key := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	der := must[[]byte](t)(x509.MarshalPKIXPublicKey(&key.PublicKey))
	secret(root.Logical().Write("auth/jwt/config", map[string]any{
		"jwt_validation_pubkeys": []string{string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}}))
	secret(root.Logical().Write("auth/jwt/role/dev", map[string]any{"role_type": "jwt", "user_claim": "sub",
		"bound_audiences": []string{"kinko"}, "groups_claim": "groups", "token_policies": "default"}))
	mounts := must[map[string]*vault.AuthMount](t)(root.Sys().ListAuth())
	accessor := mounts["jwt/"].Accessor

	g := secret(root.Logical().Write("identity/group", map[string]any{"name": "devs", "type": "external", "policies": "reader"}))
	gid := g.Data["id"].(string)
	alias := secret(root.Logical().Write("identity/group-alias", map[string]any{"name": "devs", "mount_accessor": accessor, "canonical_id": gid}))
	if alias.Data["canonical_id"] != gid {
		t.Fatalf("group alias: %v", alias.Data)
	}
	found := secret(root.Logical().Write("identity/lookup/group", map[string]any{"alias_name": "devs", "alias_mount_accessor": accessor}))
	if found == nil || found.Data["id"] != gid || found.Data["alias"].(map[string]any)["mount_path"] != "auth/jwt/" {
		t.Fatalf("lookup by alias: %+v", found)
	}

	login := func(groups ...string) *vault.Secret {
		return secret(newClient(t, s.Addr, "").Logical().Write("auth/jwt/login", map[string]any{"role": "dev", "jwt": signJWT(t, key, groups)}))
	}
	read := func(tok string) error {
		_, err := newClient(t, s.Addr, tok).KVv2("secret").Get(t.Context(), "app")
		return err
	}
	first := login("devs", "other")
	if err := read(first.Auth.ClientToken); err != nil {
		t.Fatalf("read as a member of devs: %v", err)
	}
	if ids := secret(root.Logical().Read("identity/group/id/" + gid)).Data["member_entity_ids"].([]any); len(ids) != 1 || ids[0] != first.Auth.EntityID {
		t.Fatalf("devs members %v, want [%s]", ids, first.Auth.EntityID)
	}
	second := login("ops")
	if second.Auth.EntityID != first.Auth.EntityID {
		t.Fatalf("second login got entity %s, want %s", second.Auth.EntityID, first.Auth.EntityID)
	}
	for _, tok := range []string{first.Auth.ClientToken, second.Auth.ClientToken} {
		if err := read(tok); err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("read after leaving devs: %v", err)
		}
	}
	if ids := secret(root.Logical().Read("identity/group/id/" + gid)).Data["member_entity_ids"].([]any); len(ids) != 0 {
		t.Fatalf("devs members after leaving: %v", ids)
	}
	if err := read(login("devs").Auth.ClientToken); err != nil {
		t.Fatalf("read after rejoining devs: %v", err)
	}
}
