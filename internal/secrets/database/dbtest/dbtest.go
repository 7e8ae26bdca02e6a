// Package dbtest finds the real database servers the integration tests
// use (PostgreSQL, MariaDB, Redis on their standard local ports, or the
// addresses in KINKO_TEST_POSTGRES / KINKO_TEST_MYSQL / KINKO_TEST_REDIS).
// A test that needs one skips with the reason when it is not reachable,
// except under CI=true, where a missing server fails the test: CI starts
// them (scripts/services.sh). It is imported only by tests.
package dbtest

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"testing"
	"time"
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
