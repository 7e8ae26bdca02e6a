package redis

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
)

// env is one test's view of the test Redis: su is a client as the
// server's default user (for checks and clean-up), db the plugin,
// connected as a per-test admin ACL user with only what the plugin needs.
type env struct {
	tb     testing.TB
	addr   string
	su     *goredis.Client
	db     *DB
	admin  string
	prefix string // key prefix for this test
}

const adminPass = "first-Pass1"

func newEnv(tb testing.TB) *env {
	tb.Helper()
	addr := dbtest.RedisAddress(tb)
	ctx := context.Background()
	su := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	tb.Cleanup(func() { su.Close() })
	sfx := dbtest.Suffix()
	e := &env{tb: tb, addr: addr, su: su, db: New().(*DB), admin: "kinko-admin-" + sfx, prefix: "kt" + sfx + ":"}
	if err := su.Do(ctx, "ACL", "SETUSER", e.admin, "on", ">"+adminPass, "+acl", "+client|kill", "+ping").Err(); err != nil {
		tb.Fatalf("create the test admin (the default user must be able to run ACL SETUSER): %v", err)
	}
	tb.Cleanup(func() { su.Do(context.Background(), "ACL", "DELUSER", e.admin) })
	e.initialize(adminPass)
	tb.Cleanup(func() { e.db.Close() })
	return e
}

func (e *env) initialize(pw string) {
	e.tb.Helper()
	host, port, _ := net.SplitHostPort(e.addr)
	p, _ := strconv.Atoi(port)
	if _, err := e.db.Initialize(context.Background(), dbplugin.InitializeRequest{VerifyConnection: true,
		Config: map[string]any{"host": host, "port": p, "username": e.admin, "password": pw}}); err != nil {
		e.tb.Fatal(err)
	}
}

// newUser creates a user through the plugin and deletes it at clean-up.
func (e *env) newUser(role, pw string, stmts ...string) (string, error) {
	res, err := e.db.NewUser(context.Background(), dbplugin.NewUserRequest{Password: pw, Statements: dbplugin.Statements{Commands: stmts},
		UsernameConfig: dbplugin.UsernameMetadata{DisplayName: "token", RoleName: role}})
	if err == nil {
		e.tb.Cleanup(func() { e.su.Do(context.Background(), "ACL", "DELUSER", res.Username) })
	}
	return res.Username, err
}

func (e *env) login(user, pw string) (*goredis.Client, error) {
	c := goredis.NewClient(&goredis.Options{Addr: e.addr, Username: user, Password: pw, MaxRetries: -1, PoolSize: 1, DisableIdentity: true})
	// PING needs +ping; a NOPERM answer proves the login worked.
	if err := c.Ping(context.Background()).Err(); err != nil && !strings.HasPrefix(err.Error(), "NOPERM") {
		c.Close()
		return nil, err
	}
	e.tb.Cleanup(func() { c.Close() })
	return c, nil
}

func (e *env) users() []string {
	users, err := e.su.Do(context.Background(), "ACL", "USERS").StringSlice()
	if err != nil {
		e.tb.Fatal(err)
	}
	return users
}

func (e *env) exists(user string) bool {
	for _, u := range e.users() {
		if u == user {
			return true
		}
	}
	return false
}

// sessions counts the connections authenticated as user.
func (e *env) sessions(user string) int {
	list, err := e.su.ClientList(context.Background()).Result()
	if err != nil {
		e.tb.Fatal(err)
	}
	return strings.Count(list, " user="+user+" ")
}

func wantErr(t *testing.T, what string, err error, code string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), code) {
		t.Fatalf("%s: error %v, want %s", what, err, code)
	}
}

func TestNewUserRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	name, err := e.newUser("cache", "Pa55-one", `["~`+e.prefix+`*", "+get", "+set"]`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(name, "V_TOKEN_CACHE_") {
		t.Fatalf("name %q", name)
	}
	c, err := e.login(name, "Pa55-one")
	if err != nil {
		t.Fatal(err)
	}
	defer e.su.Del(ctx, e.prefix+"x")
	if err := c.Set(ctx, e.prefix+"x", "v", 0).Err(); err != nil {
		t.Fatalf("permitted SET: %v", err)
	}
	if v, err := c.Get(ctx, e.prefix+"x").Result(); err != nil || v != "v" {
		t.Fatalf("permitted GET: %q %v", v, err)
	}
	wantErr(t, "GET of another key", c.Get(ctx, "other:"+e.prefix).Err(), "NOPERM")
	wantErr(t, "FLUSHALL", c.Do(ctx, "FLUSHALL").Err(), "NOPERM")
	wantErr(t, "DEL", c.Del(ctx, e.prefix+"x").Err(), "NOPERM")
}

func TestNewUserDefaultRulesAreReadOnly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	name, err := e.newUser("ro", "Pa55-ro")
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.login(name, "Pa55-ro")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, e.prefix+"any").Err(); !errors.Is(err, goredis.Nil) {
		t.Fatalf("read: %v", err)
	}
	wantErr(t, "write", c.Set(ctx, e.prefix+"any", "v", 0).Err(), "NOPERM")
}

