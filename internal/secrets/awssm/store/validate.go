package store

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/kinko-dev/kinko/internal/rotation/awsrules"
)

// Limits of the Secrets Manager API.
const (
	MaxNameLen        = 512
	MaxSecretIdLen    = 2048
	MinTokenLen       = 32
	MaxTokenLen       = 64
	MaxLabelLen       = 256
	MaxLabelsPerVer   = 20
	MaxDescriptionLen = 2048
	MaxKmsKeyIdLen    = 2048
	MaxValueBytes     = 65536
	MaxTags           = 50
	MaxTagKeyLen      = 127
	MaxTagValueLen    = 255
	MaxPolicyLen      = 20480
	MaxFilters        = 10
	MaxFilterValues   = 10
	MaxFilterValueLen = 512
	MaxBatchIds       = 20
	// KeepVersions is the count above which deprecated versions older than
	// 24 hours are removed.
	KeepVersions = 100
)

func validName(name string) bool {
	if name == "" || len(name) > MaxNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !nameChar(name[i]) {
			return false
		}
	}
	return true
}

func nameChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("/_+=.@-", c) >= 0
}

func checkName(name string) error {
	if !validName(name) {
		return errParam("Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	return nil
}

func checkSecretId(id string) error {
	if id == "" || len(id) > MaxSecretIdLen {
		return errParam("SecretId must be 1-%d characters long.", MaxSecretIdLen)
	}
	return nil
}

func checkToken(field, tok string) error {
	if n := utf8.RuneCountInString(tok); n < MinTokenLen || n > MaxTokenLen {
		return errParam("%s must be %d-%d characters long.", field, MinTokenLen, MaxTokenLen)
	}
	return nil
}

func checkLabel(label string) error {
	if n := utf8.RuneCountInString(label); n < 1 || n > MaxLabelLen {
		return errParam("VersionStage must be 1-%d characters long.", MaxLabelLen)
	}
	return nil
}

// checkLabels validates a VersionStages list and returns it without
// duplicates. A nil list means "not given"; an empty one is refused.
func checkLabels(labels []string) ([]string, error) {
	if labels == nil {
		return nil, nil
	}
	if len(labels) == 0 {
		return nil, errParam("VersionStages must contain 1-%d labels.", MaxLabelsPerVer)
	}
	out := make([]string, 0, len(labels))
	for _, l := range labels {
		if err := checkLabel(l); err != nil {
			return nil, err
		}
		if !containsString(out, l) {
			out = append(out, l)
		}
	}
	if len(out) > MaxLabelsPerVer {
		return nil, errorf(CodeLimitExceeded, "A version can have at most %d staging labels.", MaxLabelsPerVer)
	}
	return out, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkValue validates a secret value; it reports whether one was given.
func checkValue(s *string, b []byte) (bool, error) {
	switch {
	case s != nil && b != nil:
		return false, errParam("You can't specify both a binary secret value and a string secret value in the same secret.")
	case s != nil:
		if len(*s) < 1 || len(*s) > MaxValueBytes {
			return false, errParam("SecretString must be 1-%d bytes long.", MaxValueBytes)
		}
		return true, nil
	case b != nil:
		if len(b) < 1 || len(b) > MaxValueBytes {
			return false, errParam("SecretBinary must be 1-%d bytes long.", MaxValueBytes)
		}
		return true, nil
	}
	return false, nil
}

func checkDescription(d *string) error {
	if d != nil && utf8.RuneCountInString(*d) > MaxDescriptionLen {
		return errParam("Description must be at most %d characters long.", MaxDescriptionLen)
	}
	return nil
}

func checkKmsKeyId(k *string) error {
	if k != nil && utf8.RuneCountInString(*k) > MaxKmsKeyIdLen {
		return errParam("KmsKeyId must be at most %d characters long.", MaxKmsKeyIdLen)
	}
	return nil
}

func checkTagKey(k string) error {
	if n := utf8.RuneCountInString(k); n < 1 || n > MaxTagKeyLen {
		return errParam("Tag keys must be 1-%d characters long.", MaxTagKeyLen)
	}
	if strings.HasPrefix(strings.ToLower(k), "aws:") {
		return errParam("Tag keys can't start with the reserved prefix aws:.")
	}
	return nil
}

// checkTags validates a list of tags to add; keys must be distinct.
func checkTags(tags []Tag) error {
	if len(tags) > MaxTags {
		return errParam("A secret can have at most %d tags.", MaxTags)
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if err := checkTagKey(t.Key); err != nil {
			return err
		}
		if utf8.RuneCountInString(t.Value) > MaxTagValueLen {
			return errParam("Tag values must be at most %d characters long.", MaxTagValueLen)
		}
		if seen[t.Key] {
			return errParam("Duplicate tag key %q.", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

// mergeTags adds or replaces tags, keeping the order of existing keys.
func mergeTags(have, add []Tag) []Tag {
	out := append([]Tag(nil), have...)
	for _, t := range add {
		found := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value = t.Value
				found = true
				break
			}
		}
		if !found {
			out = append(out, t)
		}
	}
	return out
}

func checkRotationRules(r *RotationRules) error {
	if r == nil {
		return nil
	}
	if _, err := r.schedule(); err != nil {
		return errParam("RotationRules: %s", err)
	}
	return nil
}

// schedule parses the rules (AWS's semantics, internal/rotation/awsrules).
func (r *RotationRules) schedule() (*awsrules.Schedule, error) {
	return awsrules.Parse(awsrules.Rules{AutomaticallyAfterDays: r.AutomaticallyAfterDays,
		ScheduleExpression: r.ScheduleExpression, Duration: r.Duration})
}

func checkPolicy(p string, blockPublic bool) error {
	if n := utf8.RuneCountInString(p); n < 1 || n > MaxPolicyLen {
		return errParam("ResourcePolicy must be 1-%d characters long.", MaxPolicyLen)
	}
	var doc any
	if err := json.Unmarshal([]byte(p), &doc); err != nil {
		return errorf(CodeMalformedPolicy, "This resource policy contains a syntax error.")
	}
	if _, ok := doc.(map[string]any); !ok {
		return errorf(CodeMalformedPolicy, "This resource policy is not a JSON object.")
	}
	if blockPublic && policyIsPublic(doc.(map[string]any)) {
		return errorf(CodePublicPolicy, "This resource policy grants public access to the secret; BlockPublicPolicy refuses it.")
	}
	return nil
}

// policyIsPublic reports whether some Allow statement has the wildcard
// principal ("*" or {"AWS": "*"}).
func policyIsPublic(doc map[string]any) bool {
	var stmts []any
	switch s := doc["Statement"].(type) {
	case []any:
		stmts = s
	case map[string]any:
		stmts = []any{s}
	}
	for _, st := range stmts {
		m, ok := st.(map[string]any)
		if !ok || m["Effect"] != "Allow" {
			continue
		}
		p := m["Principal"]
		if pm, ok := p.(map[string]any); ok {
			p = pm["AWS"]
		}
		if wildcard(p) {
			return true
		}
	}
	return false
}

func wildcard(p any) bool {
	switch v := p.(type) {
	case string:
		return v == "*"
	case []any:
		for _, x := range v {
			if x == "*" {
				return true
			}
		}
	}
	return false
}
