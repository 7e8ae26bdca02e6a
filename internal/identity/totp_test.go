package identity

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// RFC 6238 Appendix B test vectors (8 digits).
func TestTOTPVectors(t *testing.T) {
	seeds := map[string][]byte{
		"SHA1":   []byte("12345678901234567890"),
		"SHA256": []byte("12345678901234567890123456789012"),
		"SHA512": []byte("1234567890123456789012345678901234567890123456789012345678901234"),
	}
	cases := []struct {
		unix int64
		algo string
		want string
	}{
		{59, "SHA1", "94287082"}, {59, "SHA256", "46119246"}, {59, "SHA512", "90693936"},
		{1111111109, "SHA1", "07081804"}, {1111111109, "SHA256", "68084774"}, {1111111109, "SHA512", "25091201"},
		{2000000000, "SHA1", "69279037"}, {2000000000, "SHA256", "90698825"}, {2000000000, "SHA512", "38618901"},
	}
	for _, tc := range cases {
		got, err := TOTPCode(seeds[tc.algo], time.Unix(tc.unix, 0), 30*time.Second, 8, tc.algo)
		if err != nil || got != tc.want {
			t.Errorf("%s at %d: %s %v, want %s", tc.algo, tc.unix, got, err, tc.want)
		}
	}
	if _, err := TOTPCode(seeds["SHA1"], time.Unix(0, 0), 30*time.Second, 6, "MD5"); err == nil {
		t.Error("MD5 accepted")
	}
}

func TestValidateTOTPAttemptsAndEnforcement(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	e, _ := f.s.LoginEntity(ctx, "acc1", "userpass", &logical.Alias{Name: "u"})
	r, err := f.do(logical.UpdateOperation, "mfa/method/totp", map[string]any{"issuer": "k", "max_validation_attempts": 2})
	if err != nil {
		t.Fatal(err)
	}
	mid := r.Data["method_id"].(string)
	if err := f.s.ValidateTOTP(ctx, mid, e.ID, "123456"); !errors.Is(err, logical.ErrPermissionDenied) {
		t.Fatalf("no secret yet: %v", err)
	}
	if _, err := f.do(logical.UpdateOperation, "mfa/method/totp/admin-generate", map[string]any{"method_id": mid, "entity_id": e.ID}); err != nil {
		t.Fatal(err)
	}
	f.s.ValidateTOTP(ctx, mid, e.ID, "000000")
	f.s.ValidateTOTP(ctx, mid, e.ID, "000001")
	var sec totpSecret
	logical.GetJSON(ctx, f.st, mfaSecretPrefix+mid+"/"+e.ID, &sec)
	good, _ := TOTPCode(sec.Key, f.s.now(), 30*time.Second, 6, "SHA1")
	if err := f.s.ValidateTOTP(ctx, mid, e.ID, good); err == nil {
		t.Fatal("validation allowed after max attempts")
	}
	bad := []map[string]any{
		{"issuer": ""}, {"issuer": "k", "digits": 7}, {"issuer": "k", "algorithm": "MD5"}, {"issuer": "k", "skew": 3},
	}
	for _, b := range bad {
		if _, err := f.do(logical.UpdateOperation, "mfa/method/totp", b); !errors.Is(err, logical.ErrInvalidRequest) {
			t.Errorf("%v accepted: %v", b, err)
		}
	}
	if _, err := f.do(logical.UpdateOperation, "mfa/login-enforcement/x", map[string]any{"mfa_method_ids": mid}); !errors.Is(err, logical.ErrInvalidRequest) {
		t.Fatalf("enforcement without targets: %v", err)
	}
	f.do(logical.UpdateOperation, "mfa/login-enforcement/x", map[string]any{"mfa_method_ids": mid, "auth_method_accessors": "acc1"})
	if req, _ := f.s.LoginMFARequirement(ctx, "acc1", "userpass", e); req == nil || req.Methods[0].ID != mid {
		t.Fatalf("enforcement not matched: %+v", req)
	}
	if req, _ := f.s.LoginMFARequirement(ctx, "acc2", "approle", e); req != nil {
		t.Fatalf("enforcement matched another mount: %+v", req)
	}
	if _, err := f.do(logical.DeleteOperation, "mfa/method/totp/"+mid, nil); !errors.Is(err, logical.ErrInvalidRequest) {
		t.Fatalf("method in use deleted: %v", err)
	}
}
