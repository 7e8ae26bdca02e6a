package rules

import (
	"fmt"
	"slices"
	"sync"
)

// The built-in rules. Specific rules (a token format with a fixed prefix)
// come first; the generic ones (an assignment to a variable named like a
// secret, a long random string near such a word) rank last, so a value a
// specific rule claimed is not reported twice.

// end matches what may follow a token: a character outside its alphabet,
// or the end of the line.
const end = `(?:[^0-9A-Za-z_-]|$)`

// start matches what may precede a token.
const start = `(?:^|[^0-9A-Za-z_-])`

// genericWords is the alternation of names that mark a secret in an
// assignment; keep it in step with genericKeywords.
const genericWords = `password|passwd|pwd|secret|api[_.-]?key|apikey|access[_.-]?key|auth[_.-]?key|token|auth|credentials?|private[_.-]?key|client[_.-]?secret`

var genericKeywords = []string{"password", "passwd", "pwd", "secret", "api_key", "apikey", "api-key", "api.key",
	"access_key", "access-key", "accesskey", "auth", "token", "credential", "private_key", "privatekey"}

var builtinSpecs = []Spec{
	{
		ID: "aws-access-key-id", Description: "AWS access key ID",
		Regex:    start + `(?P<secret>(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})` + end,
		Keywords: []string{"akia", "asia", "abia", "acca", "a3t"}, Key: "aws_access_key_id",
	},
	{
		ID: "aws-secret-access-key", Description: "AWS secret access key",
		Regex: `(?i)(?P<name>[a-z0-9_.-]*secret[_.-]?(?:access[_.-]?)?key)["'\x60]?\s*(?::=|=>|=|:)\s*["'\x60]?` +
			`(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)`,
		Keywords: []string{"secret_access_key", "secretaccesskey", "secret_key", "secretkey", "secret-access-key", "secret-key"},
		Entropy:  3.8, Key: "aws_secret_access_key", gate: awsSecretGate,
	},
	{
		ID: "github-token", Description: "GitHub token (personal, OAuth, user-to-server, server-to-server or refresh)",
		Regex:    start + `(?P<secret>gh[pousr]_[A-Za-z0-9]{36,})` + end,
		Keywords: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}, Key: "github_token",
	},
	{
		ID: "github-fine-grained-pat", Description: "GitHub fine-grained personal access token",
		Regex:    start + `(?P<secret>github_pat_[A-Za-z0-9_]{60,})` + end,
		Keywords: []string{"github_pat_"}, Key: "github_token",
	},
	{
		ID: "gitlab-token", Description: "GitLab personal access token",
		Regex:    start + `(?P<secret>glpat-[A-Za-z0-9_-]{20,})` + end,
		Keywords: []string{"glpat-"}, Key: "gitlab_token",
	},
	{
		ID: "slack-token", Description: "Slack API token",
		Regex:    start + `(?P<secret>xox[baprs]-[0-9A-Za-z-]{10,})` + end,
		Keywords: []string{"xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"}, Key: "slack_token",
	},
	{
		ID: "slack-webhook", Description: "Slack incoming webhook URL",
		Regex:    `(?P<secret>https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,})`,
		Keywords: []string{"hooks.slack.com"}, Key: "slack_webhook_url",
	},
	{
		ID: "stripe-key", Description: "Stripe live secret or restricted key",
		Regex:    start + `(?P<secret>[rs]k_live_[0-9A-Za-z]{20,})` + end,
		Keywords: []string{"sk_live_", "rk_live_"}, Key: "stripe_secret_key",
	},
	{
		ID: "google-api-key", Description: "Google API key",
		Regex:    start + `(?P<secret>AIza[0-9A-Za-z_-]{35})` + end,
		Keywords: []string{"aiza"}, Key: "google_api_key",
	},
	{
		ID: "npm-token", Description: "npm access token",
		Regex:    start + `(?P<secret>npm_[A-Za-z0-9]{36})` + end,
		Keywords: []string{"npm_"}, Entropy: 3, Key: "npm_token",
	},
	{
		ID: "sendgrid-api-key", Description: "SendGrid API key",
		Regex:    start + `(?P<secret>SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})` + end,
		Keywords: []string{"sg."}, Key: "sendgrid_api_key",
	},
	{
		ID: "private-key", Description: "Private key (PEM or OpenSSH)",
		Regex: `(?P<secret>-----BEGIN[ A-Z0-9_-]*PRIVATE KEY(?: BLOCK)?-----` +
			`[A-Za-z0-9+/=\s\\:,."'-]+?-----END[ A-Z0-9_-]*PRIVATE KEY(?: BLOCK)?-----)`,
		Keywords: []string{"private key-----", "private key block-----"}, Multiline: true, Key: "private_key",
		check: privateKeyOK,
	},
	{
		ID: "jwt", Description: "JSON Web Token",
		Regex:    start + `(?P<secret>eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})` + end,
		Keywords: []string{"eyj"}, Key: "jwt",
	},
	{
		ID: "database-url-password", Description: "Password in a database connection URL",
		Regex: `(?i)\b(?:postgres(?:ql)?|mysql2?|mariadb|mongodb|rediss?|amqps?|mssql|sqlserver|clickhouse|oracle|cockroachdb)(?:\+[a-z0-9]+)?://` +
			`(?P<user>[^:@/\s"'\x60]*):(?P<secret>[^@/\s"'\x60]{3,})@[^\s"'\x60]+`,
		Keywords: []string{"postgres", "mysql", "mariadb", "mongodb", "redis", "amqp", "mssql", "sqlserver", "clickhouse", "oracle", "cockroachdb"},
		Key:      "db_password", check: urlPasswordOK,
	},
	{
		ID: "url-password", Description: "Password in an HTTP or FTP URL",
		Regex:    `(?i)\b(?:https?|ftps?)://(?P<user>[^:@/\s"'\x60]+):(?P<secret>[^@/\s"'\x60]{3,})@[^\s"'\x60]+`,
		Keywords: []string{"://"}, Key: "url_password", check: urlPasswordOK,
	},
	{
		ID: "generic-secret", Description: "Secret assigned to a variable named like one (password, secret, token, api_key...)",
		Regex: `(?i)(?P<name>[a-z0-9_.-]*(?:` + genericWords + `)[a-z0-9_.-]*)["'\x60]?\s*(?::=|=>|==|=|:)\s*` +
			`(?:\\?"(?P<secret_dq>[^"\s\\]{8,})\\?"|'(?P<secret_sq>[^'\s]{8,})'|\x60(?P<secret_bq>[^\x60\s]{8,})\x60|` +
			`(?P<secret_bare>[A-Za-z0-9+/=_!@%^&*~.?-]{8,})(?:[\s;,)}\]]|$))`,
		Keywords: genericKeywords, Entropy: 3, Key: "secret", generic: true, check: genericOK, find: genericFind,
	},
	{
		ID: "high-entropy-string", Description: "High-entropy base64 or hex string near a secret-like word",
		Regex:    `(?:^|[\s"'\x60=:(,\[{])(?P<secret>[A-Za-z0-9+/_-]{20,}={0,2})(?:$|[\s"'\x60,;)\]}])`,
		Keywords: append([]string{"key", "bearer"}, genericKeywords...), Key: "secret", generic: true, check: highEntropyOK, gate: highEntropyGate,
	},
}

