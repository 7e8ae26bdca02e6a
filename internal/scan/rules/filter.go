package rules

import (
	"bytes"
	"regexp"
	"strings"
)

// placeholderParts are substrings (lower case) of values that stand for
// a secret instead of being one: templates, environment lookups and the
// usual filler words.
var placeholderParts = []string{
	"changeme", "change_me", "change-me", "changethis", "placeholder", "example", "replace_me", "replaceme",
	"replace-me", "your_", "your-", "yourpassword", "yoursecret", "yourtoken", "xxxx", "****", "....", "redacted",
	"${", "{{", "$(", "%(", "#{", "%{", "<%", "process.env", "os.environ", "getenv", "env(", "env[", "env.",
	"secretkeyref", "valuefrom", "insert_", "insert-", "dummy", "kinko:",
}

// placeholderWords are whole values (lower case) that are not secrets.
var placeholderWords = map[string]bool{
	"password": true, "passwd": true, "pass": true, "secret": true, "token": true, "none": true, "null": true,
	"nil": true, "undefined": true, "true": true, "false": true, "empty": true, "string": true, "required": true,
	"optional": true, "default": true, "hidden": true, "masked": true, "unset": true, "test": true,
}

var (
	angleHole = regexp.MustCompile(`<[A-Za-z0-9 _.-]+>`)
	uuidRE    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	codeRef   = regexp.MustCompile(`^[A-Za-z_$][\w$]*(?:(?:\.|::|->)[A-Za-z_$][\w$]*)+(?:\(\))?$`)
	fileLike  = regexp.MustCompile(`(?i)^[\w./~-]+\.(?:json|ya?ml|pem|key|crt|cer|txt|env|conf|cfg|ini|toml|xml|p12|pfx|jks|der|pub|gpg|asc|sh|py|js|ts|go|rb|html?)$`)
)

// IsPlaceholder reports whether the secret is a stand-in: a template or
// environment reference, a filler word, an angle-bracket hole or a run of
// one repeated character.
func IsPlaceholder(secret []byte) bool {
	if len(secret) == 0 {
		return true
	}
	low := strings.ToLower(string(secret))
	if placeholderWords[strings.Trim(low, `"'`)] {
		return true
	}
	for _, p := range placeholderParts {
		if strings.Contains(low, p) {
			return true
		}
	}
	if angleHole.MatchString(low) || low[0] == '$' {
		return true
	}
	return repeated(secret)
}

// repeated reports a value made of one character, or of at most two
// distinct characters when long ("aaaaaaaa", "00000000", "abababab").
func repeated(b []byte) bool {
	var seen [256]bool
	distinct := 0
	for _, c := range b {
		if !seen[c] {
			seen[c] = true
			distinct++
		}
	}
	return distinct <= 2
}

// genericOK filters the values of the generic assignment rule: not a code
// reference, path, UUID or word, and named like a secret.
func genericOK(m *candidate) bool {
	v := m.secret
	if len(v) > 256 || !nameOK(m.name) || codeRef.Match(v) || fileLike.Match(v) || uuidRE.Match(v) {
		return false
	}
	if bytes.Contains(v, []byte("://")) || bytes.ContainsAny(v[:1], "/.~\\") || bytes.Contains(v, []byte("()")) {
		return false
	}
	if allDigits(v) || v[0] == '@' || v[len(v)-1] == '/' || alphabetRun(v) || identLike(v) || wordPath(v) {
		return false
	}
	if wordLike(v) && (Entropy(v) < 3.5 || bytes.ContainsAny(v, "_-") || len(v) < 12) {
		return false
	}
	return true
}

// highEntropyOK accepts long random strings: hex of 32+ characters with
// 3 bits of entropy, base64 of 20+ with 4.0 bits, containing both a
// letter and a digit, on a line that does not speak of hashes.
func highEntropyOK(m *candidate) bool {
	v := bytes.TrimRight(m.secret, "=")
	if len(v) > 512 || !hasLetter(v) || !hasDigit(v) || uuidRE.Match(m.secret) || hashContext(m.line) {
		return false
	}
	if isHex(v) {
		return len(v) >= 32 && Entropy(v) >= 3
	}
	if Entropy(v) < 4 || identLike(v) || alphabetRun(v) {
		return false
	}
	// A path ("src/app/token_handler_v2") is not random: its segments
	// are words.
	return !pathLike(v)
}

// urlPasswordOK rejects user:user@ pairs (local development defaults).
func urlPasswordOK(m *candidate) bool {
	u, ok := m.group("user")
	return !ok || !bytes.Equal(u, m.secret)
}

// privateKeyOK wants a real body between the BEGIN and END lines: 64+
// base64 characters and no ellipsis or xxxx filler.
func privateKeyOK(m *candidate) bool {
	s := m.secret
	i := bytes.Index(s[5:], []byte("-----"))
	j := bytes.LastIndex(s, []byte("-----END"))
	if i < 0 || j < i+10 {
		return false
	}
	body := s[i+10 : j]
	if bytes.Contains(body, []byte("...")) || bytes.Contains(bytes.ToLower(body), []byte("xxxx")) {
		return false
	}
	n := 0
	for _, c := range body {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
			n++
		}
	}
	return n >= 64
}

