package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/kinko-dev/kinko/internal/logical"
)

// signRoles are the roles of TestSignPolicy.
var signRoles = map[string]map[string]any{
	"users": {"allowed_users": "alice,bob", "default_user": "alice", "allowed_extensions": "permit-pty",
		"default_extensions": map[string]any{"permit-pty": ""}, "allowed_critical_options": "force-command"},
	"any":     {"allowed_users": "*"},
	"empty":   {},
	"hosts":   {"allow_user_certificates": false, "allow_host_certificates": true, "allowed_domains": "example.com", "allow_subdomains": true},
	"bare":    {"allow_user_certificates": false, "allow_host_certificates": true, "allowed_domains": "example.com", "allow_bare_domains": true},
	"keyid":   {"allowed_users": "*", "allow_user_key_ids": true, "key_id_format": "{{role_name}}-{{token_display_name}}"},
	"lengths": {"allowed_users": "*", "allowed_user_key_lengths": map[string]any{"rsa": 2048, "ecdsa-sha2-nistp256": 0}},
	"tmpl": {"allowed_users": "u-{{identity.entity.id}},static", "allowed_users_template": true,
		"default_user": "u-{{identity.entity.id}}", "default_user_template": true},
}

func principalsAre(want ...string) func(*testing.T, *ssh.Certificate) {
	return func(t *testing.T, c *ssh.Certificate) {
		t.Helper()
		if len(want) == 0 && len(c.ValidPrincipals) == 0 {
			return
		}
		if !reflect.DeepEqual(c.ValidPrincipals, want) {
			t.Fatalf("principals %q, want %q", c.ValidPrincipals, want)
		}
	}
}

// signCase is one request of TestSignPolicy.
type signCase struct {
	name, role string
	data       map[string]any
	key        string // key family, default ed25519
	msg        string // expected error
	check      func(*testing.T, *ssh.Certificate)
}

