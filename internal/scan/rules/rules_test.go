package rules

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Every credential below is fake: it has the shape of the real thing and
// nothing else.
const (
	fakeAKID    = "AKIAKINKOFAKEKEY2345"
	fakeAWSSec  = "kinkoFAKEs3cr3tK3y/N0tR3alAtA11+0123abcd"
	fakeGHP     = "ghp_KinkoFake0123456789abcdefghijABCDEFG"
	fakeGoogle  = "AIzaSyKinkoFake-0123456789_abcdefghijkl"
	fakeJWT     = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJraW5rby1mYWtlLXVzZXIiLCJpc3MiOiJraW5rby10ZXN0cyJ9.S2lua29GYWtlU2lnbmF0dXJlMDAx"
	fakePEMBody = "S2lua28gZmFrZSBwcml2YXRlIGtleSBmb3Igc2NhbiB0ZXN0cywgbm90IGEgcmVh\nbCBrZXkuIEtpbmtvIGZha2UgcHJpdmF0ZSBrZXkgZm9yIHNjYW4gdGVzdHMsIG5v\n"
)

func mustMatcher(t testing.TB, extra []Spec, allow Allow) *Matcher {
	t.Helper()
	rs, err := Build(extra, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMatcher(rs, allow)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func scanAll(m *Matcher, text string) []Match {
	var out []Match
	m.Scan([]byte(text), func(x *Match) {
		c := *x
		c.Secret = []byte(string(x.Secret))
		out = append(out, c)
	})
	return out
}

func TestRules(t *testing.T) {
	m := mustMatcher(t, nil, Allow{})
	tests := []struct {
		name, text string
		rule       string // "" = nothing found
		secret     string
	}{
		{"aws key id", `aws_access_key_id = ` + fakeAKID, "aws-access-key-id", fakeAKID},
		{"aws key id in json", `{"AccessKeyId":"` + fakeAKID + `"}`, "aws-access-key-id", fakeAKID},
		{"aws doc example", `key = AKIAIOSFODNN7EXAMPLE`, "", ""},
		{"cli file reference", `kinko kv put secret/app password=@password.txt`, "", ""},
		{"path prefix", `secretIDPrefix = "secret_id/"`, "", ""},
		{"character set", `secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"`, "", ""},
		{"identifier", `CodeInvalidNextToken = "InvalidNextTokenException"`, "", ""},
		{"word path", `"Authorization needs Credential=KEY/DATE/REGION/SERVICE/aws4_request"`, "", ""},
		{"benchmark name", "| `httpapi` BenchmarkHandlerKVv2ReadPolicy | x |", "", ""},
		{"aws key id lowercase", `akiakinkofakekey2345`, "", ""},
		{"aws secret", `aws_secret_access_key = ` + fakeAWSSec, "aws-secret-access-key", fakeAWSSec},
		{"aws secret quoted", `AWS_SECRET_ACCESS_KEY: "` + fakeAWSSec + `"`, "aws-secret-access-key", fakeAWSSec},
		{"github", `token: ` + fakeGHP, "github-token", fakeGHP},
		{"github short", `ghp_short123`, "", ""},
		{"github fine", `GH=github_pat_11KINKOFAKE0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789`, "github-fine-grained-pat", ""},
		{"gitlab", `private_token = "glpat-KinkoFake1234567890x"`, "gitlab-token", "glpat-KinkoFake1234567890x"},
		{"slack", `SLACK=xoxb-1234567890-1234567890123-KinkoFakeSlackTokenABCD`, "slack-token", ""},
		{"slack webhook", `url: https://hooks.slack.com/services/T0KINKO00/B0FAKE000/KinkoFakeWebhookSecret12`, "slack-webhook", ""},
		{"stripe", `Stripe.api_key = 'sk_live_KinkoFake0123456789abcdef'`, "stripe-key", "sk_live_KinkoFake0123456789abcdef"},
		{"stripe test key", `sk_test_KinkoFake0123456789abcdef`, "", ""},
		{"google", `const key = "` + fakeGoogle + `";`, "google-api-key", fakeGoogle},
		{"jwt", `Authorization: Bearer ` + fakeJWT, "jwt", fakeJWT},
		{"private key", "x = \"\"\"-----BEGIN RSA PRIVATE KEY-----\n" + fakePEMBody + "-----END RSA PRIVATE KEY-----\"\"\"", "private-key", ""},
		{"private key escaped", `"key": "-----BEGIN OPENSSH PRIVATE KEY-----\n` + strings.ReplaceAll(fakePEMBody, "\n", `\n`) + `-----END OPENSSH PRIVATE KEY-----\n"`, "private-key", ""},
		{"private key elided", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg...\n-----END PRIVATE KEY-----", "", ""},
		{"postgres url", `DATABASE_URL=postgres://app:Kf4k3-Pg-Pa55@db.internal:5432/app`, "database-url-password", "Kf4k3-Pg-Pa55"},
		{"mongo srv", `uri = "mongodb+srv://svc:Kf4k3M0ng0@cluster0.mongodb.net/db"`, "database-url-password", "Kf4k3M0ng0"},
		{"redis no user", `REDIS_URL=redis://:Kf4k3R3d1s@cache:6379/0`, "database-url-password", "Kf4k3R3d1s"},
		{"db url placeholder", `postgres://user:${DB_PASSWORD}@db/app`, "", ""},
		{"db url dev default", `postgres://postgres:postgres@localhost/app`, "", ""},
		{"db url word", `postgres://user:password@localhost/app`, "", ""},
		{"generic py", `DB_PASSWORD = "Kinko-Fake-Pa55w0rd!"`, "generic-secret", "Kinko-Fake-Pa55w0rd!"},
		{"generic yaml", `  client_secret: Kf4k3Cl13ntS3cr3t`, "generic-secret", "Kf4k3Cl13ntS3cr3t"},
		{"generic go", `	APIKey: "k1nk0-f4k3-4p1-k3y-77",`, "generic-secret", "k1nk0-f4k3-4p1-k3y-77"},
		{"generic env lookup", `password = os.environ["DB_PASSWORD"]`, "", ""},
		{"generic getenv", `password := os.Getenv("DB_PASSWORD")`, "", ""},
		{"generic process.env", `const token = process.env.API_TOKEN;`, "", ""},
		{"generic template", `password: "{{ .Values.db.password }}"`, "", ""},
		{"generic shell var", `PASSWORD=${DB_PASSWORD:-}`, "", ""},
		{"generic changeme", `password: changeme123`, "", ""},
		{"generic angle", `api_key = "<your-api-key>"`, "", ""},
		{"generic xxx", `token = "xxxxxxxxxxxxxxxx"`, "", ""},
		{"generic code ref", `Password: cfg.Database.Password,`, "", ""},
		{"generic type", `password: string;`, "", ""},
		{"generic word", `token_type = "bearer_token"`, "", ""},
		{"generic url name", `token_url = "https://auth.example.org/token"`, "", ""},
		{"generic author", `author = "jdoe1984x"`, "", ""},
		{"generic file", `password_file: /run/secrets/db_password`, "", ""},
		{"generic uuid", `api_key = "123e4567-e89b-12d3-a456-426614174000"`, "", ""},
		{"generic digits", `token_count = 12345678901`, "", ""},
		{"allow marker", `password = "Kinko-Fake-Pa55w0rd!" # kinko:allow`, "", ""},
		{"high entropy", `headers = {"Authorization": "Token 9f8Kq2LmZx7Rt4Vb1Nc6Hy3Jd5Pw0Qs8"}`, "high-entropy-string", "9f8Kq2LmZx7Rt4Vb1Nc6Hy3Jd5Pw0Qs8"},
		{"high entropy hex", `signing_key = "9c4e1f7a2b8d3e6f0a5c9b1d4e7f2a8c"`, "high-entropy-string", "9c4e1f7a2b8d3e6f0a5c9b1d4e7f2a8c"},
		{"hash line", `"integrity": "sha512-Kf4k3abcdefghij0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ+token"`, "", ""},
		{"go.sum", `golang.org/x/oauth2 v0.30.0 h1:dnDm7JmhM45NNpd8FDDeLhK6FwqbOf4MLCM9zb1BOHI=`, "", ""},
		{"path", `import tokenize from "src/components/auth/TokenProvider2Factory"`, "", ""},
		{"no keyword", `x = "9f8Kq2LmZx7Rt4Vb1Nc6Hy3Jd5Pw0Qs8"`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scanAll(m, tt.text)
			if tt.rule == "" {
				if len(got) != 0 {
					t.Fatalf("found %s %q, want nothing", got[0].Rule.ID(), got[0].Secret)
				}
				return
			}
			if len(got) != 1 {
				var ids []string
				for _, g := range got {
					ids = append(ids, g.Rule.ID()+"="+string(g.Secret))
				}
				t.Fatalf("found %d (%v), want one %s", len(got), ids, tt.rule)
			}
			if got[0].Rule.ID() != tt.rule {
				t.Fatalf("rule %s (%q), want %s", got[0].Rule.ID(), got[0].Secret, tt.rule)
			}
			if tt.secret != "" && string(got[0].Secret) != tt.secret {
				t.Fatalf("secret %q, want %q", got[0].Secret, tt.secret)
			}
			if s := tt.text[got[0].Start:got[0].End]; s != string(got[0].Secret) {
				t.Fatalf("offsets give %q, secret is %q", s, got[0].Secret)
			}
		})
	}
}

func TestPositions(t *testing.T) {
	m := mustMatcher(t, nil, Allow{})
	text := "line one\n# ünïcode\n  token: " + fakeGHP + "\n\nkey2 = \"-----BEGIN EC PRIVATE KEY-----\n" + fakePEMBody + "-----END EC PRIVATE KEY-----\"\nend\n"
	got := scanAll(m, text)
	if len(got) != 2 {
		t.Fatalf("got %d matches, want 2", len(got))
	}
	if g := got[0]; g.Line != 3 || g.Column != 10 || g.Name != "token" {
		t.Fatalf("github: line %d col %d name %q, want 3, 10, token", g.Line, g.Column, g.Name)
	}
	if g := got[1]; g.Rule.ID() != "private-key" || g.Line != 5 || g.EndLine != 8 || g.Name != "key2" {
		t.Fatalf("private key: %s line %d-%d name %q, want 5-8 key2", g.Rule.ID(), g.Line, g.EndLine, g.Name)
	}
}

func TestAllowList(t *testing.T) {
	m := mustMatcher(t, nil, Allow{Regexes: []*regexp.Regexp{regexp.MustCompile(`^ghp_Kinko`)}, Stopwords: []string{"PA55W0RD"}})
	if got := scanAll(m, "a="+fakeGHP+"\npassword = \"Kinko-Fake-Pa55w0rd!\"\nb="+fakeAKID); len(got) != 1 || got[0].Rule.ID() != "aws-access-key-id" {
		t.Fatalf("got %v, want only the AWS key", got)
	}
}

func TestBuild(t *testing.T) {
	custom := Spec{ID: "kinko-internal", Regex: `kit_[a-z0-9]{12}`, Keywords: []string{"kit_"}}
	rs, err := Build([]Spec{custom, {ID: "jwt", Regex: `nomatch^`, Keywords: []string{"eyj"}}}, []string{"generic-secret"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID())
	}
	if !slices.Contains(ids, "kinko-internal") || slices.Contains(ids, "generic-secret") {
		t.Fatalf("ids %v", ids)
	}
	m, err := NewMatcher(rs, Allow{})
	if err != nil {
		t.Fatal(err)
	}
	got := scanAll(m, "x kit_abcdef123456 y\n"+fakeJWT+"\npassword = \"Kinko-Fake-Pa55w0rd!\"")
	if len(got) != 1 || got[0].Rule.ID() != "kinko-internal" {
		t.Fatalf("got %d matches, want only kinko-internal", len(got))
	}
	bad := []struct {
		name     string
		extra    []Spec
		disabled []string
	}{
		{"bad id", []Spec{{ID: "Bad ID", Regex: "x"}}, nil},
		{"bad regex", []Spec{{ID: "x", Regex: "("}}, nil},
		{"no regex", []Spec{{ID: "x"}}, nil},
		{"entropy", []Spec{{ID: "x", Regex: "x", Entropy: 9}}, nil},
		{"group", []Spec{{ID: "x", Regex: "(x)", SecretGroup: 2}}, nil},
		{"twice", []Spec{{ID: "x", Regex: "x"}, {ID: "x", Regex: "y"}}, nil},
		{"unknown disabled", nil, []string{"nope"}},
		{"empty keyword", []Spec{{ID: "x", Regex: "x", Keywords: []string{" "}}}, nil},
	}
	for _, tt := range bad {
		if _, err := Build(tt.extra, tt.disabled); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestNoKeywordRule(t *testing.T) {
	m := mustMatcher(t, []Spec{{ID: "hex40", Regex: `\b(?P<secret>[0-9a-f]{40})\b`}}, Allow{})
	got := scanAll(m, "a\nsha = 0123456789abcdef0123456789abcdef01234567\n"+fakeGHP)
	if len(got) != 2 || got[0].Line != 2 || got[1].Line != 3 {
		t.Fatalf("got %+v", got)
	}
}

func TestAutomaton(t *testing.T) {
	words := []string{"he", "she", "his", "hers", "TOKEN"}
	owners := make([]ruleSet, len(words))
	for i := range words {
		owners[i] = newRuleSet(70)
		owners[i].add(i * 13)
	}
	a := buildAutomaton(words, owners, 70)
	text := "uSHErs and ToKeNs"
	var s int32
	got := newRuleSet(70)
	for _, c := range []byte(text) {
		s = a.delta[int(s)<<8|int(c)]
		if s >= a.firstOut {
			got.or(a.out[s-a.firstOut])
		}
	}
	for i, w := range words {
		want := strings.Contains(strings.ToLower(text), strings.ToLower(w))
		if got.has(i*13) != want {
			t.Errorf("%q: found %v, want %v", w, got.has(i*13), want)
		}
	}
}
