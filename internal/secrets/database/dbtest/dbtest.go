// Package dbtest finds the real database servers the integration tests
// use (PostgreSQL, MariaDB, Redis on their standard local ports, or the
// addresses in KINKO_TEST_POSTGRES / KINKO_TEST_MYSQL / KINKO_TEST_REDIS).
// A test that needs one skips with the reason when it is not reachable,
// except under CI=true, where a missing server fails the test: CI starts
// them (scripts/services.sh). It is imported only by tests.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server addresses.
var (
	PostgresAddr = envOr("KINKO_TEST_POSTGRES", "127.0.0.1:5432")
	MySQLAddr    = envOr("KINKO_TEST_MYSQL", "127.0.0.1:3306")
	RedisAddr    = envOr("KINKO_TEST_REDIS", "127.0.0.1:6379")
)

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// Require skips (or under CI=true fails) the test unless addr accepts
// TCP connections.
func Require(t testing.TB, what, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		c.Close()
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not reachable at %s (CI must start it: scripts/services.sh): %v", what, addr, err)
	}
	t.Skipf("%s is not reachable at %s (start it, see scripts/services.sh): %v", what, addr, err)
}

// PostgresURL is the superuser URL of the test PostgreSQL (trust auth).
func PostgresURL(t testing.TB) string {
	Require(t, "PostgreSQL", PostgresAddr)
	return "postgres://postgres@" + PostgresAddr + "/postgres?sslmode=disable"
}

// PostgresAuthDB is the database of the test PostgreSQL on which
// passwords are checked (scram-sha-256; the others trust every local
// connection): tests that must see a stale password refused connect to
// it. scripts/services.sh sets it up. Skips (under CI=true fails) when it
// is missing or does not check passwords.
func PostgresAuthDB(t testing.TB) string {
	t.Helper()
	Require(t, "PostgreSQL", PostgresAddr)
	const db = "kinko_auth"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, "postgres://kinko_no_such_user:wrong@"+PostgresAddr+"/"+db+"?sslmode=disable")
	if err == nil {
		c.Close(ctx)
		err = errorString("a wrong password logged in")
	} else if strings.Contains(err.Error(), "password authentication failed") {
		return db
	}
	msg := "PostgreSQL database " + db + " does not check passwords (scripts/services.sh sets it up): " + err.Error()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

type errorString string

func (e errorString) Error() string { return string(e) }

// MySQLDSN is the root DSN of the test MariaDB (empty password).
func MySQLDSN(t testing.TB) string {
	Require(t, "MariaDB", MySQLAddr)
	return "root@tcp(" + MySQLAddr + ")/"
}

// RedisAddress is the address of the test Redis.
func RedisAddress(t testing.TB) string {
	Require(t, "Redis", RedisAddr)
	return RedisAddr
}

// Suffix is a random lowercase hex string for unique names.
func Suffix() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}
