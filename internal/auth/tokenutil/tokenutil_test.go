package tokenutil

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name string
		raw  map[string]any
		want Params
		err  bool
	}{
		{"new names", map[string]any{"token_policies": "A, b,a", "token_ttl": "1h", "token_max_ttl": "2h"},
			Params{TokenPolicies: []string{"a", "b"}, TokenTTL: time.Hour, TokenMaxTTL: 2 * time.Hour}, false},
		{"deprecated names", map[string]any{"policies": []any{"x"}, "ttl": 60, "period": "5m"},
			Params{TokenPolicies: []string{"x"}, TokenTTL: time.Minute, TokenPeriod: 5 * time.Minute}, false},
		{"cidrs", map[string]any{"token_bound_cidrs": "10.0.0.0/8,192.0.2.7"},
			Params{TokenPolicies: []string{}, TokenBoundCIDRs: []string{"10.0.0.0/8", "192.0.2.7"}}, false},
		{"ttl above max", map[string]any{"token_ttl": "3h", "token_max_ttl": "2h"}, Params{}, true},
		{"bad cidr", map[string]any{"token_bound_cidrs": "10.0.0.0/99"}, Params{}, true},
		{"root policy", map[string]any{"token_policies": "root"}, Params{}, true},
		{"batch", map[string]any{"token_type": "batch"}, Params{}, true},
		{"negative uses", map[string]any{"token_num_uses": -1}, Params{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p Params
			err := p.Parse(&logical.FieldData{Raw: tc.raw, Schema: Fields(true)})
			if tc.err {
				if !errors.Is(err, logical.ErrInvalidRequest) {
					t.Fatalf("want invalid request, got %v", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(p, tc.want) {
				t.Fatalf("got %+v, %v; want %+v", p, err, tc.want)
			}
		})
	}
}

func TestRemoteAllowed(t *testing.T) {
	cases := []struct {
		cidrs  []string
		remote string
		want   bool
	}{
		{nil, "1.2.3.4:5", true},
		{[]string{"127.0.0.0/8"}, "127.0.0.1:5555", true},
		{[]string{"127.0.0.0/8"}, "10.0.0.1:5555", false},
		{[]string{"192.0.2.7"}, "192.0.2.7", true},
		{[]string{"::1/128"}, "[::1]:80", true},
		{[]string{"127.0.0.1"}, "[::ffff:127.0.0.1]:80", true},
		{[]string{"10.0.0.0/8"}, "garbage", false},
	}
	for _, tc := range cases {
		if got := RemoteAllowed(tc.cidrs, tc.remote); got != tc.want {
			t.Errorf("RemoteAllowed(%v, %q) = %v", tc.cidrs, tc.remote, got)
		}
	}
}

func TestPopulateAuthAndResponse(t *testing.T) {
	p := Params{TokenPolicies: []string{"a"}, TokenTTL: time.Hour, TokenBoundCIDRs: []string{"10.0.0.0/8"}, TokenNoDefaultPolicy: true}
	var a logical.Auth
	p.PopulateAuth(&a)
	if a.TTL != time.Hour || !a.NoDefaultPolicy || a.BoundCIDRs[0] != "10.0.0.0/8" || a.Policies[0] != "a" || !a.Renewable {
		t.Fatalf("auth: %+v", a)
	}
	m := map[string]any{}
	p.Response(m)
	if m["token_ttl"] != int64(3600) || m["token_type"] != "default" {
		t.Fatalf("response: %v", m)
	}
}
