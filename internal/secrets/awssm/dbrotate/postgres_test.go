package dbrotate

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
)

func TestPostgresSetSingle(t *testing.T) {
	e := newPGEnv(t)
	ctx := testCtx(t)
	tests := []struct {
		name, user, password, pending string
	}{
		{"plain", "rot_" + dbtest.Suffix(), "Old-Pass-1", "New-Pass-2"},
		{"quotes and backslashes", "rot_" + dbtest.Suffix(), `o'l\d"1`, `n'e\\w" $$ E'x' \'; DROP ROLE postgres; --`},
		{"non-ASCII password (sent in clear, SASLprep by the server)", "rot_" + dbtest.Suffix(), "Old-Pass-1", "nëw-päss-✓"},
		{"odd user name", `rot "we'ird" ` + dbtest.Suffix(), "Old-Pass-1", "New-Pass-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			current := e.user(t, tt.user, tt.password, "")
			pending := current
			pending.Password = tt.pending
			if err := SetSingle(ctx, pending, current, nil); err != nil {
				t.Fatalf("SetSingle: %v", err)
			}
			if err := pgLogin(pending); err != nil {
				t.Fatalf("the pending password does not log in: %v", err)
			}
			if err := pgLogin(current); err == nil {
				t.Fatal("the old password still logs in")
			}
			v := e.verifier(t, tt.user)
			if !strings.HasPrefix(v, "SCRAM-SHA-256$") {
				t.Fatalf("stored password is not a SCRAM verifier: %.14s...", v)
			}
			// again: pending works, nothing is done (a new verifier would have a new salt)
			if err := SetSingle(ctx, pending, current, nil); err != nil {
				t.Fatalf("SetSingle again: %v", err)
			}
			if e.verifier(t, tt.user) != v {
				t.Fatal("SetSingle changed the password again")
			}
			e.noSessions(t, tt.user)
		})
	}
}

func TestPostgresSetSingleFallsBackToPrevious(t *testing.T) {
	e := newPGEnv(t)
	ctx := testCtx(t)
	user := "rot_" + dbtest.Suffix()
	previous := e.user(t, user, "Prev-Pass-0", "")
	current, pending := previous, previous
	current.Password, pending.Password = "Curr-Pass-1", "Pend-Pass-2" // current was never set

	err := SetSingle(ctx, pending, current, nil)
	if !errors.Is(err, ErrLogin) {
		t.Fatalf("without previous: %v, want ErrLogin", err)
	}
	assertNoSecrets(t, err, "Prev-Pass-0", "Curr-Pass-1", "Pend-Pass-2")

	other := previous
	other.Username = "someone_else"
	if err := SetSingle(ctx, pending, current, &other); !errors.Is(err, ErrLogin) {
		t.Fatalf("previous of another user was used: %v", err)
	}
	if err := SetSingle(ctx, pending, current, &previous); err != nil {
		t.Fatalf("with previous: %v", err)
	}
	if err := pgLogin(pending); err != nil {
		t.Fatalf("pending does not log in: %v", err)
	}
	if err := pgLogin(previous); err == nil {
		t.Fatal("previous still logs in")
	}
	e.noSessions(t, user)
}

// TestPostgresSetSingleMD5: with password_encryption=md5 the verifier is
// PostgreSQL's md5 of password and role name.
func TestPostgresSetSingleMD5(t *testing.T) {
	e := newPGEnv(t)
	ctx := testCtx(t)
	user := "rot_" + dbtest.Suffix()
	current := e.user(t, user, "Old-Pass-1", "")
	mustExec(t, e.admin, "ALTER ROLE "+pgIdent(user)+" SET password_encryption = 'md5'")
	pending := current
	pending.Password = "New-Pass-2"
	if err := SetSingle(ctx, pending, current, nil); err != nil {
		t.Fatal(err)
	}
	var ok bool
	if err := e.admin.QueryRow("SELECT rolpassword = 'md5' || md5($1 || rolname) FROM pg_authid WHERE rolname = $2", pending.Password, user).Scan(&ok); err != nil || !ok {
		t.Fatalf("stored password is not md5(password || role): %v %v", ok, err)
	}
}

