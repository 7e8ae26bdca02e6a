package redis

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

// defaultRules are granted when a role has no creation statements:
// read-only access to every key, as Vault's plugin does.
var defaultRules = []string{"~*", "+@read"}

// maxRules bounds the rules of one role, so that a statement cannot make
// a command of unbounded size.
const maxRules = 1024

// reserved are rules kinko sets itself (the password, the on flag) or that
// would undo them.
var reserved = map[string]bool{"nopass": true, "resetpass": true, "reset": true, "on": true, "off": true}

// rules parses statements: each command is a JSON array of ACL rules
// (blank commands are skipped). Errors wrap ErrInvalidStatements.
func rules(s dbplugin.Statements) ([]string, error) {
	var out []string
	for _, c := range s.Commands {
		if strings.TrimSpace(c) == "" {
			continue
		}
		var r []string
		if err := json.Unmarshal([]byte(c), &r); err != nil {
			return nil, fmt.Errorf(`%w: a Redis statement is a JSON array of ACL rules such as ["~app:*", "+get"]: %v`,
				dbplugin.ErrInvalidStatements, err)
		}
		for _, x := range r {
			if err := checkRule(x); err != nil {
				return nil, err
			}
		}
		if out = append(out, r...); len(out) > maxRules {
			return nil, fmt.Errorf("%w: more than %d ACL rules", dbplugin.ErrInvalidStatements, maxRules)
		}
	}
	return out, nil
}

// checkRule refuses what is not one ACL rule and rules kinko owns; the
// server judges the rest.
func checkRule(x string) error {
	selector := strings.HasPrefix(x, "(") && strings.HasSuffix(x, ")")
	switch {
	case x == "":
		return fmt.Errorf("%w: empty ACL rule", dbplugin.ErrInvalidStatements)
	case !utf8.ValidString(x) || strings.ContainsRune(x, 0):
		return fmt.Errorf("%w: ACL rule %q is not valid text", dbplugin.ErrInvalidStatements, x)
	case !selector && strings.ContainsAny(x, " \t\r\n"):
		return fmt.Errorf("%w: ACL rule %q must be one word (one rule per array element)", dbplugin.ErrInvalidStatements, x)
	case strings.ContainsAny(x[:1], "><#!") || reserved[strings.ToLower(x)]:
		return fmt.Errorf("%w: ACL rule %q sets the password or the on/off flag, which kinko manages",
			dbplugin.ErrInvalidStatements, x)
	}
	return nil
}

// userName makes a rendered template a valid Redis user name: no spaces
// or control characters (Redis refuses them), at most maxNameLength bytes
// cut on a character boundary.
func userName(s string) string {
	out := make([]byte, 0, maxNameLength)
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == utf8.RuneError {
			r = '_'
		}
		if len(out)+utf8.RuneLen(r) > maxNameLength {
			break
		}
		out = utf8.AppendRune(out, r)
	}
	return string(out)
}
