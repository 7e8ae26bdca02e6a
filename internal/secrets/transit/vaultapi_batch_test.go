package transit_test

import (
	"encoding/json"
	"io"
	"testing"
)

// TestVaultAPIBatchPartialFailure: a batch with a failed item answers 400
// with the per-item batch_results, as Vault does, so a client can tell
// which item failed and keep the others.
func TestVaultAPIBatchPartialFailure(t *testing.T) {
	a := newAPIEnv(t)
	a.write("keys/batch", nil)
	r := a.c.NewRequest("PUT", "/v1/transit/encrypt/batch")
	if err := r.SetJSONBody(map[string]any{"batch_input": []any{
		map[string]any{"plaintext": "aGVsbG8=", "reference": "good"},
		map[string]any{"plaintext": "not base64!", "reference": "bad"},
	}}); err != nil {
		t.Fatal(err)
	}
	resp, err := a.c.RawRequest(r)
	if resp == nil {
		t.Fatalf("no response: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var env struct {
		Data struct {
			BatchResults []struct {
				Ciphertext, Error, Reference string
			} `json:"batch_results"`
		}
		Errors []string
	}
	if resp.StatusCode != 400 || json.Unmarshal(body, &env) != nil || len(env.Errors) == 0 {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	got := env.Data.BatchResults
	if len(got) != 2 || got[0].Reference != "good" || got[0].Ciphertext == "" || got[0].Error != "" ||
		got[1].Reference != "bad" || got[1].Error == "" || got[1].Ciphertext != "" {
		t.Fatalf("batch results %+v", got)
	}
}