// signCases exercise every rule of a role on sign/.
var signCases = []signCase{
	{name: "allowed", role: "users", data: map[string]any{"valid_principals": "alice"}, check: principalsAre("alice")},
	{name: "default user", role: "users", check: principalsAre("alice")},
	{name: "list deduped", role: "users", data: map[string]any{"valid_principals": "alice, bob,alice"}, check: principalsAre("alice", "bob")},
	{name: "json list", role: "users", data: map[string]any{"valid_principals": []any{"bob"}}, check: principalsAre("bob")},
	{name: "denied", role: "users", data: map[string]any{"valid_principals": "carol"}, msg: "carol is not a valid value for valid_principals"},
	{name: "one denied", role: "users", data: map[string]any{"valid_principals": "alice,root"}, msg: "root is not a valid value"},
	{name: "host on user role", role: "users", data: map[string]any{"cert_type": "host"}, msg: "cert_type 'host' is not allowed by role"},
	{name: "bad cert type", role: "users", data: map[string]any{"cert_type": "both"}, msg: "must be one of user, host"},
	{name: "star", role: "any", data: map[string]any{"valid_principals": "anyone"}, check: principalsAre("anyone")},
	{name: "star empty", role: "any", check: principalsAre()},
	{name: "none allowed", role: "empty", data: map[string]any{"valid_principals": "x"}, msg: "role is not configured to allow any principals"},
	{name: "no principals", role: "empty", msg: "refusing to issue unsafe"},
	{name: "control char", role: "any", data: map[string]any{"valid_principals": "a\nb"}, msg: "no control characters"},
	{name: "subdomain", role: "hosts", data: map[string]any{"cert_type": "host", "valid_principals": "web.example.com"}, check: principalsAre("web.example.com")},
	{name: "bare denied", role: "hosts", data: map[string]any{"cert_type": "host", "valid_principals": "example.com"}, msg: "example.com is not a valid value"},
	{name: "suffix trick", role: "hosts", data: map[string]any{"cert_type": "host", "valid_principals": "evilexample.com"}, msg: "not a valid value"},
	{name: "other domain", role: "hosts", data: map[string]any{"cert_type": "host", "valid_principals": "web.example.org"}, msg: "allowed_domains does not allow it"},
	{name: "user on host role", role: "hosts", data: map[string]any{"valid_principals": "web.example.com"}, msg: "cert_type 'user' is not allowed"},
	{name: "bare", role: "bare", data: map[string]any{"cert_type": "host", "valid_principals": "example.com"}, check: principalsAre("example.com")},
	{name: "bare no sub", role: "bare", data: map[string]any{"cert_type": "host", "valid_principals": "a.example.com"}, msg: "not a valid value"},
	{name: "default extensions", role: "users", check: func(t *testing.T, c *ssh.Certificate) {
		if !reflect.DeepEqual(c.Extensions, map[string]string{"permit-pty": ""}) {
			t.Fatalf("extensions %v", c.Extensions)
		}
	}},
	{name: "allowed extension", role: "users", data: map[string]any{"extensions": map[string]any{"permit-pty": ""}}},
	{name: "denied extension", role: "users", data: map[string]any{"extensions": map[string]any{"permit-X11-forwarding": ""}}, msg: "extensions [permit-X11-forwarding] are not on allowed list"},
	{name: "no extensions allowed", role: "any", data: map[string]any{"valid_principals": "a", "extensions": map[string]any{"permit-pty": ""}}, msg: "not on allowed list"},
	{name: "allowed option", role: "users", data: map[string]any{"critical_options": map[string]any{"force-command": "true"}}, check: func(t *testing.T, c *ssh.Certificate) {
		if c.CriticalOptions["force-command"] != "true" {
			t.Fatalf("critical options %v", c.CriticalOptions)
		}
	}},
	{name: "denied option", role: "users", data: map[string]any{"critical_options": map[string]any{"source-address": "10.0.0.0/8"}}, msg: "critical options not on allowed list: [source-address]"},
	{name: "any option", role: "any", data: map[string]any{"valid_principals": "a", "critical_options": map[string]any{"source-address": "127.0.0.1/32"}}},
	{name: "key id refused", role: "users", data: map[string]any{"key_id": "mine"}, msg: "setting key_id is not allowed by role"},
	{name: "key id", role: "keyid", data: map[string]any{"valid_principals": "a", "key_id": "mine"}, check: func(t *testing.T, c *ssh.Certificate) {
		if c.KeyId != "mine" {
			t.Fatalf("key id %q", c.KeyId)
		}
	}},
	{name: "key id format", role: "keyid", data: map[string]any{"valid_principals": "a"}, check: func(t *testing.T, c *ssh.Certificate) {
		if c.KeyId != "keyid-token-alice" {
			t.Fatalf("key id %q", c.KeyId)
		}
	}},
	{name: "default key id", role: "users", check: func(t *testing.T, c *ssh.Certificate) {
		sum := sha256.Sum256(c.Key.Marshal())
		if want := "vault-token-alice-" + hex.EncodeToString(sum[:]); c.KeyId != want {
			t.Fatalf("key id %q, want %q", c.KeyId, want)
		}
	}},
	{name: "key type refused", role: "lengths", data: map[string]any{"valid_principals": "a"}, msg: "keys of type ed25519 are not allowed"},
	{name: "rsa size ok", role: "lengths", key: "rsa", data: map[string]any{"valid_principals": "a"}},
	{name: "named curve ok", role: "lengths", key: "ecdsa", data: map[string]any{"valid_principals": "a"}},
	{name: "curve refused", role: "lengths", key: "ecdsa384", data: map[string]any{"valid_principals": "a"}, msg: "ecdsa keys of 384 bits are not allowed"},
	{name: "template default", role: "tmpl", check: principalsAre("u-ent-1")},
	{name: "template static", role: "tmpl", data: map[string]any{"valid_principals": "static,u-ent-1"}, check: principalsAre("static", "u-ent-1")},
	{name: "template other entity", role: "tmpl", data: map[string]any{"valid_principals": "u-ent-2"}, msg: "u-ent-2 is not a valid value"},
	{name: "unknown role", role: "nope", msg: "unknown role: nope"},
}

func TestSignPolicy(t *testing.T) {
	e := newEnv(t)
	ca := e.genCA()
	for name, data := range signRoles {
		e.role(name, data)
	}
	for _, tc := range signCases {
		t.Run(tc.name, func(t *testing.T) { runSignCase(t, e, ca, tc) })
	}
}

// runSignCase sends one case and checks the certificate, or the error.
func runSignCase(t *testing.T, e *env, ca ssh.PublicKey, tc signCase) {
	kind := tc.key
	if kind == "" {
		kind = "ed25519"
	}
	in := map[string]any{"public_key": authorizedLine(t, newKey(t, kind))}
	for k, v := range tc.data {
		in[k] = v
	}
	if tc.msg != "" {
		e.fail(logical.UpdateOperation, "sign/"+tc.role, in, tc.msg)
		return
	}
	resp := e.ok(logical.UpdateOperation, "sign/"+tc.role, in)
	cert := parseCert(t, resp.Data["signed_key"].(string))
	if got, want := resp.Data["serial_number"], strconv.FormatUint(cert.Serial, 16); got != want {
		t.Errorf("serial_number %v, certificate serial %s", got, want)
	}
	if string(cert.Key.Marshal()) != string(parseAuthorized(t, in["public_key"].(string)).Marshal()) {
		t.Fatal("the certificate certifies another key")
	}
	if len(cert.ValidPrincipals) > 0 {
		checkCert(t, ca, cert, cert.ValidPrincipals[0])
	}
	if tc.check != nil {
		tc.check(t, cert)
	}
}

