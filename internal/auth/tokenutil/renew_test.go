package tokenutil

import (
	"errors"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestEquivalentPolicies(t *testing.T) {
	cases := []struct {
		a, b []string
		want bool
	}{
		{nil, nil, true},
		{[]string{"a", "b"}, []string{"b", "a", "default"}, true},
		{[]string{"default"}, nil, true},
		{[]string{"A", " b", "a"}, []string{"a", "b"}, true},
		{[]string{"a"}, []string{"a", "b"}, false},
		{[]string{"a", "b"}, []string{"a"}, false},
		{[]string{"root"}, nil, false},
	}
	for _, tc := range cases {
		if got := EquivalentPolicies(tc.a, tc.b); got != tc.want {
			t.Errorf("EquivalentPolicies(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestCheckPolicies(t *testing.T) {
	p := &Params{TokenPolicies: []string{"reader"}}
	cases := []struct {
		name string
		auth *logical.Auth
		want error
	}{
		{"token policies", &logical.Auth{TokenPolicies: []string{"default", "reader"}, Policies: []string{"other"}}, nil},
		{"falls back to policies", &logical.Auth{Policies: []string{"reader", "default"}}, nil},
		{"changed", &logical.Auth{TokenPolicies: []string{"writer", "default"}}, ErrPoliciesChanged},
	}
	for _, tc := range cases {
		if err := p.CheckPolicies(tc.auth); !errors.Is(err, tc.want) {
			t.Errorf("%s: CheckPolicies = %v, want %v", tc.name, err, tc.want)
		}
	}
	if !errors.Is(ErrPoliciesChanged, logical.ErrInvalidRequest) {
		t.Error("ErrPoliciesChanged is not a 400")
	}
}

func TestRenewAuth(t *testing.T) {
	in := &logical.Auth{
		LeaseOptions: logical.LeaseOptions{TTL: time.Hour, MaxTTL: 2 * time.Hour, Renewable: true},
		Period:       time.Minute, ExplicitMaxTTL: 3 * time.Hour, Metadata: map[string]string{"k": "v"},
	}
	cases := []struct {
		name         string
		p            Params
		wantExplicit time.Duration
	}{
		{"settings replace TTLs", Params{TokenTTL: 5 * time.Minute, TokenMaxTTL: 10 * time.Minute}, 3 * time.Hour},
		{"explicit max tightens", Params{TokenExplicitMaxTTL: time.Hour}, time.Hour},
		{"explicit max never loosens", Params{TokenExplicitMaxTTL: 5 * time.Hour}, 3 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.p.RenewAuth(in)
			if got == in || got.TTL != tc.p.TokenTTL || got.MaxTTL != tc.p.TokenMaxTTL || got.Period != tc.p.TokenPeriod ||
				got.ExplicitMaxTTL != tc.wantExplicit || !got.Renewable || got.Metadata["k"] != "v" {
				t.Fatalf("RenewAuth = %+v", got)
			}
			if in.TTL != time.Hour || in.ExplicitMaxTTL != 3*time.Hour {
				t.Fatalf("RenewAuth modified its input: %+v", in)
			}
		})
	}
}
