package sealfile

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/testserver"
)

func TestAgeRoundTripWithoutServer(t *testing.T) {
	rcpt, ids := ageKeys(t)
	rcpt2, ids2 := ageKeys(t)
	// Sealed for two age recipients and a transit key; opened with one age
	// identity and no server at all.
	api := &countingAPI{next: transitForTest(t)}
	sealed := seal(t, YAML, yamlPlain, SealOptions{Sources: []KeySource{rcpt, rcpt2, &Transit{API: api, Key: "app"}}})
	for _, want := range []string{"type: age", "recipient: " + rcpt.recipient.String(), "type: transit", "mount: transit", "key: app"} {
		if !strings.Contains(sealed, want) {
			t.Errorf("sealed file lacks %q", want)
		}
	}
	if !regexp.MustCompile(`enc: (kinko|vault):v\d+:`).MatchString(sealed) {
		t.Errorf("no transit ciphertext in:\n%s", sealed)
	}
	before := api.calls.Load()
	for i, id := range []*Age{ids, ids2} {
		got, err := unseal(YAML, sealed, id)
		if err != nil {
			t.Fatalf("identity %d: %v", i, err)
		}
		if !strings.Contains(got, `password: "s3cr3t-pw"`) {
			t.Errorf("identity %d: plaintext:\n%s", i, got)
		}
	}
	if api.calls.Load() != before {
		t.Errorf("opening with an age identity called the server")
	}
	// with the transit source present but no identity, the server opens it
	if _, err := unseal(YAML, sealed, &Age{}, &Transit{API: api}); err != nil || api.calls.Load() != before+1 {
		t.Errorf("transit fallback: %v, %d calls", err, api.calls.Load()-before)
	}
}

// transitForTest is the real transit engine when registered, else the
// imitation.
func transitForTest(t *testing.T) TransitAPI {
	if api := realTransit(t); api != nil {
		return api
	}
	t.Log("transit engine not registered; using the httptest imitation")
	return fakeTransit(t)
}

func TestWrongAgeIdentity(t *testing.T) {
	rcpt, _ := ageKeys(t)
	_, other := ageKeys(t)
	sealed := seal(t, Dotenv, "A=1\n", SealOptions{Sources: []KeySource{rcpt}})
	_, err := unseal(Dotenv, sealed, other)
	wantErr(t, err, ErrNoKey, "age recipient "+rcpt.recipient.String()+": no matching identity (yours are for "+other.publics[0]+")")
	_, err = unseal(Dotenv, sealed, rcpt) // a recipient cannot decrypt
	wantErr(t, err, ErrNoKey, "no age identity given")
	_, err = Unseal(t.Context(), []byte(sealed), OpenOptions{Format: Dotenv})
	wantErr(t, err, ErrNoKey, "no key source given")
}

func TestAgeParseErrors(t *testing.T) {
	_, err := AgeRecipient("age1notakey")
	wantErr(t, err, ErrInvalid, "not an age X25519 recipient")
	_, err = AgeIdentities(strings.NewReader("# only a comment\n"))
	wantErr(t, err, ErrInvalid, "no AGE-SECRET-KEY-1")
	_, err = AgeIdentities(strings.NewReader("\nsupersecret1password\n"))
	wantErr(t, err, ErrInvalid, "line 2 is not an AGE-SECRET-KEY-1 identity")
	if strings.Contains(err.Error(), "supersecret") {
		t.Errorf("error echoes the file: %v", err)
	}
	_, ids := ageKeys(t)
	if _, err := ids.Wrap(t.Context(), make([]byte, 32)); err == nil {
		t.Error("an identity-only source wrapped")
	}
}

// TestTransitRealServer runs against kinko's own transit engine when it is
// compiled in.
func TestTransitRealServer(t *testing.T) {
	api := realTransit(t)
	if api == nil {
		t.Skip("transit engine not registered in this build (mount says unknown backend type); the fake-server test covers the source")
	}
	transitRoundTrip(t, api)
}

// TestTransitFakeServer imitates transit/encrypt and transit/decrypt over
// HTTP, and is used only while the real engine is not registered.
func TestTransitFakeServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	if realTransit(t) != nil {
		t.Skip("the real transit engine is available; TestTransitRealServer covers the source")
	}
	transitRoundTrip(t, fakeTransit(t))
}

