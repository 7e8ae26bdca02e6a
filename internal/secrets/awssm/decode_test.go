package awssm

import (
	"encoding/json"
	"testing"

	"github.com/kinko-dev/kinko/internal/secrets/awssm/store"
)

func TestDecodeConvertsQueryStrings(t *testing.T) {
	tests := []struct {
		raw  map[string]any
		ok   bool
		days int64
	}{
		{map[string]any{"RecoveryWindowInDays": "7"}, true, 7},
		{map[string]any{"recoverywindowindays": json.Number("9")}, true, 9},
		{map[string]any{"RecoveryWindowInDays": "seven"}, false, 0},
		{map[string]any{"ForceDeleteWithoutRecovery": "true"}, true, 0},
		{map[string]any{"ForceDeleteWithoutRecovery": "maybe"}, false, 0},
	}
	for _, tc := range tests {
		in, err := decode[store.DeleteSecretInput](tc.raw)
		if (err == nil) != tc.ok {
			t.Errorf("%v: %v", tc.raw, err)
			continue
		}
		if tc.ok && tc.days != 0 && (in.RecoveryWindowInDays == nil || *in.RecoveryWindowInDays != tc.days) {
			t.Errorf("%v: days %v", tc.raw, in.RecoveryWindowInDays)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(`{"SecretString":"x","VersionStages":["A"],"ClientRequestToken":"t"}`)
	f.Add(`{"RecoveryWindowInDays":"7","ForceDeleteWithoutRecovery":"false"}`)
	f.Add(`{"SecretBinary":"!!!"}`)
	f.Fuzz(func(t *testing.T, body string) {
		var raw map[string]any
		if json.Unmarshal([]byte(body), &raw) != nil {
			return
		}
		_, _ = decode[store.PutSecretValueInput](raw)
		_, _ = decode[store.DeleteSecretInput](raw)
		_, _ = decode[store.ListSecretsInput](raw)
	})
}
