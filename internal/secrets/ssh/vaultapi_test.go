package ssh_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
	"golang.org/x/crypto/ssh"
)

func TestVaultAPIConfigCA(t *testing.T) {
	a := newAPIEnv(t)
	_, err := a.c.Logical().Read("ssh/config/ca")
	if re, ok := err.(*vault.ResponseError); !ok || re.StatusCode != http.StatusBadRequest {
		t.Fatalf("read of an unconfigured CA: %v", err)
	}
	ca := a.genCA()
	if ca.Type() != ssh.KeyAlgoED25519 {
		t.Fatalf("default CA type %s", ca.Type())
	}
	line := str(t, a.read("config/ca"), "public_key")
	if string(ssh.MarshalAuthorizedKey(ca)) != line {
		t.Fatalf("config/ca read %q", line)
	}
	a.fail("config/ca", map[string]any{"generate_signing_key": true}, http.StatusBadRequest, "keys are already configured")

	// public_key needs no token and is plain text.
	resp, err := http.Get(a.srv.Addr + "/v1/ssh/public_key")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/plain" || string(body) != line {
		t.Fatalf("GET public_key: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	// config/ca does need one.
	resp, err = http.Get(a.srv.Addr + "/v1/ssh/config/ca")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("GET config/ca without a token: %d", resp.StatusCode)
	}

	if _, err := a.c.Logical().Delete("ssh/config/ca"); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(a.srv.Addr + "/v1/ssh/public_key")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET public_key after delete: %d", resp.StatusCode)
	}
	rsaCA := parseKey(t, str(t, a.write("config/ca", map[string]any{"key_type": "ssh-rsa", "key_bits": 2048}), "public_key"))
	if rsaCA.Type() != ssh.KeyAlgoRSA {
		t.Fatalf("CA type %s", rsaCA.Type())
	}
}

func TestVaultAPIRoles(t *testing.T) {
	a := newAPIEnv(t)
	a.write("roles/dev", map[string]any{
		"key_type": "ca", "allow_user_certificates": true, "allowed_users": "alice,bob", "default_user": "alice",
		"ttl": "1h", "max_ttl": "2h", "default_extensions": map[string]any{"permit-pty": ""},
	})
	a.write("roles/hosts", map[string]any{"key_type": "ca", "allow_host_certificates": true, "allowed_domains": "example.com", "allow_subdomains": true})
	r := a.read("roles/dev")
	if r.Data["allowed_users"] != "alice,bob" || r.Data["ttl"] != json.Number("3600") || r.Data["max_ttl"] != json.Number("7200") ||
		r.Data["key_type"] != "ca" || r.Data["not_before_duration"] != json.Number("30") || r.Data["algorithm_signer"] != "default" {
		t.Fatalf("role read: %v", r.Data)
	}
	list, err := a.c.Logical().List("ssh/roles")
	if err != nil || list == nil {
		t.Fatalf("list: %v %v", list, err)
	}
	if keys := list.Data["keys"].([]any); len(keys) != 2 || keys[0] != "dev" || keys[1] != "hosts" {
		t.Fatalf("keys %v", keys)
	}
	if info := list.Data["key_info"].(map[string]any)["hosts"].(map[string]any); info["key_type"] != "ca" {
		t.Fatalf("key_info %v", list.Data["key_info"])
	}
	a.fail("roles/bad", map[string]any{"key_type": "otp", "default_user": "x"}, http.StatusBadRequest, "use key_type=ca")
	if _, err := a.c.Logical().Delete("ssh/roles/dev"); err != nil {
		t.Fatal(err)
	}
	if s := a.read("roles/dev"); s != nil {
		t.Fatalf("deleted role reads %v", s.Data)
	}
}

