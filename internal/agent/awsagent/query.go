package awsagent

import (
	"net/url"
	"strings"
)

// Query is one GetSecretValue request to the endpoint.
type Query struct {
	SecretID     string
	VersionID    string
	VersionStage string
	RefreshNow   bool
}

// queryError is a 400 with the AWS agent's plain-text message.
type queryError string

func (e queryError) Error() string { return string(e) }

// ParseQuery reads a request to the endpoint, as the AWS agent does:
// path is /secretsmanager/get (secretId in the query) or prefix+<secretId>
// (prefix "/v1/"); rawQuery may hold versionId, versionStage and
// refreshNow (true|false|1|0, any case). An unknown parameter, a missing
// secret ID or a malformed query is an error; the secret ID must also
// pass ValidSecretID.
func ParseQuery(path, rawQuery, prefix string) (Query, error) {
	var q Query
	vals, err := url.ParseQuery(rawQuery)
	if err != nil {
		return q, queryError("malformed query")
	}
	byPath := path != "/secretsmanager/get"
	if byPath {
		rest, ok := strings.CutPrefix(path, prefix)
		if !ok || rest == "" {
			return q, queryError("missing secret ID")
		}
		q.SecretID = rest
	}
	for k, vs := range vals {
		v := vs[len(vs)-1]
		switch k {
		case "secretId":
			if byPath {
				return q, queryError("unknown parameter: secretId")
			}
			q.SecretID = v
		case "versionId":
			q.VersionID = v
		case "versionStage":
			q.VersionStage = v
		case "refreshNow":
			switch strings.ToLower(v) {
			case "true", "1":
				q.RefreshNow = true
			case "false", "0":
			default:
				return q, queryError("invalid refreshNow value")
			}
		default:
			return q, queryError("unknown parameter: " + k)
		}
	}
	if q.SecretID == "" {
		return q, queryError("missing parameter secretId")
	}
	if err := ValidSecretID(q.SecretID); err != nil {
		return q, err
	}
	if len(q.VersionID) > 64 || len(q.VersionStage) > 256 || strings.ContainsAny(q.VersionID+q.VersionStage, "\x00\n\r") {
		return q, queryError("invalid versionId or versionStage")
	}
	return q, nil
}

// ValidSecretID accepts what AWS accepts as a SecretId (a name or an ARN:
// 1 to 2048 of letters, digits and /_+=.@-:) and refuses "." and ".."
// segments, so an ID cannot climb out of the secrets/ path it is put in.
func ValidSecretID(id string) error {
	if id == "" || len(id) > 2048 {
		return queryError("invalid secret ID")
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/_+=.@-:", r)
		if !ok {
			return queryError("invalid secret ID")
		}
	}
	for _, seg := range strings.Split(id, "/") {
		if seg == "." || seg == ".." {
			return queryError("invalid secret ID")
		}
	}
	return nil
}
