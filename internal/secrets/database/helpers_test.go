package database

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
)

// rootConn is a PostgreSQL superuser made for one test and the
// connection (config/<conn>) kinko has to it, allowing roles app-*.
type rootConn struct {
	name, password, conn string
}

// rootUser creates a superuser with password and configures a connection
// that logs in as it through the {{username}}/{{password}} template.
func (f *fixture) rootUser(password string) rootConn {
	f.t.Helper()
	ctx := context.Background()
	r := rootConn{name: "kinko_root_" + dbtest.Suffix(), password: password, conn: "root"}
	if _, err := f.admin.Exec(ctx, "CREATE ROLE "+r.name+" WITH SUPERUSER LOGIN PASSWORD '"+password+"'"); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { f.admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+r.name) })
	f.do(logical.UpdateOperation, "config/"+r.conn, map[string]any{"plugin_name": "postgresql-database-plugin",
		"connection_url": "postgres://{{username}}:{{password}}@" + dbtest.PostgresAddr + "/postgres?sslmode=disable&connect_timeout=3",
		"username":       r.name, "password": password, "allowed_roles": "app-*"})
	return r
}

// userExists reports whether a role is in pg_roles.
func (f *fixture) userExists(user string) bool {
	f.t.Helper()
	var ok bool
	if err := f.admin.QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname=$1)", user).Scan(&ok); err != nil {
		f.t.Fatal(err)
	}
	return ok
}

// flatten renders a response's data for substring checks.
func flatten(data map[string]any) string { return fmt.Sprintf("%v", data) }

// pgPasswordIs reports whether PostgreSQL's stored SCRAM-SHA-256 verifier
// of user (pg_authid.rolpassword) is for password: the test server trusts
// local logins, so the verifier is how a test knows what the database
// would accept.
func (f *fixture) pgPasswordIs(user, password string) bool {
	f.t.Helper()
	var verifier string
	if err := f.admin.QueryRow(context.Background(), "SELECT rolpassword FROM pg_authid WHERE rolname=$1", user).Scan(&verifier); err != nil {
		f.t.Fatal(err)
	}
	// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
	parts := strings.Split(verifier, "$")
	if len(parts) != 3 || parts[0] != "SCRAM-SHA-256" {
		f.t.Fatalf("unexpected verifier format for %s", user)
	}
	iterSalt, keys := strings.SplitN(parts[1], ":", 2), strings.SplitN(parts[2], ":", 2)
	iter, err1 := strconv.Atoi(iterSalt[0])
	salt, err2 := base64.StdEncoding.DecodeString(iterSalt[1])
	stored, err3 := base64.StdEncoding.DecodeString(keys[0])
	if err1 != nil || err2 != nil || err3 != nil {
		f.t.Fatalf("unparsable verifier for %s", user)
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, sha256.Size)
	if err != nil {
		f.t.Fatal(err)
	}
	mac := hmac.New(sha256.New, salted)
	mac.Write([]byte("Client Key"))
	sum := sha256.Sum256(mac.Sum(nil))
	return hmac.Equal(sum[:], stored)
}