// Builtin returns the built-in rule specs, specific rules first.
func Builtin() []Spec {
	out := make([]Spec, len(builtinSpecs))
	copy(out, builtinSpecs)
	for i := range out {
		out[i].Keywords = append([]string(nil), out[i].Keywords...)
	}
	return out
}

var (
	builtinOnce  sync.Once
	builtinRules []*Rule
	builtinErr   error
)

// compiledBuiltin compiles the built-in rules once per process.
func compiledBuiltin() ([]*Rule, error) {
	builtinOnce.Do(func() {
		for _, s := range builtinSpecs {
			r, err := Compile(s)
			if err != nil {
				builtinErr = err
				return
			}
			builtinRules = append(builtinRules, r)
		}
	})
	return builtinRules, builtinErr
}

// Build returns the built-in rules with extra rules added (a rule whose
// ID is a built-in one replaces it) and the disabled IDs removed.
func Build(extra []Spec, disabled []string) ([]*Rule, error) {
	base, err := compiledBuiltin()
	if err != nil {
		return nil, err
	}
	byID := map[string]int{}
	out := make([]*Rule, 0, len(base)+len(extra))
	for _, r := range base {
		byID[r.Spec.ID] = len(out)
		out = append(out, r)
	}
	seen := map[string]bool{}
	for _, s := range extra {
		if seen[s.ID] {
			return nil, fmt.Errorf("%w: id %q is defined twice", ErrInvalid, s.ID)
		}
		seen[s.ID] = true
		r, err := Compile(s)
		if err != nil {
			return nil, err
		}
		if i, ok := byID[s.ID]; ok {
			out[i] = r
			continue
		}
		byID[s.ID] = len(out)
		out = append(out, r)
	}
	drop := map[string]bool{}
	for _, id := range disabled {
		if _, ok := byID[id]; !ok {
			return nil, fmt.Errorf("%w: disabled rule %q does not exist", ErrInvalid, id)
		}
		drop[id] = true
	}
	return slices.DeleteFunc(out, func(r *Rule) bool { return drop[r.Spec.ID] }), nil
}