// suffixDeny are words that, after the secret-like word of a name, say the
// value is about a secret rather than the secret (token_url, password_file).
var suffixDeny = map[string]bool{
	"path": true, "file": true, "filename": true, "dir": true, "url": true, "uri": true, "endpoint": true,
	"name": true, "type": true, "method": true, "mode": true, "id": true, "ttl": true, "length": true,
	"len": true, "size": true, "count": true, "header": true, "field": true, "env": true, "policy": true,
	"prefix": true, "format": true, "version": true, "regex": true, "pattern": true, "expiry": true,
	"expires": true, "expiration": true, "timeout": true, "provider": true, "manager": true, "store": true,
	"input": true, "label": true, "hint": true, "rotation": true, "reset": true, "required": true,
	"enabled": true, "min": true, "max": true, "hash": true, "ref": true, "arn": true, "location": true,
	"source": true, "kind": true, "class": true, "lifetime": true, "duration": true, "scope": true,
	"scopes": true, "usage": true, "mount": true, "engine": true, "sha": true, "sha1": true, "sha256": true,
	"sha512": true, "md5": true, "digest": true, "checksum": true,
}

var nameWord = regexp.MustCompile(`(?i)(?:` + genericWords + `)`)

// nameOK checks the variable name around the secret-like word: the word
// must end there or at a word boundary, and the next word must not make
// the name about something else (token_url, author, password_file).
func nameOK(name []byte) bool {
	locs := nameWord.FindAllIndex(name, -1)
	if len(locs) == 0 {
		return false
	}
	last := locs[len(locs)-1]
	rest := name[last[1]:]
	if len(rest) == 0 {
		return true
	}
	c := rest[0]
	switch {
	case c == '_' || c == '-' || c == '.':
		rest = bytes.TrimLeft(rest, "_-.")
	case c >= 'A' && c <= 'Z' && !isUpperWord(name[last[0]:last[1]]): // camelCase boundary
	case c >= '0' && c <= '9':
		return true
	default:
		low := strings.ToLower(string(rest))
		return strings.HasPrefix(low, "key") || strings.HasPrefix(low, "value") || low == "s"
	}
	return !suffixDeny[strings.ToLower(firstWord(rest))]
}

func isUpperWord(b []byte) bool { return bytes.Equal(b, bytes.ToUpper(b)) }

// firstWord returns rest up to its next separator or camelCase hump.
func firstWord(rest []byte) string {
	for i := 1; i < len(rest); i++ {
		c := rest[i]
		if c == '_' || c == '-' || c == '.' || (c >= 'A' && c <= 'Z' && rest[i-1] >= 'a' && rest[i-1] <= 'z') {
			return string(rest[:i])
		}
	}
	return string(rest)
}

// hashContext reports a line that names a digest (lockfiles, checksums,
// image digests): long hex or base64 there is a hash, not a secret.
func hashContext(line []byte) bool {
	low := bytes.ToLower(line)
	for _, w := range []string{"sha1", "sha256", "sha384", "sha512", "md5", "checksum", "integrity", "digest", "hash", " h1:", "commit", "fingerprint", "nonce"} {
		if bytes.Contains(low, []byte(w)) {
			return true
		}
	}
	return false
}

// alphabetRun reports a value holding two of: a run of the upper-case
// alphabet, of the lower-case one, of the digits, in order: a character
// set ("ABCDEF…xyz0123456789+/"), not a key. (One run alone is common in
// made-up keys, which are still keys.)
func alphabetRun(v []byte) bool {
	n := 0
	for _, run := range []string{"abcdefgh", "ABCDEFGH", "01234567"} {
		if bytes.Contains(v, []byte(run)) {
			n++
		}
	}
	return n >= 2
}

// identLike reports a camel-case identifier ("InvalidNextTokenException",
// "BenchmarkHandlerKVv2ReadPolicy"): letters, digits and '_' only, two or
// more lower-to-upper humps, and mostly lower case (random base64 is
// about 40% lower case, identifiers 60% and more).
func identLike(v []byte) bool {
	humps, lower := 0, 0
	for i, c := range v {
		switch {
		case c >= 'a' && c <= 'z':
			lower++
		case c >= 'A' && c <= 'Z':
			if i > 0 && v[i-1] >= 'a' && v[i-1] <= 'z' {
				humps++
			}
		case c >= '0' && c <= '9' || c == '_':
		default:
			return false
		}
	}
	return humps >= 2 && lower*10 >= len(v)*6
}

// wordPath reports a slash-separated list of words
// ("KEY/DATE/REGION/aws4_request"): segments of letters with at most one
// digit each.
func wordPath(v []byte) bool {
	if bytes.IndexByte(v, '/') < 0 {
		return false
	}
	for _, seg := range bytes.Split(v, []byte("/")) {
		digits := 0
		for _, c := range seg {
			if c >= '0' && c <= '9' {
				digits++
			}
		}
		if digits > 1 || !wordLike(bytes.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return 'x'
			}
			return r
		}, seg)) {
			return false
		}
	}
	return true
}

func wordLike(v []byte) bool {
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// pathLike reports a slash-separated path of words: 2+ slashes, no '+',
// and digits under a tenth of the characters (random base64 has ~16%).
func pathLike(v []byte) bool {
	if bytes.Count(v, []byte("/")) < 2 || bytes.IndexByte(v, '+') >= 0 {
		return false
	}
	digits := 0
	for _, c := range v {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	return digits*10 < len(v)
}

func allDigits(v []byte) bool {
	for _, c := range v {
		if (c < '0' || c > '9') && c != '.' && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func hasLetter(v []byte) bool {
	return bytes.ContainsFunc(v, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' })
}

func hasDigit(v []byte) bool {
	return bytes.ContainsFunc(v, func(r rune) bool { return r >= '0' && r <= '9' })
}

func isHex(v []byte) bool {
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