func transitRoundTrip(t *testing.T, api TransitAPI) {
	src := &Transit{API: api, Key: "app"}
	sealed := seal(t, JSON, jsonPlain, SealOptions{Sources: []KeySource{src}})
	if !strings.Contains(sealed, `"type": "transit"`) || !strings.Contains(sealed, `"key": "app"`) {
		t.Fatalf("sealed:\n%s", sealed)
	}
	got, err := unseal(JSON, sealed, &Transit{API: api})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, `"password": "json-pw"`) {
		t.Errorf("plaintext:\n%s", got)
	}
	// another mount is not used: the file does not choose server paths
	_, err = unseal(JSON, sealed, &Transit{API: api, Mount: "other"})
	wantErr(t, err, ErrNoKey, "the transit mount in use is other")
	// a stanza naming an unsafe path is refused before any request
	bad := strings.Replace(sealed, `"key": "app"`, `"key": "../sys"`, 1)
	_, err = unseal(JSON, bad, &Transit{API: api})
	wantErr(t, err, ErrNoKey, "transit key name")
	// a wrong ciphertext is a server error
	bad = regexpReplace(sealed, `"enc": "kinko:v1:[^"]*"`, `"enc": "kinko:v1:AAAA"`)
	_, err = unseal(JSON, bad, &Transit{API: api})
	wantErr(t, err, ErrServer, "transit key transit/app: decrypt")
	// a missing key is a server error when sealing
	_, err = Seal(t.Context(), []byte("{}"), SealOptions{Format: JSON, Sources: []KeySource{&Transit{API: api, Key: "nope"}}})
	if err != nil {
		wantErr(t, err, ErrServer, "encrypt")
	}
}

// realTransit returns the official client's adapter for a real server
// with transit mounted, or nil when the engine is not registered.
func realTransit(t *testing.T) TransitAPI {
	t.Helper()
	srv := testserver.Start(t)
	c := testserver.VaultClient(t, srv.Addr, srv.RootToken)
	if err := c.Sys().Mount("transit", &vault.MountInput{Type: "transit"}); err != nil {
		if strings.Contains(err.Error(), "unknown backend type") {
			return nil
		}
		t.Fatalf("mount transit: %v", err)
	}
	if _, err := c.Logical().Write("transit/keys/app", nil); err != nil {
		t.Fatalf("create transit key: %v", err)
	}
	return vaultAPI(c)
}

// vaultAPI adapts the official Vault client.
func vaultAPI(c *vault.Client) TransitAPI {
	return TransitAPIFunc(func(ctx context.Context, path string, data map[string]any) (map[string]any, error) {
		s, err := c.Logical().WriteWithContext(ctx, path, data)
		if err != nil || s == nil {
			return nil, err
		}
		return s.Data, nil
	})
}

// countingAPI counts the requests that reach next.
type countingAPI struct {
	next  TransitAPI
	calls atomic.Int64
}

func (c *countingAPI) Write(ctx context.Context, path string, data map[string]any) (map[string]any, error) {
	c.calls.Add(1)
	return c.next.Write(ctx, path, data)
}

// fakeTransit serves transit/encrypt/app and transit/decrypt/app with an
// in-memory AES-GCM key, in transit's wire format, for the official client.
func fakeTransit(t *testing.T) TransitAPI {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, status int, v map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("PUT /v1/transit/encrypt/app", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Plaintext string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		pt, err := base64.StdEncoding.DecodeString(in.Plaintext)
		if err != nil {
			reply(w, 400, map[string]any{"errors": []string{"plaintext is not base64"}})
			return
		}
		nonce := make([]byte, aead.NonceSize())
		_, _ = rand.Read(nonce)
		ct := aead.Seal(nonce, nonce, pt, nil)
		reply(w, 200, map[string]any{"data": map[string]any{"ciphertext": "kinko:v1:" + base64.StdEncoding.EncodeToString(ct), "key_version": 1}})
	})
	mux.HandleFunc("PUT /v1/transit/decrypt/app", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Ciphertext string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(in.Ciphertext, "kinko:v1:"))
		if err != nil || len(raw) < aead.NonceSize() {
			reply(w, 400, map[string]any{"errors": []string{"invalid ciphertext"}})
			return
		}
		pt, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
		if err != nil {
			reply(w, 400, map[string]any{"errors": []string{"cipher: message authentication failed"}})
			return
		}
		reply(w, 200, map[string]any{"data": map[string]any{"plaintext": base64.StdEncoding.EncodeToString(pt)}})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 404, map[string]any{"errors": []string{"no handler for route " + r.URL.Path}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return vaultAPI(testserver.VaultClient(t, srv.URL, "test-token"))
}
