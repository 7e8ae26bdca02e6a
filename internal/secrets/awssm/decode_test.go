package awssm

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

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

// TestSecretValueDataMatchesRoundTrip: the direct GetSecretValue output is
// what the generic JSON round trip gives, without its null fields.
func TestSecretValueDataMatchesRoundTrip(t *testing.T) {
	str := "s3cret"
	created := time.Date(2026, 3, 1, 10, 0, 0, 123000000, time.UTC)
	for _, out := range []*store.GetSecretValueOutput{
		{ARN: "arn:x", Name: "n", VersionId: "v", SecretString: &str, VersionStages: []string{"AWSCURRENT", "x"}, CreatedDate: created},
		{ARN: "arn:y", Name: "b", VersionId: "w", SecretBinary: []byte{0, 1, 2, 255}, VersionStages: []string{}, CreatedDate: created},
	} {
		want, err := outputResponse(out)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range want.Data {
			if v == nil {
				delete(want.Data, k) // the direct output leaves out the absent value, as AWS does
			}
		}
		if got := secretValueData(out); !reflect.DeepEqual(got, want.Data) {
			t.Errorf("direct %#v\nround trip %#v", got, want.Data)
		}
	}
}
