package sealfile

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// EnvVar is one environment variable made from a value of an opened file.
type EnvVar struct {
	Name  string
	Value string
}

// Env flattens the file's values (sealed or not) into environment
// variables, in document order:
//   - dotenv: the names as they are;
//   - a Kubernetes Secret: each name under data (base64-decoded) and
//     stringData (which wins, as in Kubernetes), as it is;
//   - YAML, JSON, INI: the path's keys and list indexes joined with "_",
//     upper-cased, other characters than A-Z, 0-9 and _ replaced by "_"
//     (db.password → DB_PASSWORD, servers[0].host → SERVERS_0_HOST).
//
// Nulls, empty collections and aliases give no variable. Two paths giving
// the same name are an error; no value appears in any error.
func (o *Opened) Env() ([]EnvVar, error) {
	var out []EnvVar
	index := map[string]int{}
	from := map[string]string{}
	for _, e := range o.entries {
		if e.kind != kindScalar {
			continue
		}
		name, value, ok, err := o.envOf(e)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		where := displayPath(e.path)
		if i, dup := index[name]; dup {
			if o.meta.Mode == ModeK8s && e.path[0].key == "stringData" && !strings.HasPrefix(from[name], "stringData.") {
				out[i].Value, from[name] = value, where
				continue
			}
			return nil, invalid("%s and %s both become the variable %s", from[name], where, name)
		}
		index[name], from[name] = len(out), where
		out = append(out, EnvVar{Name: name, Value: value})
	}
	return out, nil
}

// envOf names one scalar entry; ok is false when it gives no variable.
func (o *Opened) envOf(e *entry) (name, value string, ok bool, err error) {
	switch {
	case o.format == Dotenv:
		return e.path[0].key, e.plain, true, nil
	case o.meta.Mode == ModeK8s:
		if len(e.path) != 2 || e.path[0].isIdx || e.path[0].key != "data" && e.path[0].key != "stringData" {
			return "", "", false, nil
		}
		value = e.plain
		if e.path[0].key == "data" {
			b, err := base64.StdEncoding.DecodeString(value)
			if err != nil {
				return "", "", false, invalid("%s is not base64", displayPath(e.path))
			}
			value = string(b)
		}
		return e.path[1].key, value, true, nil
	}
	return envName(e.path), e.plain, true, nil
}

// envName flattens a path into an upper-case variable name.
func envName(path []seg) string {
	parts := make([]string, len(path))
	for i, s := range path {
		if s.isIdx {
			parts[i] = strconv.Itoa(s.index)
		} else {
			parts[i] = s.key
		}
	}
	name := []byte(strings.ToUpper(strings.Join(parts, "_")))
	for i, c := range name {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			name[i] = '_'
		}
	}
	if len(name) == 0 || name[0] >= '0' && name[0] <= '9' {
		name = append([]byte{'_'}, name...)
	}
	return string(name)
}
