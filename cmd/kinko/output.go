package main

import (
	"fmt"
	"os"
	"sort"

	"golang.org/x/term"

	"github.com/kinko-dev/kinko/api"
)

// outputSecret prints a whole response: the envelope as JSON with
// -format=json, else warnings on stderr and a Key/Value table.
func (c *cli) outputSecret(s *api.Secret) error {
	if s == nil {
		return nil
	}
	if c.isJSON() {
		return c.outputJSON(s)
	}
	c.printWarnings(s)
	if t := secretTable(s); t != "" {
		c.println(t)
	}
	return nil
}

// outputWrapped prints a response-wrapped secret (from -wrap-ttl) whole, or
// one of its wrap fields for -field, and reports whether s was wrapped.
// Commands that shape their output call it first, since a wrapped response
// holds only the wrap information.
func (c *cli) outputWrapped(s *api.Secret, field string) (bool, error) {
	if s == nil || s.WrapInfo == nil {
		return false, nil
	}
	if field != "" {
		return true, c.printField(secretField(s, field), field)
	}
	return true, c.outputSecret(s)
}

// outputMap prints a map as JSON or as a Key/Value table.
func (c *cli) outputMap(m map[string]any) error {
	if c.isJSON() {
		return c.outputJSON(m)
	}
	if t := kvTable(m); t != "" {
		c.println(t)
	}
	return nil
}

// outputJSON prints v as indented JSON.
func (c *cli) outputJSON(v any) error {
	s, err := jsonIndent(v)
	if err != nil {
		return fail(exitLocal, "Error: %s", err)
	}
	c.println(s)
	return nil
}

// outputList prints the "keys" of a LIST response: a JSON array, or a
// sorted one-column table under a "Keys" header.
func (c *cli) outputList(s *api.Secret) error {
	raw, _ := s.Data["keys"].([]any)
	keys := make([]string, 0, len(raw))
	for _, k := range raw {
		keys = append(keys, fmt.Sprint(k))
	}
	sort.Strings(keys)
	if c.isJSON() {
		return c.outputJSON(keys)
	}
	c.printWarnings(s)
	rows := make([][]string, len(keys))
	for i, k := range keys {
		rows[i] = []string{k}
	}
	c.println(table([]string{"Keys"}, rows))
	return nil
}

// printWarnings writes the response's warnings to stderr.
func (c *cli) printWarnings(s *api.Secret) {
	if s == nil || len(s.Warnings) == 0 {
		return
	}
	c.warn("WARNING! The following warnings were returned from the server:\n")
	for _, w := range s.Warnings {
		c.warn(wrapAtLength("* "+w, 2))
		c.warn()
	}
}

// secretField extracts a field for -field: the wrap information's fields,
// the auth block's token fields, the envelope's lease fields, or a key of
// Data.
// outputSecretOrField prints the named field of s when field is set,
// else the whole secret.
func (c *cli) outputSecretOrField(s *api.Secret, field string) error {
	if field != "" {
		return c.printField(secretField(s, field), field)
	}
	return c.outputSecret(s)
}

func secretField(s *api.Secret, field string) any {
	if v := wrapField(s.WrapInfo, field); v != nil {
		return v
	}
	if a := s.Auth; a != nil {
		switch field {
		case "token":
			return a.ClientToken
		case "token_accessor":
			return a.Accessor
		case "token_duration":
			return a.LeaseDuration
		case "token_renewable":
			return a.Renewable
		case "token_policies":
			return a.TokenPolicies
		case "identity_policies":
			return a.IdentityPolicies
		case "policies":
			return a.Policies
		}
	}
	switch field {
	case "lease_id":
		return s.LeaseID
	case "lease_duration", "refresh_interval":
		return s.LeaseDuration
	case "request_id":
		return s.RequestID
	case "renewable":
		return s.Renewable
	}
	return s.Data[field]
}

// wrapField extracts a wrap information field, as Vault names them in a
// wrapped response's table; nil when w is nil or field is not one of them.
func wrapField(w *api.SecretWrapInfo, field string) any {
	if w == nil {
		return nil
	}
	switch field {
	case "wrapping_token":
		return w.Token
	case "wrapping_accessor":
		return w.Accessor
	case "wrapping_token_ttl":
		return w.TTL
	case "wrapping_token_creation_time":
		return w.CreationTime.String()
	case "wrapping_token_creation_path":
		return w.CreationPath
	case "wrapped_accessor":
		return w.WrappedAccessor
	}
	return nil
}

// printField prints one value for -field: raw with %v in table format, as
// JSON with -format=json. Like Vault, no newline is added when stdout is
// not a terminal, so the value can be piped byte for byte.
func (c *cli) printField(v any, field string) error {
	if v == nil {
		return fail(exitLocal, "Field %q not present in secret", field)
	}
	out := fmt.Sprintf("%v", v)
	if c.isJSON() {
		s, err := jsonIndent(v)
		if err != nil {
			return fail(exitLocal, "Error: %s", err)
		}
		out = s
	}
	if isTerminal(c.stdout) {
		out += "\n"
	}
	fmt.Fprint(c.stdout, out)
	return nil
}

// isTerminal reports whether v is an *os.File attached to a terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
