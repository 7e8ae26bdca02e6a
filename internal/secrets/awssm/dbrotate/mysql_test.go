package dbrotate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
)

func TestMySQLSetSingle(t *testing.T) {
	e := newMyEnv(t)
	ctx := testCtx(t)
	tests := []struct {
		name, user, host, password, pending string
	}{
		{"plain", "rot_" + dbtest.Suffix(), "%", "Old-Pass-1", "New-Pass-2"},
		{"quotes and backslashes", "rot_" + dbtest.Suffix(), "%", `o'l\d"1`, `n'e\\w" \'; DROP USER root; -- \%_`},
		{"non-ASCII", "rot_" + dbtest.Suffix(), "%", "Old-Pass-1", "nëw-päss-✓"},
		{"host-specific account", "rot_" + dbtest.Suffix(), "127.0.0.1", "Old-Pass-1", "New-Pass-2"},
		{"odd user name", "r`o'\"t " + dbtest.Suffix()[:6], "%", "Old-Pass-1", "New-Pass-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			current := e.user(t, tt.user, tt.host, tt.password)
			pending := current
			pending.Password = tt.pending
			if err := SetSingle(ctx, pending, current, nil); err != nil {
				t.Fatalf("SetSingle: %v", err)
			}
			if err := myLogin(pending); err != nil {
				t.Fatalf("the pending password does not log in: %v", err)
			}
			if err := myLogin(current); err == nil {
				t.Fatal("the old password still logs in")
			}
			if err := SetSingle(ctx, pending, current, nil); err != nil {
				t.Fatalf("SetSingle again: %v", err)
			}
			if err := myLogin(pending); err != nil {
				t.Fatalf("the pending password stopped logging in: %v", err)
			}
			e.noSessions(t, tt.user)
		})
	}
}

func TestMySQLSetSingleFallsBackToPrevious(t *testing.T) {
	e := newMyEnv(t)
	ctx := testCtx(t)
	user := "rot_" + dbtest.Suffix()
	previous := e.user(t, user, "%", "Prev-Pass-0")
	current, pending := previous, previous
	current.Password, pending.Password = "Curr-Pass-1", "Pend-Pass-2"

	err := SetSingle(ctx, pending, current, nil)
	if !errors.Is(err, ErrLogin) {
		t.Fatalf("without previous: %v, want ErrLogin", err)
	}
	assertNoSecrets(t, err, "Prev-Pass-0", "Curr-Pass-1", "Pend-Pass-2")
	if err := SetSingle(ctx, pending, current, &previous); err != nil {
		t.Fatalf("with previous: %v", err)
	}
	if err := myLogin(pending); err != nil {
		t.Fatalf("pending does not log in: %v", err)
	}
	if err := myLogin(previous); err == nil {
		t.Fatal("previous still logs in")
	}
}

