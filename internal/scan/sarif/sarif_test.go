package sarif

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/scan"
)

func TestBuild(t *testing.T) {
	s, err := scan.New(scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	secret := "ghp_KinkoFake0123456789abcdefghijABCDEFG"
	fs := []scan.Finding{
		{RuleID: "github-token", Description: "GitHub token", File: "./app/x y.py", Rel: "app/x y.py", Line: 3, Column: 9, EndLine: 3,
			Secret: secret, Fingerprint: scan.Fingerprint("github-token", "app/x y.py", secret)},
		{RuleID: "jwt", File: "/abs/h.go", Line: 1, Column: 1, EndLine: 1, Secret: "eyJx.eyJy.z", Commit: "c0ffee", Author: "A"},
	}
	var b bytes.Buffer
	if err := Write(&b, Build(fs, s.Rules(), "v1", false)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), secret) {
		t.Fatal("the secret is in the log")
	}
	var log map[string]any
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log["runs"].([]any)[0].(map[string]any)
	rules := run["tool"].(map[string]any)["driver"].(map[string]any)["rules"].([]any)
	results := run["results"].([]any)
	if log["version"] != "2.1.0" || log["$schema"] != Schema || len(rules) != len(s.Rules()) || len(results) != 2 {
		t.Fatalf("log: %s", b.String())
	}
	r0 := results[0].(map[string]any)
	idx := int(r0["ruleIndex"].(float64))
	if rules[idx].(map[string]any)["id"] != "github-token" || rules[idx].(map[string]any)["name"] != "GithubToken" {
		t.Fatalf("ruleIndex %d points at %v", idx, rules[idx])
	}
	loc := r0["locations"].([]any)[0].(map[string]any)["physicalLocation"].(map[string]any)
	if loc["artifactLocation"].(map[string]any)["uri"] != "app/x%20y.py" || loc["region"].(map[string]any)["startColumn"] != 9.0 {
		t.Fatalf("location %v", loc)
	}
	if r0["partialFingerprints"].(map[string]any)[FingerprintKey] == "" || !strings.Contains(r0["message"].(map[string]any)["text"].(string), "ghp_…") {
		t.Fatalf("result %v", r0)
	}
	r1 := results[1].(map[string]any)
	if r1["properties"].(map[string]any)["commit"] != "c0ffee" {
		t.Fatalf("git properties: %v", r1)
	}
}

func TestURI(t *testing.T) {
	for in, want := range map[string]string{"a/b.go": "a/b.go", "./a/../c d.go": "c%20d.go", "/x/y#1.go": "file:///x/y%231.go", "a:b": "./a:b"} {
		if got := URI(in); got != want {
			t.Errorf("URI(%q) = %q, want %q", in, got, want)
		}
	}
}
