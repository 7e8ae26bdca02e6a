// Package template renders files and environment variables from secrets,
// for the agent's templates and for "kinko run": Go text/template with
// consul-template's functions, so Vault Agent templates work unchanged:
//
//	{{ with secret "secret/data/app" }}{{ .Data.data.password }}{{ end }}
//	{{ with secret "aws-sm/secrets/prod/db" }}{{ (parseJSON .Data.SecretString).password }}{{ end }}
//	{{ with secret "database/creds/app" }}{{ .Data.username }}{{ end }}
//	{{ with secret "pki/issue/web" "common_name=web.example" }}{{ .Data.certificate }}{{ end }}
//	{{ with pkiCert "pki/issue/web" "common_name=web.example" }}{{ .Cert }}{{ .Key }}{{ .CA }}{{ end }}
//	{{ env "HOME" }}
//
// secret with only a path reads it (GET); with "key=value" arguments it
// writes them and renders the answer (consul-template's semantics). Each
// render reads each distinct path once. pkiCert issues a certificate and
// keeps it across renders until two thirds of its validity have passed,
// so a template re-rendered every few minutes does not issue a new
// certificate (and restart its command) each time. A missing secret or key is an
// error, never an empty value rendered silently.
//
// Files are written atomically (a temporary file in the same folder,
// fsync, rename, fsync of the folder) with the configured mode and owner,
// only when their content changed; a command may run after each change.
// Secrets never appear in logs or errors.
package template

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/kinko-dev/kinko/api"
)

// Source is where secrets come from: a kinko client (*api.Client).
type Source interface {
	Read(ctx context.Context, path string, query url.Values) (*api.Secret, error)
	Write(ctx context.Context, path string, data map[string]any) (*api.Secret, error)
}

// Template is one parsed template.
type Template struct {
	name string
	t    *template.Template
	pki  *pkiCache
	// Now is the clock pkiCert renews by (time.Now when nil; tests).
	Now func() time.Time
}

// ErrMissing is wrapped by render errors for a secret that does not exist.
var ErrMissing = errors.New("secret not found")

// Parse parses text as a template named name (for error messages).
// Unknown keys of a map are errors (missingkey=error).
func Parse(name, text string) (*Template, error) {
	t, err := template.New(name).Option("missingkey=error").Funcs(placeholderFuncs).Parse(text)
	if err != nil {
		return nil, err
	}
	return &Template{name: name, t: t, pki: &pkiCache{}}, nil
}

// placeholderFuncs lets Parse check function names; Render binds them.
var placeholderFuncs = funcs(nil)

// Render executes the template, reading secrets from src.
func (t *Template) Render(ctx context.Context, src Source) ([]byte, error) {
	r := &renderCtx{ctx: ctx, src: src, cache: map[string]*api.Secret{}, pki: t.pki, now: t.Now}
	if r.now == nil {
		r.now = time.Now
	}
	tt, err := t.t.Clone()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := tt.Funcs(funcs(r)).Execute(&buf, nil); err != nil {
		return nil, redact(err)
	}
	return buf.Bytes(), nil
}

// redact keeps the template position and the cause of an execution
// error, not the values text/template may quote in it.
func redact(err error) error {
	var ee template.ExecError
	if errors.As(err, &ee) {
		if inner := errors.Unwrap(ee.Err); inner != nil && strings.HasPrefix(inner.Error(), "secret ") {
			return fmt.Errorf("template %s: %w", ee.Name, inner)
		}
		return fmt.Errorf("template %s: %s", ee.Name, ee.Err)
	}
	return err
}

type renderCtx struct {
	ctx   context.Context
	src   Source
	cache map[string]*api.Secret
	pki   *pkiCache
	now   func() time.Time
}

// Secret is what secret returns: Vault's response envelope.
type Secret struct {
	LeaseID       string
	LeaseDuration int
	Renewable     bool
	Data          map[string]any
	Warnings      []string
}

func (r *renderCtx) secret(path string, args ...string) (*Secret, error) {
	path = strings.Trim(path, "/")
	if path == "" {
		return nil, errors.New("secret: empty path")
	}
	key := path
	var data map[string]any
	if len(args) > 0 {
		var err error
		if data, key, err = writeArgs(path, args); err != nil {
			return nil, fmt.Errorf("secret %s: %w", path, err)
		}
	}
	s, ok := r.cache[key]
	if !ok {
		var err error
		if data == nil {
			s, err = r.src.Read(r.ctx, path, nil)
		} else {
			s, err = r.src.Write(r.ctx, path, data)
		}
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", path, err)
		}
		if s == nil {
			return nil, fmt.Errorf("secret %s: %w", path, ErrMissing)
		}
		r.cache[key] = s
	}
	return &Secret{LeaseID: s.LeaseID, LeaseDuration: s.LeaseDuration, Renewable: s.Renewable, Data: s.Data, Warnings: s.Warnings}, nil
}

// writeArgs turns "key=value" arguments into a write's data, and a cache
// key naming path and the arguments.
func writeArgs(path string, args []string) (map[string]any, string, error) {
	data := map[string]any{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, "", fmt.Errorf("argument %q is not key=value", a)
		}
		data[k] = v
	}
	sorted := append([]string(nil), args...)
	sort.Strings(sorted)
	return data, path + "\x00" + strings.Join(sorted, "\x00"), nil
}

func funcs(r *renderCtx) template.FuncMap {
	return template.FuncMap{
		"secret": func(path string, args ...string) (*Secret, error) {
			if r == nil {
				return nil, errors.New("secret: no source")
			}
			return r.secret(path, args...)
		},
		"pkiCert": func(path string, args ...string) (*PKICert, error) {
			if r == nil {
				return nil, errors.New("pkiCert: no source")
			}
			return r.pkiCert(path, args...)
		},
		"env": os.Getenv,
		"parseJSON": func(s string) (any, error) {
			var v any
			if err := json.Unmarshal([]byte(s), &v); err != nil {
				return nil, errors.New("parseJSON: the value is not JSON")
			}
			return v, nil
		},
		"toJSON": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"base64Decode": func(s string) (string, error) {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return "", errors.New("base64Decode: the value is not base64")
			}
			return string(b), nil
		},
		"base64Encode": func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
		"trimSpace":    strings.TrimSpace,
	}
}
