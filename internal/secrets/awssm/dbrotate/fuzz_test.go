package dbrotate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzParseCreds: any input either fails with ErrInvalidCreds or gives
// credentials that pass the checks, carry defaults, and survive a JSON
// round trip unchanged.
func FuzzParseCreds(f *testing.F) {
	for _, s := range []string{
		`{"engine":"postgres","host":"h","username":"u","password":"p"}`,
		`{"engine":"mysql","host":"[::1]","port":"3306","username":"u","password":"p","dbname":"d","masterarn":"arn"}`,
		`{"engine":"aurora-postgresql","host":"h","port":5432.0,"username":"u\u00e9","password":"p'\\"}`,
		`{"engine":"mariadb","host":"h,x","username":"u","password":"p"}`,
		`{"engine":null}`, `[]`, `null`, `"x"`, `{`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseCreds(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidCreds) {
				t.Fatalf("error does not wrap ErrInvalidCreds: %v", err)
			}
			return
		}
		fam, err := c.check("")
		if err != nil {
			t.Fatalf("parsed credentials fail the check: %v", err)
		}
		if c.Port < 1 || c.Port > 65535 || (fam == postgres && c.DBName == "") {
			t.Fatalf("defaults missing: %v", c)
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseCreds(string(b))
		if err != nil || again != c {
			t.Fatalf("round trip: %v, %v != %v", err, again, c)
		}
	})
}

// FuzzParseCredsLeak: an error about a secret never shows its password,
// whatever the other fields hold. The password carries a marker so that
// it cannot be a part of a fixed message.
func FuzzParseCredsLeak(f *testing.F) {
	f.Add("postgres", "h", "5432", "u", "pw", "d")
	f.Add("oracle", "h", "x", "", "pw", "")
	f.Add("mysql", "a b", "70000", "u\x00", "p\x00w", "d\x00")
	f.Fuzz(func(t *testing.T, engine, host, port, user, pw, db string) {
		password := "\u2603marker" + pw + "\u2603"
		if strings.Contains(engine+host+port+user+db, password) {
			return
		}
		b, err := json.Marshal(map[string]string{"engine": engine, "host": host, "port": port, "username": user, "password": password, "dbname": db})
		if err != nil {
			return
		}
		if _, err := ParseCreds(string(b)); err != nil && strings.Contains(err.Error(), password) {
			t.Fatalf("error shows the password: %v", err)
		}
		// broken JSON around the password
		if _, err := ParseCreds(string(b[:len(b)-1])); err != nil && strings.Contains(err.Error(), password) {
			t.Fatalf("error shows the password: %v", err)
		}
	})
}

// FuzzRewriteGrant: a rewritten grant names the new account, and never
// carries an authentication clause over.
func FuzzRewriteGrant(f *testing.F) {
	for _, s := range []string{
		"GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*242EADC3A9F2DF43A17ECE03747C1FE133CBE019'",
		"GRANT SELECT ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*24' WITH GRANT OPTION",
		"GRANT `r` TO `app`@`%` WITH ADMIN OPTION", "SET DEFAULT ROLE `r` FOR `app`@`%`",
		"REVOKE INSERT ON `mysql`.* FROM `app`@`%`", "GRANT SELECT ON `d`.* TO 'app'@'%'",
	} {
		f.Add(s)
	}
	from, to := account{"app", "%"}, account{"app_clone", "%"}
	f.Fuzz(func(t *testing.T, line string) {
		stmt, skip, err := rewriteGrant(line, from, to)
		if err != nil || skip {
			return
		}
		if !strings.Contains(stmt, to.quoted()) {
			t.Fatalf("%q became %q, which does not name %s", line, stmt, to.quoted())
		}
		rest := stmt[strings.LastIndex(stmt, to.quoted())+len(to.quoted()):]
		if rest != "" && rest != " WITH GRANT OPTION" && rest != " WITH ADMIN OPTION" {
			t.Fatalf("%q became %q, which keeps %q", line, stmt, rest)
		}
	})
}
