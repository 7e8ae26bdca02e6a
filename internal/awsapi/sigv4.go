package awsapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SigV4 verifies AWS Signature Version 4 (AWS4-HMAC-SHA256, header form)
// for one service against access keys looked up by ID. Any region is
// accepted. Signatures are compared in constant time; a request whose
// X-Amz-Date is more than MaxSkew away from now is refused.
type SigV4 struct {
	Service string
	MaxSkew time.Duration
	Now     func() time.Time
	// Secret returns an access key's secret; ok false when the key is
	// unknown or no longer valid.
	Secret func(ctx context.Context, accessKeyID string) (secret string, ok bool, err error)

	mu   sync.Mutex
	keys map[string][]byte // derived signing keys by secret+scope
}

const (
	algorithm  = "AWS4-HMAC-SHA256"
	amzDateFmt = "20060102T150405Z"
	maxKeys    = 4096
)

func authErr(status int, code, msg string) *AuthError {
	return &AuthError{Code: code, Status: status, Message: msg}
}

type authHeader struct {
	akid, date, region, service string
	signed                      []string
	signature                   []byte
}

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
func parseAuthorization(h string) (*authHeader, error) {
	rest, ok := strings.CutPrefix(h, algorithm+" ")
	if !ok {
		return nil, authErr(http.StatusBadRequest, "IncompleteSignatureException", "Authorization must be "+algorithm)
	}
	var cred, signedHeaders, signature string
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v == "" {
			return nil, authErr(http.StatusBadRequest, "IncompleteSignatureException", "malformed Authorization header")
		}
		var dst *string
		switch k {
		case "Credential":
			dst = &cred
		case "SignedHeaders":
			dst = &signedHeaders
		case "Signature":
			dst = &signature
		default:
			continue
		}
		if *dst != "" {
			return nil, authErr(http.StatusBadRequest, "IncompleteSignatureException", "duplicate "+k+" in Authorization header")
		}
		*dst = v
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || signedHeaders == "" || signature == "" {
		return nil, authErr(http.StatusBadRequest, "IncompleteSignatureException",
			"Authorization needs Credential=KEY/DATE/REGION/SERVICE/aws4_request, SignedHeaders and Signature")
	}
	sig, err := hex.DecodeString(signature)
	if err != nil || len(sig) != sha256.Size {
		return nil, authErr(http.StatusBadRequest, "IncompleteSignatureException", "Signature must be 64 hex digits")
	}
	return &authHeader{akid: scope[0], date: scope[1], region: scope[2], service: scope[3],
		signed: strings.Split(signedHeaders, ";"), signature: sig}, nil
}

// Verify checks r (whose body is body) and returns the access key ID.
func (v *SigV4) Verify(ctx context.Context, r *http.Request, body []byte) (string, error) {
	ah, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return "", err
	}
	when, err := time.Parse(amzDateFmt, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "", authErr(http.StatusBadRequest, "IncompleteSignatureException", "X-Amz-Date must be YYYYMMDDTHHMMSSZ")
	}
	if ah.date != when.Format("20060102") || ah.service != v.Service {
		return "", authErr(http.StatusForbidden, "InvalidSignatureException", "the credential scope does not match the request date or the service "+v.Service)
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if d := now.Sub(when); d > v.MaxSkew || d < -v.MaxSkew {
		return "", authErr(http.StatusForbidden, "InvalidSignatureException",
			"Signature expired: "+r.Header.Get("X-Amz-Date")+" is more than "+v.MaxSkew.String()+" from the server's time")
	}
	if !contains(ah.signed, "host") || !contains(ah.signed, "x-amz-date") {
		return "", authErr(http.StatusBadRequest, "IncompleteSignatureException", "SignedHeaders must include host and x-amz-date")
	}
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	if c := r.Header.Get("X-Amz-Content-Sha256"); c != "" && c != payload {
		return "", authErr(http.StatusBadRequest, "InvalidSignatureException", "X-Amz-Content-Sha256 does not match the body")
	}
	secret, ok, err := v.Secret(ctx, ah.akid)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", authErr(http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	canonical := canonicalRequest(r, ah.signed, payload)
	scope := ah.date + "/" + ah.region + "/" + ah.service + "/aws4_request"
	creq := sha256.Sum256([]byte(canonical))
	toSign := algorithm + "\n" + r.Header.Get("X-Amz-Date") + "\n" + scope + "\n" + hex.EncodeToString(creq[:])
	mac := hmac.New(sha256.New, v.signingKey(secret, ah))
	mac.Write([]byte(toSign))
	if !hmac.Equal(mac.Sum(nil), ah.signature) {
		return "", authErr(http.StatusForbidden, "InvalidSignatureException",
			"The request signature we calculated does not match the signature you provided.")
	}
	return ah.akid, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// signingKey derives (and caches) the key for a secret and scope.
func (v *SigV4) signingKey(secret string, ah *authHeader) []byte {
	id := secret + "\x00" + ah.date + "\x00" + ah.region + "\x00" + ah.service
	v.mu.Lock()
	k, ok := v.keys[id]
	v.mu.Unlock()
	if ok {
		return k
	}
	k = hmacSHA256(hmacSHA256(hmacSHA256(hmacSHA256([]byte("AWS4"+secret), ah.date), ah.region), ah.service), "aws4_request")
	v.mu.Lock()
	if v.keys == nil || len(v.keys) >= maxKeys {
		v.keys = map[string][]byte{}
	}
	v.keys[id] = k
	v.mu.Unlock()
	return k
}

// canonicalRequest builds SigV4's canonical request.
func canonicalRequest(r *http.Request, signed []string, payload string) string {
	var b strings.Builder
	b.Grow(256)
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL.EscapedPath()))
	b.WriteByte('\n')
	if r.URL.RawQuery != "" {
		b.WriteString(canonicalQuery(r.URL.Query()))
	}
	b.WriteByte('\n')
	for _, h := range signed {
		b.WriteString(h)
		b.WriteByte(':')
		switch {
		case h == "host":
			writeTrimmed(&b, r.Host)
		case h == "content-length" && r.Header.Get("Content-Length") == "" && r.ContentLength >= 0:
			b.WriteString(strconv.FormatInt(r.ContentLength, 10)) // Go keeps it out of Header
		default:
			for i, v := range r.Header[http.CanonicalHeaderKey(h)] {
				if i > 0 {
					b.WriteByte(',')
				}
				writeTrimmed(&b, v)
			}
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	for i, h := range signed {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(h)
	}
	b.WriteByte('\n')
	b.WriteString(payload)
	return b.String()
}

// writeTrimmed writes v with leading and trailing spaces removed and
// inner runs of spaces collapsed to one, as SigV4 canonicalises values.
func writeTrimmed(b *strings.Builder, v string) {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") && !strings.ContainsAny(v, "\t\n\r\v\f") {
		b.WriteString(v)
		return
	}
	b.WriteString(strings.Join(strings.Fields(v), " "))
}

func canonicalURI(p string) string {
	if p == "" || p == "/" {
		return "/"
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
		segs[i] = awsEscape(s)
	}
	return strings.Join(segs, "/")
}

func canonicalQuery(q url.Values) string {
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, pair{awsEscape(k), awsEscape(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.k + "=" + p.v
	}
	return strings.Join(out, "&")
}

// awsEscape is SigV4's URI encoding: everything but A-Za-z0-9-_.~ as %XX.
func awsEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
		}
	}
	return b.String()
}
