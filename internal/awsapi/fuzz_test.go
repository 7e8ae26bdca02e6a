package awsapi

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=KNKOAAAAAAAAAAAAAAAA/20261123/us-east-1/secretsmanager/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("ab", 32))
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=, Signature=zz")
	f.Add("Basic abc")
	f.Fuzz(func(t *testing.T, h string) {
		ah, err := parseAuthorization(h)
		if err == nil && (len(ah.signature) != 32 || ah.akid == "" && !strings.Contains(h, "Credential=/")) {
			t.Fatalf("accepted %q as %+v", h, ah)
		}
	})
}

func FuzzSecretName(f *testing.F) {
	f.Add("prod/db")
	f.Add("arn:kinko:secretsmanager:us-east-1:000000000000:secret:prod/db-AbCdEf")
	f.Add("arn:aws:secretsmanager:us-east-1:1:secret:x")
	f.Fuzz(func(t *testing.T, id string) {
		n := secretName(id)
		if !strings.HasPrefix(id, "arn:") && n != id {
			t.Fatalf("a plain name changed: %q -> %q", id, n)
		}
		if len(n) > len(id) {
			t.Fatal("name longer than the id")
		}
	})
}

func TestCanonicalQueryOrder(t *testing.T) {
	r := httptest.NewRequest("POST", "/?b=2&a=2&a=1&a-b=0&c=%20x", nil)
	if got := canonicalQuery(r.URL.Query()); got != "a=1&a=2&a-b=0&b=2&c=%20x" {
		t.Fatalf("canonical query %q", got)
	}
	if got := canonicalURI("/a b/c"); got != "/a%20b/c" {
		t.Fatalf("canonical uri %q", got)
	}
}