func TestSignBadInput(t *testing.T) {
	e := newEnv(t)
	e.genCA()
	e.role("any", map[string]any{"allowed_users": "*"})
	cert := e.ok(logical.UpdateOperation, "sign/any", map[string]any{"public_key": authorizedLine(t, newKey(t, "ed25519")), "valid_principals": "a"}).Data["signed_key"].(string)
	bare := parseAuthorized(t, authorizedLine(t, newKey(t, "ed25519")))
	for _, tc := range []struct {
		name string
		data map[string]any
		msg  string
	}{
		{"missing key", map[string]any{"valid_principals": "a"}, `missing required field "public_key"`},
		{"empty key", map[string]any{"public_key": " "}, "the key is empty"},
		{"garbage", map[string]any{"public_key": "hello world"}, "expected an authorized_keys line"},
		{"bad blob", map[string]any{"public_key": "AAAA"}, "not a valid SSH public key"},
		{"certificate", map[string]any{"public_key": cert}, "the key is a certificate"},
		{"two keys", map[string]any{"public_key": authorizedLine(t, newKey(t, "ed25519")) + "\n" + authorizedLine(t, newKey(t, "ed25519"))}, "exactly one key"},
		{"nested extension", map[string]any{"public_key": authorizedLine(t, newKey(t, "ed25519")), "extensions": map[string]any{"a": []any{}}}, "must be a string"},
		{"not a map", map[string]any{"public_key": authorizedLine(t, newKey(t, "ed25519")), "extensions": "permit-pty"}, `invalid value for "extensions"`},
	} {
		t.Run(tc.name, func(t *testing.T) { e.fail(logical.UpdateOperation, "sign/any", tc.data, tc.msg) })
	}
	// The bare base64 blob is accepted, as Vault does.
	blob := ssh.MarshalAuthorizedKey(bare)
	_, b64, _ := cutSpace(string(blob))
	e.ok(logical.UpdateOperation, "sign/any", map[string]any{"public_key": b64, "valid_principals": "a"})
}

func cutSpace(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == ' ' {
			return s[:i], s[i+1 : len(s)-1], true
		}
	}
	return s, "", false
}

func TestSignTTL(t *testing.T) {
	e := newEnv(t)
	e.genCA()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e.b.now = func() time.Time { return now }
	e.role("capped", map[string]any{"allowed_users": "*", "ttl": "1h", "max_ttl": "2h"})
	e.role("maxonly", map[string]any{"allowed_users": "*", "max_ttl": "1h", "not_before_duration": 0})
	e.role("mount", map[string]any{"allowed_users": "*", "not_before_duration": "5m"})
	for _, tc := range []struct {
		name, role string
		ttl        any
		mount      logical.MountConfig
		want       time.Duration // lifetime after now
		after      time.Duration // ValidAfter before now
		msg        string
	}{
		{name: "role default", role: "capped", want: time.Hour, after: 30 * time.Second},
		{name: "requested", role: "capped", ttl: "90m", want: 90 * time.Minute, after: 30 * time.Second},
		{name: "seconds", role: "capped", ttl: 60, want: time.Minute, after: 30 * time.Second},
		{name: "at max", role: "capped", ttl: "2h", want: 2 * time.Hour, after: 30 * time.Second},
		{name: "above max", role: "capped", ttl: "3h", msg: "ttl is larger than maximum allowed 7200"},
		{name: "system default capped", role: "maxonly", want: time.Hour},
		{name: "mount default", role: "mount", mount: logical.MountConfig{DefaultLeaseTTL: 10 * time.Minute, MaxLeaseTTL: 20 * time.Minute}, want: 10 * time.Minute, after: 5 * time.Minute},
		{name: "mount max", role: "mount", ttl: "30m", mount: logical.MountConfig{DefaultLeaseTTL: 10 * time.Minute, MaxLeaseTTL: 20 * time.Minute}, msg: "maximum allowed 1200"},
		{name: "system default", role: "mount", want: 768 * time.Hour, after: 5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.mount = tc.mount
			data := map[string]any{"public_key": authorizedLine(t, newKey(t, "ed25519")), "valid_principals": "a"}
			if tc.ttl != nil {
				data["ttl"] = tc.ttl
			}
			if tc.msg != "" {
				e.fail(logical.UpdateOperation, "sign/"+tc.role, data, tc.msg)
				return
			}
			c := parseCert(t, e.ok(logical.UpdateOperation, "sign/"+tc.role, data).Data["signed_key"].(string))
			if got := time.Unix(int64(c.ValidBefore), 0).Sub(now); got != tc.want {
				t.Errorf("lifetime %s, want %s", got, tc.want)
			}
			if got := now.Sub(time.Unix(int64(c.ValidAfter), 0)); got != tc.after {
				t.Errorf("valid from %s before now, want %s", got, tc.after)
			}
		})
	}
}