func TestUpdateAndDeleteUser(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	name, err := e.newUser("upd", "Pa55-one", `["~`+e.prefix+`*", "+get"]`)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.UpdateUser(ctx, dbplugin.UpdateUserRequest{Username: name, Password: &dbplugin.ChangePassword{NewPassword: "Pa55-two"}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.login(name, "Pa55-one")
	wantErr(t, "old password", err, "WRONGPASS")
	c, err := e.login(name, "Pa55-two")
	if err != nil {
		t.Fatal(err)
	}
	if n := e.sessions(name); n != 1 {
		t.Fatalf("%d sessions before delete, want 1", n)
	}
	if err := e.db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: name}); err != nil {
		t.Fatal(err)
	}
	if e.exists(name) {
		t.Fatal("user still in ACL USERS after delete")
	}
	if n := e.sessions(name); n != 0 {
		t.Fatalf("%d sessions after delete, want 0", n)
	}
	if err := c.Get(ctx, e.prefix+"x").Err(); err == nil || errors.Is(err, goredis.Nil) {
		t.Fatalf("the deleted user's open session still works: %v", err)
	}
	_, err = e.login(name, "Pa55-two")
	wantErr(t, "login after delete", err, "WRONGPASS")
	if err := e.db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: name}); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	err = e.db.UpdateUser(ctx, dbplugin.UpdateUserRequest{Username: name, Password: &dbplugin.ChangePassword{NewPassword: "Pa55-x"}})
	wantErr(t, "update of a deleted user", err, "does not exist")
	if e.exists(name) {
		t.Fatal("UpdateUser created the deleted user again")
	}
}

func TestDeleteUnknownUser(t *testing.T) {
	e := newEnv(t)
	if err := e.db.DeleteUser(context.Background(), dbplugin.DeleteUserRequest{Username: "kinko-nobody-" + dbtest.Suffix()}); err != nil {
		t.Fatal(err)
	}
}

func TestBadRulesLeaveNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, bad := range []string{`["+get", "+nosuchcommand"]`, `["(~k:* +get"]`, `["%Q~k"]`, `"+get"`, `["~a", ">pw"]`} {
		s := dbplugin.Statements{Commands: []string{bad}}
		if err := e.db.ValidateStatements(ctx, dbplugin.CreationStatements, s); !errors.Is(err, dbplugin.ErrInvalidStatements) {
			t.Errorf("validate %s: %v", bad, err)
		}
		if _, err := e.newUser("badrules", "Pa55", bad); !errors.Is(err, dbplugin.ErrInvalidStatements) {
			t.Errorf("NewUser %s: %v", bad, err)
		} else if strings.Contains(err.Error(), "Pa55") {
			t.Errorf("error shows the password: %v", err)
		}
	}
	for _, good := range []string{`["+get", "~x:*"]`, `["(~k:* +get)", "+@read"]`} {
		if err := e.db.ValidateStatements(ctx, dbplugin.CreationStatements, dbplugin.Statements{Commands: []string{good}}); err != nil {
			t.Errorf("validate %s: %v", good, err)
		}
	}
	if err := e.db.ValidateStatements(ctx, dbplugin.RevocationStatements, dbplugin.Statements{Commands: []string{"ignored"}}); err != nil {
		t.Errorf("revocation statements are unused: %v", err)
	}
	for _, u := range e.users() {
		if strings.Contains(u, "BADRULES") || strings.HasPrefix(u, "kinko-validate-") {
			t.Errorf("left behind: %s", u)
		}
	}
}

func TestNewUserRefusesExistingName(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	host, port, _ := net.SplitHostPort(e.addr)
	fixed := "kinko-fixed-" + dbtest.Suffix()
	if _, err := e.db.Initialize(ctx, dbplugin.InitializeRequest{Config: map[string]any{"host": host, "port": port,
		"username": e.admin, "password": adminPass, "username_template": fixed}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.newUser("r", "Pa55-1"); err != nil {
		t.Fatal(err)
	}
	_, err := e.newUser("r", "Pa55-2")
	wantErr(t, "second user of the same name", err, "already exists")
	if _, err := e.login(fixed, "Pa55-1"); err != nil {
		t.Fatalf("the first user was changed: %v", err)
	}
}

func TestRootRotation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.db.UpdateUser(ctx, dbplugin.UpdateUserRequest{Username: e.admin, Password: &dbplugin.ChangePassword{NewPassword: "second-Pass2"}}); err != nil {
		t.Fatal(err)
	}
	e.initialize("second-Pass2")
	_, err := e.login(e.admin, adminPass)
	wantErr(t, "old admin password", err, "WRONGPASS")
	name, err := e.newUser("after", "Pa55")
	if err != nil {
		t.Fatalf("NewUser after rotation: %v", err)
	}
	if err := e.db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: name}); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(e.addr)
	_, err = New().Initialize(ctx, dbplugin.InitializeRequest{VerifyConnection: true,
		Config: map[string]any{"host": host, "port": port, "username": e.admin, "password": adminPass}})
	wantErr(t, "Initialize with the old password", err, e.addr)
	if strings.Contains(err.Error(), adminPass) {
		t.Fatalf("error shows the password: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				name, err := e.newUser("conc", "Pa55", `["~`+e.prefix+`*", "+get"]`)
				if err == nil {
					err = e.db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: name})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	host, port, _ := net.SplitHostPort(e.addr)
	wg.Add(1)
	go func() { // re-initialise meanwhile, as a config write does
		defer wg.Done()
		for j := 0; j < 3; j++ {
			if _, err := e.db.Initialize(ctx, dbplugin.InitializeRequest{Config: map[string]any{"host": host, "port": port,
				"username": e.admin, "password": adminPass}}); err != nil {
				errs <- err
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkNewUserDeleteUser(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	stmts := dbplugin.Statements{Commands: []string{`["~` + e.prefix + `*", "+get", "+set"]`}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := e.db.NewUser(ctx, dbplugin.NewUserRequest{Password: "Pa55-bench", Statements: stmts,
			UsernameConfig: dbplugin.UsernameMetadata{DisplayName: "bench", RoleName: "bench"}})
		if err != nil {
			b.Fatal(err)
		}
		if err := e.db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: res.Username}); err != nil {
			b.Fatal(err)
		}
	}
}
