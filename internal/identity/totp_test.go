package identity

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// RFC 6238 Appendix B test vectors (8 digits, 30 s steps).
func TestTOTPCodeRFC6238(t *testing.T) {
	seeds := map[string][]byte{
		"SHA1":   []byte("12345678901234567890"),
		"SHA256": []byte("12345678901234567890123456789012"),
		"SHA512": []byte("1234567890123456789012345678901234567890123456789012345678901234"),
	}
	want := map[int64][3]string{ // SHA1, SHA256, SHA512
		59:          {"94287082", "46119246", "90693936"},
		1111111109:  {"07081804", "68084774", "25091201"},
		1111111111:  {"14050471", "67062674", "99943326"},
		1234567890:  {"89005924", "91819424", "93441116"},
		2000000000:  {"69279037", "90698825", "38618901"},
		20000000000: {"65353130", "77737706", "47863826"},
	}
	for unix, codes := range want {
		for i, algo := range []string{"SHA1", "SHA256", "SHA512"} {
			got, err := TOTPCode(seeds[algo], time.Unix(unix, 0), 30*time.Second, 8, algo)
			if err != nil || got != codes[i] {
				t.Errorf("%s at %d: %s %v, want %s", algo, unix, got, err, codes[i])
			}
		}
	}
	for _, bad := range []struct {
		algo   string
		period time.Duration
		digits int
	}{{"MD5", 30 * time.Second, 6}, {"SHA1", 0, 6}, {"SHA1", 30 * time.Second, 0}, {"SHA1", 30 * time.Second, 10}} {
		if _, err := TOTPCode(seeds["SHA1"], time.Unix(0, 0), bad.period, bad.digits, bad.algo); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// RFC 4226 Appendix D: HOTP values of counters 0..9 (6 digits).
func TestHOTPRFC4226(t *testing.T) {
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for i, w := range want {
		if got := string(hotp(sha1.New, []byte("12345678901234567890"), uint64(i), 6)); got != w {
			t.Errorf("counter %d: %s, want %s", i, got, w)
		}
	}
}

func code(t testing.TB, key []byte, at time.Time, period, digits int, algo string) string {
	t.Helper()
	c, err := TOTPCode(key, at, time.Duration(period)*time.Second, digits, algo)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestValidateTOTP(t *testing.T) {
	const ok = "ok"
	cases := []struct {
		name     string
		settings map[string]any
		offset   time.Duration // when the code was made, relative to now
		mangle   func(string) string
		want     string // ok or an error substring
	}{
		{"current", nil, 0, nil, ok},
		{"previous step within skew", nil, -30 * time.Second, nil, ok},
		{"next step within skew", nil, 30 * time.Second, nil, ok},
		{"two steps back", nil, -60 * time.Second, nil, "incorrect"},
		{"two steps ahead", nil, 60 * time.Second, nil, "incorrect"},
		{"skew 0 previous step", map[string]any{"skew": 0}, -30 * time.Second, nil, "incorrect"},
		{"skew 0 current", map[string]any{"skew": 0}, 0, nil, ok},
		{"passcode= prefix", nil, 0, func(c string) string { return "passcode=" + c }, ok},
		{"wrong code", nil, 0, func(c string) string { return flip(c) }, "incorrect"},
		{"too short", nil, 0, func(c string) string { return c[1:] }, "incorrect"},
		{"spaces", nil, 0, func(c string) string { return " " + c[1:] }, "incorrect"},
		{"letters", nil, 0, func(string) string { return "abcdef" }, "incorrect"},
		{"empty", nil, 0, func(string) string { return "" }, "incorrect"},
		{"8 digits SHA256", map[string]any{"digits": 8, "algorithm": "SHA256"}, 0, nil, ok},
		{"SHA512 period 60", map[string]any{"algorithm": "sha512", "period": "1m"}, -60 * time.Second, nil, ok},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFx(t)
			e := f.login("acc", "u")
			mid, key := f.enrol(e.ID, tc.settings)
			m := f.read("mfa/method/totp/" + mid)
			c := code(t, key, f.clock.Now().Add(tc.offset), m["period"].(int), m["digits"].(int), m["algorithm"].(string))
			if tc.mangle != nil {
				c = tc.mangle(c)
			}
			err := f.s.ValidateTOTP(bg, mid, e.ID, c)
			if tc.want == ok {
				wantKind(t, tc.name, err, nil)
				return
			}
			wantKind(t, tc.name, err, logical.ErrPermissionDenied)
			if err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func flip(c string) string {
	b := []byte(c)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func TestValidateTOTPReplay(t *testing.T) {
	f := newFx(t)
	e := f.login("acc", "u")
	mid, key := f.enrol(e.ID, nil)
	now := f.clock.Now()
	cur, prev := code(t, key, now, 30, 6, "SHA1"), code(t, key, now.Add(-30*time.Second), 30, 6, "SHA1")
	wantKind(t, "first use", f.s.ValidateTOTP(bg, mid, e.ID, cur), nil)
	wantKind(t, "replay", f.s.ValidateTOTP(bg, mid, e.ID, cur), logical.ErrPermissionDenied)
	wantKind(t, "older code after a newer one", f.s.ValidateTOTP(bg, mid, e.ID, prev), logical.ErrPermissionDenied)
	// a restarted store still refuses the replay (the last step is stored)
	s2, err := NewStore(f.st, Options{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, "replay after restart", s2.ValidateTOTP(bg, mid, e.ID, cur), logical.ErrPermissionDenied)
	f.clock.Advance(30 * time.Second)
	wantKind(t, "next code", f.s.ValidateTOTP(bg, mid, e.ID, code(t, key, f.clock.Now(), 30, 6, "SHA1")), nil)
}

func TestValidateTOTPAttemptLimit(t *testing.T) {
	f := newFx(t)
	e := f.login("acc", "u")
	mid, key := f.enrol(e.ID, map[string]any{"max_validation_attempts": 2})
	good := func() string { return code(t, key, f.clock.Now(), 30, 6, "SHA1") }
	wantKind(t, "fail 1", f.s.ValidateTOTP(bg, mid, e.ID, flip(good())), logical.ErrPermissionDenied)
	f.clock.Advance(20 * time.Second)
	wantKind(t, "fail 2", f.s.ValidateTOTP(bg, mid, e.ID, flip(good())), logical.ErrPermissionDenied)
	err := f.s.ValidateTOTP(bg, mid, e.ID, good())
	wantKind(t, "right code while limited", err, logical.ErrPermissionDenied)
	if err == nil || !strings.Contains(err.Error(), "maximum TOTP validation attempts 3 exceeded the allowed attempts 2") ||
		!strings.Contains(err.Error(), "try again in 10 seconds") {
		t.Fatalf("limit message: %v", err)
	}
	// other entities are not affected
	other := f.login("acc", "v")
	f.write("mfa/method/totp/admin-generate", map[string]any{"method_id": mid, "entity_id": other.ID})
	wantKind(t, "other entity", f.s.ValidateTOTP(bg, mid, other.ID, "000000"), logical.ErrPermissionDenied)
	if err := f.s.ValidateTOTP(bg, mid, other.ID, "000000"); strings.Contains(err.Error(), "maximum") {
		t.Fatalf("limit shared between entities: %v", err)
	}
	// the window closes one period after the first failure
	f.clock.Advance(10 * time.Second)
	wantKind(t, "after window", f.s.ValidateTOTP(bg, mid, e.ID, good()), nil)
	// success resets the count
	f.clock.Advance(30 * time.Second)
	wantKind(t, "fail after success", f.s.ValidateTOTP(bg, mid, e.ID, flip(good())), logical.ErrPermissionDenied)
	wantKind(t, "success after one failure", f.s.ValidateTOTP(bg, mid, e.ID, good()), nil)
}

func TestValidateTOTPErrors(t *testing.T) {
	f := newFx(t)
	e := f.login("acc", "u")
	mid := f.id("mfa/method/totp", map[string]any{"issuer": "k"})
	wantKind(t, "unknown method", f.s.ValidateTOTP(bg, "nope", e.ID, "123456"), logical.ErrInvalidRequest)
	wantKind(t, "unknown entity", f.s.ValidateTOTP(bg, mid, "nope", "123456"), logical.ErrPermissionDenied)
	wantKind(t, "not enrolled", f.s.ValidateTOTP(bg, mid, e.ID, "123456"), logical.ErrPermissionDenied)
	f.write("entity/id/"+e.ID, map[string]any{"disabled": true})
	wantKind(t, "disabled", f.s.ValidateTOTP(bg, mid, e.ID, "123456"), ErrEntityDisabled)
}

func TestTOTPMethodConfig(t *testing.T) {
	f := newFx(t)
	mid := f.id("mfa/method/totp", map[string]any{"issuer": "kinko", "method_name": "phone"})
	want := map[string]any{"id": mid, "name": "phone", "type": "totp", "issuer": "kinko", "period": 30, "key_size": 20,
		"qr_size": 200, "algorithm": "SHA1", "digits": 6, "skew": 1, "max_validation_attempts": 5}
	got := f.read("mfa/method/totp/" + mid)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if f.read("mfa/method/" + mid)["id"] != mid {
		t.Error("global read")
	}
	// posting the same name updates that method; an update replaces all settings
	if r := f.write("mfa/method/totp", map[string]any{"method_name": "phone", "issuer": "k2", "digits": 8}); r != nil {
		t.Fatalf("update by name returned %+v", r)
	}
	if got := f.read("mfa/method/totp/" + mid); got["issuer"] != "k2" || got["digits"] != 8 {
		t.Fatalf("after update: %+v", got)
	}
	f.write("mfa/method/totp/"+mid, map[string]any{"issuer": "k3"})
	if got := f.read("mfa/method/totp/" + mid); got["issuer"] != "k3" || got["digits"] != 6 {
		t.Fatalf("after update by id: %+v", got)
	}
	second := f.id("mfa/method/totp", map[string]any{"issuer": "x"})
	for _, p := range []string{"mfa/method/totp", "mfa/method"} {
		if keys := f.list(p); len(keys) != 2 || !strings.Contains(strings.Join(keys, ","), second) {
			t.Errorf("list %s: %v", p, keys)
		}
	}
	bad := []map[string]any{
		{}, {"issuer": " "}, {"issuer": "k", "digits": 7}, {"issuer": "k", "algorithm": "MD5"}, {"issuer": "k", "skew": 2},
		{"issuer": "k", "period": 0}, {"issuer": "k", "period": "1500ms"}, {"issuer": "k", "period": "2h"},
		{"issuer": "k", "key_size": 8}, {"issuer": "k", "key_size": 1000}, {"issuer": "k", "qr_size": -1},
		{"issuer": "k", "qr_size": 5000}, {"issuer": "k", "max_validation_attempts": -1},
		{"issuer": "k", "method_name": "phone", "method_id": second}, {"issuer": "k", "method_name": "a/b"},
	}
	for _, d := range bad {
		_, err := f.do(logical.UpdateOperation, "mfa/method/totp", d)
		wantKind(t, "create "+mapString(d), err, logical.ErrInvalidRequest)
	}
	if r, err := f.do(logical.UpdateOperation, "mfa/method/totp/missing", map[string]any{"issuer": "k"}); r != nil || err != nil {
		t.Errorf("update of a missing method: %+v %v", r, err)
	}
	f.do(logical.DeleteOperation, "mfa/method/totp/"+second, nil)
	if f.read("mfa/method/totp/"+second) != nil {
		t.Error("delete")
	}
}

func TestTOTPGenerate(t *testing.T) {
	f := newFx(t)
	e := f.login("acc", "u")
	mid := f.id("mfa/method/totp", map[string]any{"issuer": "kinko", "qr_size": 120, "key_size": 32})
	r := f.write("mfa/method/totp/admin-generate", map[string]any{"method_id": mid, "entity_id": e.ID})
	u, err := url.Parse(r.Data["url"].(string))
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/kinko:"+e.ID {
		t.Fatalf("url %v %v", u, err)
	}
	q := u.Query()
	key, _ := b32.DecodeString(q.Get("secret"))
	if len(key) != 32 || q.Get("algorithm") != "SHA1" || q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("issuer") != "kinko" {
		t.Fatalf("url query %v (key %d bytes)", q, len(key))
	}
	raw, err := base64.StdEncoding.DecodeString(r.Data["barcode"].(string))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil || img.Bounds().Dx() != 120 || img.Bounds().Dy() != 120 {
		t.Fatalf("barcode: %v %v", err, img)
	}
	// a second generate keeps the secret and warns, as Vault does
	r = f.write("mfa/method/totp/admin-generate", map[string]any{"method_id": mid, "entity_id": e.ID})
	if r == nil || len(r.Warnings) != 1 || r.Data["url"] != nil {
		t.Fatalf("second generate: %+v", r)
	}
	wantKind(t, "old key still valid", f.s.ValidateTOTP(bg, mid, e.ID, code(t, key, f.clock.Now(), 30, 6, "SHA1")), nil)
	// self-service generate needs the caller's entity
	f.write("mfa/method/totp/admin-destroy", map[string]any{"method_id": mid, "entity_id": e.ID})
	wantKind(t, "destroyed", f.s.ValidateTOTP(bg, mid, e.ID, "123456"), logical.ErrPermissionDenied)
	req := &logical.Request{Operation: logical.UpdateOperation, Path: "mfa/method/totp/generate", Storage: f.st,
		Data: map[string]any{"method_id": mid}, Auth: &logical.Auth{EntityID: e.ID}}
	r, err = f.b.HandleRequest(bg, req)
	if err != nil || r.Data["url"] == nil {
		t.Fatalf("self generate: %+v %v", r, err)
	}
	if u, _ := url.Parse(r.Data["url"].(string)); u.Query().Get("secret") == q.Get("secret") {
		t.Fatal("regenerated secret equals the destroyed one")
	}
	req.Auth = nil
	_, err = f.b.HandleRequest(bg, req)
	wantKind(t, "generate without entity", err, logical.ErrInvalidRequest)
	for _, d := range []map[string]any{{"method_id": "nope", "entity_id": e.ID}, {"method_id": mid, "entity_id": "nope"}, {"method_id": mid}} {
		_, err := f.do(logical.UpdateOperation, "mfa/method/totp/admin-generate", d)
		wantKind(t, "admin-generate "+mapString(d), err, logical.ErrInvalidRequest)
	}
	// no QR code when qr_size is 0
	m0 := f.id("mfa/method/totp", map[string]any{"issuer": "k", "qr_size": 0})
	if r := f.write("mfa/method/totp/admin-generate", map[string]any{"method_id": m0, "entity_id": e.ID}); r.Data["barcode"] != "" {
		t.Fatal("barcode with qr_size 0")
	}
	// deleting the entity deletes its secrets
	f.do(logical.DeleteOperation, "entity/id/"+e.ID, nil)
	if keys, _ := f.st.List(bg, secretPrefix+mid+"/"); len(keys) != 0 {
		t.Fatalf("secrets left: %v", keys)
	}
}