func TestSignAlgorithm(t *testing.T) {
	e := newEnv(t)
	e.ok(logical.UpdateOperation, "config/ca", map[string]any{"key_type": "rsa", "key_bits": 2048})
	for _, algo := range []string{"", "default", ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSA} {
		e.role("r", map[string]any{"allowed_users": "*", "algorithm_signer": algo})
		want := algo
		if algo == "" || algo == "default" {
			want = ssh.KeyAlgoRSASHA256
		}
		if got := e.sign("r", map[string]any{"valid_principals": "a"}).Signature.Format; got != want {
			t.Errorf("algorithm_signer %q: signature %s, want %s", algo, got, want)
		}
	}
	e2 := newEnv(t)
	e2.genCA()
	e2.role("r", map[string]any{"allowed_users": "*", "algorithm_signer": ssh.KeyAlgoRSASHA512})
	e2.fail(logical.UpdateOperation, "sign/r", map[string]any{"public_key": authorizedLine(t, newKey(t, "ed25519")), "valid_principals": "a"},
		"needs an RSA CA key")
}

func TestSerialsDiffer(t *testing.T) {
	e := newEnv(t)
	e.genCA()
	e.role("r", map[string]any{"allowed_users": "*"})
	seen := map[uint64]bool{}
	for range 20 {
		s := e.sign("r", map[string]any{"valid_principals": "a"}).Serial
		if seen[s] {
			t.Fatalf("serial %x repeated", s)
		}
		seen[s] = true
	}
}

func TestIssue(t *testing.T) {
	e := newEnv(t)
	ca := e.genCA()
	e.role("r", map[string]any{"allowed_users": "*"})
	e.role("lengths", map[string]any{"allowed_users": "*", "allowed_user_key_lengths": map[string]any{"rsa": 2048}})
	for _, tc := range []struct {
		role     string
		data     map[string]any
		wantType string
		msg      string
	}{
		{role: "r", data: map[string]any{}, wantType: "ed25519"},
		{role: "r", data: map[string]any{"key_type": "rsa", "key_bits": 2048}, wantType: "rsa"},
		{role: "r", data: map[string]any{"key_type": "ec", "key_bits": 384}, wantType: "ec"},
		{role: "r", data: map[string]any{"key_type": "dsa"}, msg: "unknown key_type"},
		{role: "nope", data: map[string]any{}, msg: "unknown role"},
		{role: "lengths", data: map[string]any{}, msg: "keys of type ed25519 are not allowed"},
		{role: "lengths", data: map[string]any{"key_type": "rsa", "key_bits": 2048}, wantType: "rsa"},
	} {
		t.Run(tc.role+"/"+tc.wantType+tc.msg, func(t *testing.T) {
			tc.data["valid_principals"] = "a"
			if tc.msg != "" {
				e.fail(logical.UpdateOperation, "issue/"+tc.role, tc.data, tc.msg)
				return
			}
			resp := e.ok(logical.UpdateOperation, "issue/"+tc.role, tc.data)
			if resp.Data["private_key_type"] != tc.wantType {
				t.Fatalf("private_key_type %v, want %s", resp.Data["private_key_type"], tc.wantType)
			}
			cert := parseCert(t, resp.Data["signed_key"].(string))
			checkCert(t, ca, cert, "a")
			signer, err := ssh.ParsePrivateKey([]byte(resp.Data["private_key"].(string)))
			if err != nil {
				t.Fatal(err)
			}
			if string(signer.PublicKey().Marshal()) != string(cert.Key.Marshal()) {
				t.Fatal("private_key does not belong to the certified key")
			}
		})
	}
}

// TestSignSecurityKey signs a FIDO (sk-ssh-ed25519) public key, which
// OpenSSH users hold on hardware tokens.
func TestSignSecurityKey(t *testing.T) {
	e := newEnv(t)
	ca := e.genCA()
	e.role("r", map[string]any{"allowed_users": "alice", "allowed_user_key_lengths": map[string]any{"ed25519": 0}})
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	wire := ssh.Marshal(struct{ Type, Key, App string }{"sk-ssh-ed25519@openssh.com", string(pub), "ssh:"})
	sk, err := ssh.ParsePublicKey(wire)
	if err != nil {
		t.Fatal(err)
	}
	resp := e.ok(logical.UpdateOperation, "sign/r", map[string]any{"public_key": string(ssh.MarshalAuthorizedKey(sk)), "valid_principals": "alice"})
	cert := parseCert(t, resp.Data["signed_key"].(string))
	if cert.Type() != "sk-ssh-ed25519-cert-v01@openssh.com" {
		t.Fatalf("certificate type %s", cert.Type())
	}
	checkCert(t, ca, cert, "alice")
}
