// Package builtin is the one registry of engine and auth-method factories
// compiled into kinko, by type name. Core receives these maps; it never
// imports an engine itself.
package builtin

import (
	"github.com/kinko-dev/kinko/internal/auth/approle"
	"github.com/kinko-dev/kinko/internal/auth/cert"
	"github.com/kinko-dev/kinko/internal/auth/jwt"
	"github.com/kinko-dev/kinko/internal/auth/userpass"
	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/secrets/awssm"
	"github.com/kinko-dev/kinko/internal/secrets/cubbyhole"
	"github.com/kinko-dev/kinko/internal/secrets/database"
	"github.com/kinko-dev/kinko/internal/secrets/kv"
	"github.com/kinko-dev/kinko/internal/secrets/pki"
	"github.com/kinko-dev/kinko/internal/secrets/ssh"
	"github.com/kinko-dev/kinko/internal/secrets/transit"
)

// LogicalBackends returns the secrets engine factories by type name.
func LogicalBackends() map[string]logical.Factory {
	return registry(map[string]logical.Factory{}, []entry{
		{"kv", kv.Factory},
		{"cubbyhole", cubbyhole.Factory},
		{"database", database.Factory},
		{"aws-sm", awssm.Factory},
		{"pki", pki.Factory},
		{"ssh", ssh.Factory},
		{"transit", transit.Factory},
	})
}

// CredentialBackends returns the auth method factories by type name (the
// token store is part of core and not listed).
func CredentialBackends() map[string]logical.Factory {
	return registry(map[string]logical.Factory{}, []entry{
		{"userpass", userpass.Factory},
		{"approle", approle.Factory},
		{"jwt", jwt.Factory},
		{"oidc", jwt.Factory},
		{"cert", cert.Factory},
	})
}

type entry struct {
	name    string
	factory logical.Factory
}

// registry fills m, panicking on a duplicate name: that is a programming
// error caught by the package's test.
func registry(m map[string]logical.Factory, entries []entry) map[string]logical.Factory {
	for _, e := range entries {
		if _, dup := m[e.name]; dup {
			panic("builtin: duplicate backend type " + e.name)
		}
		m[e.name] = e.factory
	}
	return m
}
