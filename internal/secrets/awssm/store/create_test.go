package store

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestCreateSecretValidation(t *testing.T) {
	manyTags := make([]Tag, MaxTags+1)
	for i := range manyTags {
		manyTags[i] = Tag{Key: tok(i)}
	}
	v := str("v")
	cases := []struct {
		name string
		in   CreateSecretInput
		code string
	}{
		{"ok", CreateSecretInput{Name: "a/b_c+d=e.f@g-h", SecretString: v}, ""},
		{"no value", CreateSecretInput{Name: "novalue"}, ""},
		{"binary", CreateSecretInput{Name: "bin", SecretBinary: []byte{0, 1}}, ""},
		{"max name", CreateSecretInput{Name: strings.Repeat("n", MaxNameLen), SecretString: v}, ""},
		{"empty name", CreateSecretInput{Name: "", SecretString: v}, CodeInvalidParameter},
		{"long name", CreateSecretInput{Name: strings.Repeat("n", MaxNameLen+1), SecretString: v}, CodeInvalidParameter},
		{"bad char", CreateSecretInput{Name: "a b", SecretString: v}, CodeInvalidParameter},
		{"percent", CreateSecretInput{Name: "a%2Fb", SecretString: v}, CodeInvalidParameter},
		{"short token", CreateSecretInput{Name: "t1", ClientRequestToken: "short", SecretString: v}, CodeInvalidParameter},
		{"long token", CreateSecretInput{Name: "t2", ClientRequestToken: strings.Repeat("x", 65), SecretString: v}, CodeInvalidParameter},
		{"both values", CreateSecretInput{Name: "both", SecretString: v, SecretBinary: []byte{1}}, CodeInvalidParameter},
		{"empty string", CreateSecretInput{Name: "e1", SecretString: str("")}, CodeInvalidParameter},
		{"empty binary", CreateSecretInput{Name: "e2", SecretBinary: []byte{}}, CodeInvalidParameter},
		{"max value", CreateSecretInput{Name: "big", SecretString: str(strings.Repeat("x", MaxValueBytes))}, ""},
		{"value too large", CreateSecretInput{Name: "big2", SecretString: str(strings.Repeat("x", MaxValueBytes+1))}, CodeInvalidParameter},
		{"binary too large", CreateSecretInput{Name: "big3", SecretBinary: make([]byte, MaxValueBytes+1)}, CodeInvalidParameter},
		{"description", CreateSecretInput{Name: "d1", Description: strings.Repeat("é", MaxDescriptionLen)}, ""},
		{"long description", CreateSecretInput{Name: "d2", Description: strings.Repeat("d", MaxDescriptionLen+1)}, CodeInvalidParameter},
		{"long kms", CreateSecretInput{Name: "k", KmsKeyId: strings.Repeat("k", 2049)}, CodeInvalidParameter},
		{"50 tags", CreateSecretInput{Name: "tags", Tags: manyTags[:MaxTags]}, ""},
		{"51 tags", CreateSecretInput{Name: "tags2", Tags: manyTags}, CodeInvalidParameter},
		{"aws tag", CreateSecretInput{Name: "tags3", Tags: []Tag{{Key: "AWS:x"}}}, CodeInvalidParameter},
		{"dup tag", CreateSecretInput{Name: "tags4", Tags: []Tag{{Key: "a"}, {Key: "a"}}}, CodeInvalidParameter},
		{"empty tag key", CreateSecretInput{Name: "tags5", Tags: []Tag{{Key: ""}}}, CodeInvalidParameter},
		{"long tag key", CreateSecretInput{Name: "tags6", Tags: []Tag{{Key: strings.Repeat("k", MaxTagKeyLen+1)}}}, CodeInvalidParameter},
		{"long tag value", CreateSecretInput{Name: "tags7", Tags: []Tag{{Key: "k", Value: strings.Repeat("v", MaxTagValueLen+1)}}}, CodeInvalidParameter},
	}
	e := newEnv(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.s.CreateSecret(ctx, c.in)
			wantCode(t, err, c.code)
		})
	}
}

func TestCreateSecretShape(t *testing.T) {
	e := newEnv(t)
	out := e.create(t, "app/db", "pw")
	re := regexp.MustCompile(`^arn:kinko:secretsmanager:us-east-1:123456789012:secret:app/db-[A-Za-z0-9]{6}$`)
	if !re.MatchString(out.ARN) || out.Name != "app/db" || out.VersionId != tok(0) {
		t.Fatalf("output %+v", out)
	}
	got, err := e.s.GetSecretValue(ctx, GetSecretValueInput{SecretId: "app/db"})
	if err != nil || *got.SecretString != "pw" || !slices.Equal(got.VersionStages, []string{StageCurrent}) || !got.CreatedDate.Equal(t0) {
		t.Fatalf("get %+v, %v", got, err)
	}
	// no token: a UUID is generated
	out2, err := e.s.CreateSecret(ctx, CreateSecretInput{Name: "gen", SecretBinary: []byte{9}})
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(out2.VersionId) {
		t.Fatalf("generated %+v, %v", out2, err)
	}
	// no value: no version, no AWSCURRENT
	out3, err := e.s.CreateSecret(ctx, CreateSecretInput{Name: "empty", ClientRequestToken: tok(1)})
	if err != nil || out3.VersionId != "" {
		t.Fatalf("no value %+v, %v", out3, err)
	}
	_, err = e.s.GetSecretValue(ctx, GetSecretValueInput{SecretId: "empty"})
	wantCode(t, err, CodeResourceNotFound)
	if p := e.put(t, "empty", 2, "first", "CUSTOM"); !slices.Equal(labels(p.VersionStages...), labels(StageCurrent, "CUSTOM")) {
		t.Fatalf("first put on a valueless secret: %v", p.VersionStages)
	}
}

func TestCreateSecretIdempotency(t *testing.T) {
	e := newEnv(t)
	first := e.create(t, "s", "v1")
	cases := []struct {
		name string
		in   CreateSecretInput
		code string
	}{
		{"same token same value", CreateSecretInput{Name: "s", ClientRequestToken: tok(0), SecretString: str("v1")}, ""},
		{"same token other value", CreateSecretInput{Name: "s", ClientRequestToken: tok(0), SecretString: str("v2")}, CodeResourceExists},
		{"same token binary", CreateSecretInput{Name: "s", ClientRequestToken: tok(0), SecretBinary: []byte("v1")}, CodeResourceExists},
		{"other token", CreateSecretInput{Name: "s", ClientRequestToken: tok(1), SecretString: str("v1")}, CodeResourceExists},
		{"no token", CreateSecretInput{Name: "s", SecretString: str("v1")}, CodeResourceExists},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := e.s.CreateSecret(ctx, c.in)
			wantCode(t, err, c.code)
			if err == nil && *out != *first {
				t.Fatalf("retry answered %+v, want %+v", out, first)
			}
		})
	}
	if _, err := e.s.DeleteSecret(ctx, DeleteSecretInput{SecretId: "s"}); err != nil {
		t.Fatal(err)
	}
	_, err := e.s.CreateSecret(ctx, CreateSecretInput{Name: "s", ClientRequestToken: tok(0), SecretString: str("v1")})
	wantCode(t, err, CodeInvalidRequest)
}