func TestPostgresSetAlternating(t *testing.T) {
	e := newPGEnv(t)
	ctx := testCtx(t)
	sfx := dbtest.Suffix()
	master := e.user(t, "rotm_"+sfx, "Master-Pass-1", "CREATEROLE")
	app := e.user(t, "rot_"+sfx, "App-Pass-1", "")
	clone := CloneUsername("postgres", app.Username)
	granted, other := "rot_a_"+sfx, "rot_b_"+sfx
	e.table(t, granted)
	e.table(t, other)
	mustExec(t, e.admin, "GRANT SELECT ON "+pgIdent(granted)+" TO "+pgIdent(app.Username))

	pending := e.creds(clone, "Clone-Pass-1")
	if err := SetAlternating(ctx, master, app, pending); err != nil {
		t.Fatalf("SetAlternating: %v", err)
	}
	if err := pgLogin(pending); err != nil {
		t.Fatalf("the clone does not log in: %v", err)
	}
	if err := pgLogin(app); err != nil {
		t.Fatalf("the current user stopped logging in: %v", err)
	}
	if err := e.queryAs(clone, "SELECT v FROM "+pgIdent(granted)); err != nil {
		t.Fatalf("the clone cannot read what the original can: %v", err)
	}
	if err := e.queryAs(clone, "SELECT v FROM "+pgIdent(other)); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("the clone reads what the original cannot: %v", err)
	}

	// again: nothing to do
	v := e.verifier(t, clone)
	if err := SetAlternating(ctx, master, app, pending); err != nil {
		t.Fatalf("SetAlternating again: %v", err)
	}
	if e.verifier(t, clone) != v {
		t.Fatal("the second call changed the password")
	}
	// a new pending password on the existing clone
	pending2 := e.creds(clone, "Clone-Pass-2")
	if err := SetAlternating(ctx, master, app, pending2); err != nil {
		t.Fatalf("SetAlternating with a new password: %v", err)
	}
	if err := pgLogin(pending2); err != nil {
		t.Fatalf("the new password does not log in: %v", err)
	}
	if err := pgLogin(pending); err == nil {
		t.Fatal("the clone's old password still logs in")
	}
	// and back: the original gets a new password, the clone keeps working
	back := e.creds(app.Username, "App-Pass-2")
	if err := SetAlternating(ctx, master, pending2, back); err != nil {
		t.Fatalf("SetAlternating back to the original: %v", err)
	}
	for _, c := range []Creds{back, pending2} {
		if err := pgLogin(c); err != nil {
			t.Fatalf("%s does not log in: %v", c.Username, err)
		}
	}
	if err := pgLogin(app); err == nil {
		t.Fatal("the original's old password still logs in")
	}
	e.noSessions(t, master.Username, app.Username, clone)
}

func TestPostgresSetAlternatingFailures(t *testing.T) {
	e := newPGEnv(t)
	ctx := testCtx(t)
	sfx := dbtest.Suffix()
	master := e.user(t, "rotm_"+sfx, "Master-Pass-1", "CREATEROLE")
	weak := e.user(t, "rotw_"+sfx, "Weak-Pass-1", "") // may not create roles
	app := e.user(t, "rot_"+sfx, "App-Pass-1", "")
	clone := CloneUsername("postgres", app.Username)
	pending := e.creds(clone, "Clone-Pass-1")
	secrets := []string{"Master-Pass-1", "Weak-Pass-1", "App-Pass-1", "Clone-Pass-1", "Wrong-Pass-9"}

	badMaster := master
	badMaster.Password = "Wrong-Pass-9"
	badCurrent := app
	badCurrent.Password = "Wrong-Pass-9"
	tests := []struct {
		name                     string
		master, current, pending Creds
		want                     string
		login                    bool
	}{
		{"wrong master password", badMaster, app, pending, "master credentials", true},
		{"wrong current password", master, badCurrent, pending, "current credentials must log in", true},
		{"master lacks CREATEROLE", weak, app, pending, "permission denied", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := SetAlternating(ctx, tt.master, tt.current, tt.pending)
			if err == nil || !strings.Contains(err.Error(), tt.want) || errors.Is(err, ErrLogin) != tt.login {
				t.Fatalf("error %v, want %q (login refused: %v)", err, tt.want, tt.login)
			}
			assertNoSecrets(t, err, secrets...)
			var n int
			if err := e.admin.QueryRow("SELECT count(*) FROM pg_roles WHERE rolname = $1", clone).Scan(&n); err != nil || n != 0 {
				t.Fatalf("the clone exists after a failure: %d %v", n, err)
			}
		})
	}
}

func TestPostgresTest(t *testing.T) {
	e := newPGEnv(t)
	ctx := testCtx(t)
	app := e.user(t, "rot_"+dbtest.Suffix(), "App-Pass-1", "")
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

	closed := app
	closed.Port = 1 // nothing listens
	if err := Test(ctx, closed); err == nil || errors.Is(err, ErrLogin) {
		t.Fatalf("Test of a closed port: %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := Test(canceled, app); !errors.Is(err, context.Canceled) {
		t.Fatalf("Test with a canceled context: %v", err)
	}
	if err := Test(ctx, Creds{Engine: "postgres", Host: "h"}); !errors.Is(err, ErrInvalidCreds) {
		t.Fatalf("Test of invalid credentials: %v", err)
	}
	e.noSessions(t, app.Username)
}

// TestPostgresLiteral: the E'...' literal reads back as the string,
// whatever standard_conforming_strings says.
func TestPostgresLiteral(t *testing.T) {
	e := newPGEnv(t)
	ctx := testCtx(t)
	conn, err := e.admin.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, scs := range []string{"on", "off"} {
		if _, err := conn.ExecContext(ctx, "SET standard_conforming_strings = "+scs); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{`plain`, `it's`, `back\slash`, `\'`, `''\\`, `$$ $x$ "q"`, "tab\tnew\nline", `ünï✓`, `\x41\101`} {
			var got string
			if err := conn.QueryRowContext(ctx, "SELECT "+pgLiteral(s)).Scan(&got); err != nil || got != s {
				t.Errorf("standard_conforming_strings=%s: %q read back as %q (%v)", scs, s, got, err)
			}
		}
	}
	if _, err := conn.ExecContext(ctx, "RESET standard_conforming_strings"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{`plain`, `We"ird`, `with space`, `x"; DROP TABLE y; --`} {
		rows, err := conn.QueryContext(ctx, "SELECT 1 AS "+pgIdent(id))
		if err != nil {
			t.Fatalf("identifier %q: %v", id, err)
		}
		cols, err := rows.Columns()
		rows.Close()
		if err != nil || len(cols) != 1 || cols[0] != id {
			t.Errorf("identifier %q came back as %q (%v)", id, cols, err)
		}
	}
}
