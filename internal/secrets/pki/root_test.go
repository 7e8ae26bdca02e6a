package pki

import (
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestGenerateRootErrors(t *testing.T) {
	d := newDirect(t)
	d.ok("update", "root/generate/internal", map[string]any{"common_name": "a", "key_type": "ec", "issuer_name": "taken"})
	tests := []struct {
		name string
		path string
		data map[string]any
		msg  string
	}{
		{"no common name", "root/generate/internal", map[string]any{"key_type": "ec"}, "common_name field is required"},
		{"bad type", "root/generate/kms", map[string]any{"common_name": "a"}, "use internal or exported"},
		{"bad key type", "root/generate/internal", map[string]any{"common_name": "a", "key_type": "dsa"}, "key_type"},
		{"bad ec bits", "root/generate/internal", map[string]any{"common_name": "a", "key_type": "ec", "key_bits": 255}, "invalid key_bits 255"},
		{"bad rsa bits", "root/generate/internal", map[string]any{"common_name": "a", "key_type": "rsa", "key_bits": 1024}, "invalid key_bits 1024"},
		{"name taken", "root/generate/internal", map[string]any{"common_name": "a", "key_type": "ec", "issuer_name": "taken"}, "already in use"},
		{"name default", "root/generate/internal", map[string]any{"common_name": "a", "key_type": "ec", "issuer_name": "default"}, "invalid issuer_name"},
		{"bad ip", "root/generate/internal", map[string]any{"common_name": "a", "key_type": "ec", "ip_sans": "1.2.3"}, "not a valid IP"},
		{"past not_after", "root/generate/internal", map[string]any{"common_name": "a", "key_type": "ec", "not_after": "2001-01-01T00:00:00Z"}, "already be expired"},
		{"unknown issuer", "issuer/nope", nil, "unable to find PKI issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := logical.UpdateOperation
			if tt.data == nil {
				op = logical.ReadOperation
			}
			d.fails(op, tt.path, tt.data, tt.msg)
		})
	}
}

func TestRootTTLCappedByMount(t *testing.T) {
	d := newDirect(t)
	resp := d.ok("update", "root/generate/internal", map[string]any{"common_name": "a", "key_type": "ec", "ttl": "900000h"})
	if len(resp.Warnings) == 0 || !strings.Contains(resp.Warnings[0], "using the maxTTL") {
		t.Fatalf("warnings %v", resp.Warnings)
	}
	c := mustCert(t, resp.Data["certificate"].(string))
	if c.NotAfter.Sub(c.NotBefore) > 87600*time.Hour+time.Minute {
		t.Errorf("lifetime %v exceeds the mount maximum", c.NotAfter.Sub(c.NotBefore))
	}
}
