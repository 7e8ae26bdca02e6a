package database_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
	"github.com/kinko-dev/kinko/internal/testserver"
)

// pgEnv is a running kinko with the database engine at database/, a
// PostgreSQL superuser made for the test as its root user, and a table
// the roles grant on.
type pgEnv struct {
	t      testing.TB
	srv    *testserver.Server
	client *vault.Client
	admin  *pgx.Conn // the test's own superuser connection
	root   string
	table  string
}

func newPGEnv(t testing.TB) *pgEnv {
	t.Helper()
	url := dbtest.PostgresURL(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	sfx := dbtest.Suffix()
	e := &pgEnv{t: t, admin: admin, root: "kinko_root_" + sfx, table: "kinko_t_" + sfx}
	for _, q := range []string{
		"CREATE ROLE " + e.root + " WITH SUPERUSER LOGIN PASSWORD 'first-root-Pass1'",
		"CREATE TABLE " + e.table + " (v int)",
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		admin.Exec(context.Background(), "DROP TABLE IF EXISTS "+e.table)
		admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+e.root)
	})
	e.srv = testserver.Start(t)
	e.client = testserver.VaultClient(t, e.srv.Addr, e.srv.RootToken)
	if err := e.client.Sys().Mount("database", &vault.MountInput{Type: "database"}); err != nil {
		t.Fatal(err)
	}
	e.configure(t, dbtest.PostgresAddr)
	e.write("database/roles/readonly", map[string]any{"db_name": "pg", "default_ttl": "1h", "max_ttl": "2h",
		"creation_statements": []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON ` + e.table + ` TO "{{name}}";`}})
	return e
}

// configure (re)writes config/pg pointing at addr (PostgreSQL or a proxy).
func (e *pgEnv) configure(t testing.TB, addr string) {
	t.Helper()
	e.write("database/config/pg", map[string]any{"plugin_name": "postgresql-database-plugin",
		"connection_url": "postgres://{{username}}:{{password}}@" + addr + "/postgres?sslmode=disable&connect_timeout=3",
		"username":       e.root, "password": "first-root-Pass1", "allowed_roles": "*"})
}

func (e *pgEnv) write(path string, data map[string]any) *vault.Secret {
	e.t.Helper()
	s, err := e.client.Logical().Write(path, data)
	if err != nil {
		e.t.Fatalf("write %s: %v", path, err)
	}
	return s
}

// creds reads database/creds/<role> and returns the lease and user.
func (e *pgEnv) creds(role string) (leaseID, user, password string) {
	e.t.Helper()
	s, err := e.client.Logical().Read("database/creds/" + role)
	if err != nil {
		e.t.Fatalf("creds: %v", err)
	}
	if s == nil || s.LeaseID == "" || !s.Renewable {
		e.t.Fatalf("creds without a renewable lease: %+v", s)
	}
	return s.LeaseID, s.Data["username"].(string), s.Data["password"].(string)
}

func (e *pgEnv) exists(user string) bool {
	e.t.Helper()
	var ok bool
	if err := e.admin.QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname=$1)", user).Scan(&ok); err != nil {
		e.t.Fatal(err)
	}
	return ok
}

// waitGone polls the catalog until user is dropped.
func (e *pgEnv) waitGone(user string, within time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for e.exists(user) {
		if time.Now().After(deadline) {
			e.t.Fatalf("user %s still exists after %s", user, within)
		}
		time.Sleep(50 * time.Millisecond) // polling the server's lease workers
	}
}

func connectAs(user, password string) (*pgx.Conn, error) {
	u := strings.NewReplacer("@", "%40", ":", "%3A", "/", "%2F").Replace(user)
	return pgx.Connect(context.Background(), "postgres://"+u+":"+password+"@"+dbtest.PostgresAddr+"/postgres?sslmode=disable")
}

// proxy forwards TCP connections to a target and can be taken down (all
// connections cut, new ones refused) and brought back on the same port:
// a database that goes away and returns.
type proxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	p := &proxy{target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("proxy back up on %s: %v", p.addr, err)
	}
	p.serve(ln)
}