// TestMySQLNoBackslashEscapes: passwords are quoted right when the
// session's sql_mode makes backslashes ordinary characters.
func TestMySQLNoBackslashEscapes(t *testing.T) {
	e := newMyEnv(t)
	ctx := testCtx(t)
	current := e.user(t, "rot_"+dbtest.Suffix(), "%", "Old-Pass-1")
	pending := current
	pending.Password = `a\'b\\c''d\`
	s, err := myDialect{}.login(ctx, current, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if _, err := s.conn.ExecContext(ctx, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')"); err != nil {
		t.Fatal(err)
	}
	srv, err := serverInfo(ctx, s)
	if err != nil || !srv.noBackslash {
		t.Fatalf("NO_BACKSLASH_ESCAPES not seen: %+v %v", srv, err)
	}
	for _, v := range []string{pending.Password, `'`, `\`, `\\'`, "x\ny"} {
		var got string
		if err := s.conn.QueryRowContext(ctx, "SELECT "+srv.literal(v)).Scan(&got); err != nil || got != v {
			t.Errorf("%q read back as %q (%v)", v, got, err)
		}
	}
	if err := (myDialect{}).setOwnPassword(ctx, s, pending); err != nil {
		t.Fatal(err)
	}
	if err := myLogin(pending); err != nil {
		t.Fatalf("the password set under NO_BACKSLASH_ESCAPES does not log in: %v", err)
	}
}

// myAlternating is a master, an application user with privileges and
// the objects they are on.
type myAlternating struct {
	e                *myEnv
	master, app      Creds
	db, role, sfx    string
	tbA, tbB, tbRole string
}

func newMyAlternating(t *testing.T, host string) *myAlternating {
	e := newMyEnv(t)
	sfx := dbtest.Suffix()
	f := &myAlternating{e: e, sfx: sfx, db: "rot_db_" + sfx, role: "rot_role_" + sfx, tbA: "a", tbB: "b", tbRole: "c"}
	f.master = e.user(t, "rotm_"+sfx, "%", "Master-Pass-1")
	mustExec(t, e.admin, "GRANT ALL PRIVILEGES ON *.* TO "+account{f.master.Username, "%"}.quoted()+" WITH GRANT OPTION")
	f.app = e.user(t, "rot_"+sfx, host, "App-Pass-1")
	e.database(t, f.db, f.tbA, f.tbB, f.tbRole)
	appAcct := account{f.app.Username, host}.quoted()
	mustExec(t, e.admin,
		"CREATE ROLE "+myIdent(f.role),
		"GRANT SELECT ON "+myIdent(f.db)+"."+myIdent(f.tbRole)+" TO "+myIdent(f.role),
		// the master may hand the role on
		"GRANT "+myIdent(f.role)+" TO "+account{f.master.Username, "%"}.quoted()+" WITH ADMIN OPTION",
		"GRANT SELECT ON "+myIdent(f.db)+"."+myIdent(f.tbA)+" TO "+appAcct,
		"GRANT SELECT (v) ON "+myIdent(f.db)+"."+myIdent(f.tbB)+" TO "+appAcct+" WITH GRANT OPTION",
		"GRANT "+myIdent(f.role)+" TO "+appAcct,
		"SET DEFAULT ROLE "+myIdent(f.role)+" FOR "+appAcct,
	)
	t.Cleanup(func() { _, _ = e.admin.Exec("DROP ROLE IF EXISTS " + myIdent(f.role)) })
	return f
}

func TestMySQLSetAlternating(t *testing.T) {
	for _, host := range []string{"%", "127.0.0.1"} {
		t.Run("host "+host, func(t *testing.T) { testMySQLSetAlternating(t, host) })
	}
}

func testMySQLSetAlternating(t *testing.T, host string) {
	ctx := testCtx(t)
	f := newMyAlternating(t, host)
	e, app, master := f.e, f.app, f.master
	clone := CloneUsername("mysql", app.Username)
	pending := app
	pending.Username, pending.Password = clone, "Clone-Pass-1"

	if err := SetAlternating(ctx, master, app, pending); err != nil {
		t.Fatalf("SetAlternating: %v", err)
	}
	if err := myLogin(pending); err != nil {
		t.Fatalf("the clone does not log in: %v", err)
	}
	if err := myLogin(app); err != nil {
		t.Fatalf("the current user stopped logging in: %v", err)
	}
	// same host part, same grants
	want, got := e.grantsOf(t, account{app.Username, host}), e.grantsOf(t, account{clone, host})
	if !slices.Equal(want, got) {
		t.Fatalf("grants differ:\noriginal %q\nclone    %q", want, got)
	}
	for _, q := range []struct {
		query string
		ok    bool
	}{
		{"SELECT v FROM " + f.db + "." + f.tbA, true},
		{"SELECT v FROM " + f.db + "." + f.tbB, true}, // the column granted
		{"SELECT w FROM " + f.db + "." + f.tbB, false},
		{"SELECT v FROM " + f.db + "." + f.tbRole, true}, // through the default role
		{"SELECT * FROM mysql.user", false},
	} {
		if err := myQueryAs(pending, q.query); (err == nil) != q.ok {
			t.Errorf("clone: %s: %v, want ok=%v", q.query, err, q.ok)
		}
		if err := myQueryAs(app, q.query); (err == nil) != q.ok {
			t.Errorf("original: %s: %v, want ok=%v", q.query, err, q.ok)
		}
	}

	// again: nothing to do
	if err := SetAlternating(ctx, master, app, pending); err != nil {
		t.Fatalf("SetAlternating again: %v", err)
	}
	// privileges given to the original since are copied on the next rotation
	mustExec(t, e.admin, "GRANT SELECT ON "+myIdent(f.db)+"."+myIdent(f.tbB)+" TO "+account{app.Username, host}.quoted())
	pending2 := pending
	pending2.Password = "Clone-Pass-2"
	if err := SetAlternating(ctx, master, app, pending2); err != nil {
		t.Fatalf("SetAlternating with a new password: %v", err)
	}
	if err := myLogin(pending2); err != nil {
		t.Fatalf("the new password does not log in: %v", err)
	}
	if err := myLogin(pending); err == nil {
		t.Fatal("the clone's old password still logs in")
	}
	if err := myQueryAs(pending2, "SELECT w FROM "+f.db+"."+f.tbB); err != nil {
		t.Fatalf("a privilege the original gained was not copied: %v", err)
	}
	// and back
	back := app
	back.Password = "App-Pass-2"
	if err := SetAlternating(ctx, master, pending2, back); err != nil {
		t.Fatalf("SetAlternating back to the original: %v", err)
	}
	for _, c := range []Creds{back, pending2} {
		if err := myLogin(c); err != nil {
			t.Fatalf("%s does not log in: %v", c.Username, err)
		}
	}
	if err := myLogin(app); err == nil {
		t.Fatal("the original's old password still logs in")
	}
	e.noSessions(t, master.Username, app.Username, clone)
}

// TestMySQLSetAlternatingRepairs: a clone left half made (created, no
// grants, another password) is completed.
func TestMySQLSetAlternatingRepairs(t *testing.T) {
	ctx := testCtx(t)
	f := newMyAlternating(t, "%")
	clone := CloneUsername("mysql", f.app.Username)
	mustExec(t, f.e.admin, "CREATE USER "+account{clone, "%"}.quoted()+" IDENTIFIED BY 'Half-Made-1'")
	pending := f.app
	pending.Username, pending.Password = clone, "Clone-Pass-1"
	if err := SetAlternating(ctx, f.master, f.app, pending); err != nil {
		t.Fatal(err)
	}
	if err := myQueryAs(pending, "SELECT v FROM "+f.db+"."+f.tbA); err != nil {
		t.Fatalf("the clone did not get the grants: %v", err)
	}
}

func TestMySQLSetAlternatingFailures(t *testing.T) {
	ctx := testCtx(t)
	f := newMyAlternating(t, "%")
	weak := f.e.user(t, "rotw_"+f.sfx, "%", "Weak-Pass-1")
	clone := CloneUsername("mysql", f.app.Username)
	pending := f.app
	pending.Username, pending.Password = clone, "Clone-Pass-1"
	secrets := []string{"Master-Pass-1", "Weak-Pass-1", "App-Pass-1", "Clone-Pass-1", "Wrong-Pass-9"}
	badMaster, badCurrent := f.master, f.app
	badMaster.Password, badCurrent.Password = "Wrong-Pass-9", "Wrong-Pass-9"

	// a user whose clone name is too long for MariaDB (80) / MySQL (32)
	long := f.e.user(t, "rot_"+f.sfx+strings.Repeat("x", 80-6-len("rot_"+f.sfx)+1), "%", "Long-Pass-1")
	longPending := long
	longPending.Username, longPending.Password = CloneUsername("mysql", long.Username), "Clone-Pass-1"

	tests := []struct {
		name                     string
		master, current, pending Creds
		want                     string
		is                       error
	}{
		{"wrong master password", badMaster, f.app, pending, "master credentials", ErrLogin},
		{"wrong current password", f.master, badCurrent, pending, "current credentials must log in", ErrLogin},
		{"master lacks CREATE USER", weak, f.app, pending, "Access denied", nil},
		{"clone name too long", f.master, long, longPending, "longer than the server's", ErrInvalidCreds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := SetAlternating(ctx, tt.master, tt.current, tt.pending)
			if err == nil || !strings.Contains(err.Error(), tt.want) || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Fatalf("error %v, want %q (%v)", err, tt.want, tt.is)
			}
			assertNoSecrets(t, err, secrets...)
			var n int
			if err := f.e.admin.QueryRow("SELECT count(*) FROM mysql.user WHERE User = ?", tt.pending.Username).Scan(&n); err != nil || n != 0 {
				t.Fatalf("the clone exists after a failure: %d %v", n, err)
			}
		})
	}
}

func TestMySQLTest(t *testing.T) {
	e := newMyEnv(t)
	ctx := testCtx(t)
	app := e.user(t, "rot_"+dbtest.Suffix(), "%", "App-Pass-1")
	if err := Test(ctx, app); err != nil {
		t.Fatalf("Test with good credentials: %v", err)
	}
	bad := app
	bad.Password = "Wrong-Pass-9"
	err := Test(ctx, bad)
	if !errors.Is(err, ErrLogin) || !strings.Contains(err.Error(), app.Username) {
		t.Fatalf("Test with a wrong password: %v", err)
	}
	assertNoSecrets(t, err, "Wrong-Pass-9", "App-Pass-1")
	withDB := app
	withDB.DBName = "no_such_db_" + dbtest.Suffix()
	if err := Test(ctx, withDB); err == nil || errors.Is(err, ErrLogin) {
		t.Fatalf("Test with a database the user may not use: %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := Test(canceled, app); !errors.Is(err, context.Canceled) {
		t.Fatalf("Test with a canceled context: %v", err)
	}
	e.noSessions(t, app.Username)
}