func TestVaultAPISign(t *testing.T) {
	a := newAPIEnv(t)
	ca := a.genCA()
	a.write("roles/dev", map[string]any{"key_type": "ca", "allow_user_certificates": true, "allowed_users": "alice,bob",
		"default_user": "alice", "ttl": "1h", "max_ttl": "2h"})
	a.write("roles/hosts", map[string]any{"key_type": "ca", "allow_host_certificates": true, "allowed_domains": "example.com", "allow_subdomains": true})
	signer, _ := newSigner(t)
	pub := string(ssh.MarshalAuthorizedKey(signer.PublicKey()))

	s := a.write("sign/dev", map[string]any{"public_key": pub, "valid_principals": "bob"})
	cert := parseCertLine(t, str(t, s, "signed_key"))
	if str(t, s, "serial_number") != strconv.FormatUint(cert.Serial, 16) || s.LeaseID != "" {
		t.Fatalf("serial_number %v for serial %x, lease %q", s.Data["serial_number"], cert.Serial, s.LeaseID)
	}
	if _, err := checker(ca).Authenticate(connMeta("bob"), cert); err != nil {
		t.Fatalf("certificate for bob: %v", err)
	}
	if _, err := checker(ca).Authenticate(connMeta("alice"), cert); err == nil {
		t.Fatal("bob's certificate lets alice in")
	}
	if lifetime := time.Until(time.Unix(int64(cert.ValidBefore), 0)); lifetime < 59*time.Minute || lifetime > time.Hour {
		t.Fatalf("default lifetime %s, want the role's 1h", lifetime)
	}
	// Denied principals, TTLs above max_ttl and host certificates are 400s.
	a.fail("sign/dev", map[string]any{"public_key": pub, "valid_principals": "root"}, http.StatusBadRequest, "root is not a valid value for valid_principals")
	a.fail("sign/dev", map[string]any{"public_key": pub, "ttl": "3h"}, http.StatusBadRequest, "ttl is larger than maximum allowed 7200")
	a.fail("sign/dev", map[string]any{"public_key": pub, "cert_type": "host"}, http.StatusBadRequest, "cert_type 'host' is not allowed")
	a.fail("sign/nope", map[string]any{"public_key": pub}, http.StatusBadRequest, "unknown role")
	a.fail("sign/dev", map[string]any{"public_key": "ssh-ed25519 garbage"}, http.StatusBadRequest, "failed to parse public_key")

	short := a.signCert("dev", signer.PublicKey(), map[string]any{"ttl": "30m"})
	if lifetime := time.Until(time.Unix(int64(short.ValidBefore), 0)); lifetime < 29*time.Minute || lifetime > 30*time.Minute {
		t.Fatalf("lifetime %s, want 30m", lifetime)
	}

	host := a.signCert("hosts", signer.PublicKey(), map[string]any{"cert_type": "host", "valid_principals": "web.example.com"})
	if err := checker(ca).CheckHostKey("web.example.com:22", nil, host); err != nil {
		t.Fatalf("host certificate: %v", err)
	}
	if err := checker(ca).CheckHostKey("mail.example.com:22", nil, host); err == nil {
		t.Fatal("host certificate accepted for another host")
	}
	a.fail("sign/hosts", map[string]any{"public_key": pub, "cert_type": "host", "valid_principals": "web.example.org"}, http.StatusBadRequest, "not a valid value")

	issued := a.write("issue/dev", map[string]any{"valid_principals": "alice"})
	if issued.Data["private_key_type"] != "ed25519" {
		t.Fatalf("issue: %v", issued.Data["private_key_type"])
	}
	if _, err := ssh.ParsePrivateKey([]byte(str(t, issued, "private_key"))); err != nil {
		t.Fatalf("issued private_key: %v", err)
	}
}

// TestVaultAPIMountTTLAndPolicy checks the mount's tuned max lease TTL
// caps certificates, and that a token allowed only to sign can sign but not
// touch the CA.
func TestVaultAPIMountTTLAndPolicy(t *testing.T) {
	a := newAPIEnv(t)
	a.genCA()
	if err := a.c.Sys().TuneMount("ssh", vault.MountConfigInput{DefaultLeaseTTL: "10m", MaxLeaseTTL: "20m"}); err != nil {
		t.Fatal(err)
	}
	a.write("roles/dev", map[string]any{"key_type": "ca", "allow_user_certificates": true, "allowed_users": "*"})
	signer, _ := newSigner(t)
	pub := string(ssh.MarshalAuthorizedKey(signer.PublicKey()))
	a.fail("sign/dev", map[string]any{"public_key": pub, "valid_principals": "a", "ttl": "30m"}, http.StatusBadRequest, "maximum allowed 1200")
	cert := a.signCert("dev", signer.PublicKey(), map[string]any{"valid_principals": "a"})
	if lifetime := time.Until(time.Unix(int64(cert.ValidBefore), 0)); lifetime < 9*time.Minute || lifetime > 10*time.Minute {
		t.Fatalf("lifetime %s, want the mount's 10m", lifetime)
	}

	if err := a.c.Sys().PutPolicy("signer", `path "ssh/sign/dev" { capabilities = ["update"] }`); err != nil {
		t.Fatal(err)
	}
	tok, err := a.c.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"signer"}})
	if err != nil {
		t.Fatal(err)
	}
	user, err := a.c.Clone()
	if err != nil {
		t.Fatal(err)
	}
	user.SetToken(tok.Auth.ClientToken)
	u := &apiEnv{t: t, srv: a.srv, c: user, mount: "ssh"}
	u.signCert("dev", signer.PublicKey(), map[string]any{"valid_principals": "a"})
	u.fail("config/ca", map[string]any{"generate_signing_key": true}, http.StatusForbidden, "permission denied")
	u.fail("roles/dev", map[string]any{"key_type": "ca", "allow_user_certificates": true, "allowed_users": "*"}, http.StatusForbidden, "permission denied")
}

// TestVaultAPITwoMounts checks that two mounts have separate CAs.
func TestVaultAPITwoMounts(t *testing.T) {
	a := newAPIEnv(t, "ssh-users", "ssh-hosts")
	b := a.at(t, "ssh-hosts")
	caA, caB := a.genCA(), b.genCA()
	if string(caA.Marshal()) == string(caB.Marshal()) {
		t.Fatal("two mounts share a CA key")
	}
	b.write("roles/any", map[string]any{"key_type": "ca", "allow_user_certificates": true, "allowed_users": "*"})
	signer, _ := newSigner(t)
	cert := b.signCert("any", signer.PublicKey(), map[string]any{"valid_principals": "x"})
	if _, err := checker(caA).Authenticate(connMeta("x"), cert); err == nil {
		t.Fatal("a certificate of one mount verifies against the other's CA")
	}
	a.fail("sign/any", map[string]any{"public_key": string(ssh.MarshalAuthorizedKey(signer.PublicKey()))}, http.StatusBadRequest, "unknown role")
}
