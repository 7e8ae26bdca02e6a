package dbrotate

import (
	"strings"
	"testing"
)

func TestRewriteGrant(t *testing.T) {
	from, to := account{"app", "%"}, account{"app_clone", "%"}
	const hash = "*242EADC3A9F2DF43A17ECE03747C1FE133CBE019"
	tests := []struct {
		name, line, want string
		skip             bool
		wantErr          string
	}{
		{name: "usage with password hash", line: "GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '" + hash + "'", skip: true},
		{name: "usage, MySQL 8", line: "GRANT USAGE ON *.* TO `app`@`%`", skip: true},
		{name: "usage with limits", line: "GRANT USAGE ON *.* TO `app`@`%` REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 10", skip: true},
		{name: "table", line: "GRANT SELECT ON `db`.`t` TO `app`@`%`", want: "GRANT SELECT ON `db`.`t` TO `app_clone`@`%`"},
		{name: "global with hash and grant option",
			line: "GRANT SELECT, INSERT ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '" + hash + "' WITH GRANT OPTION",
			want: "GRANT SELECT, INSERT ON *.* TO `app_clone`@`%` WITH GRANT OPTION"},
		{name: "grant option and limits", line: "GRANT ALL PRIVILEGES ON *.* TO `app`@`%` WITH GRANT OPTION MAX_USER_CONNECTIONS 3",
			want: "GRANT ALL PRIVILEGES ON *.* TO `app_clone`@`%` WITH GRANT OPTION"},
		{name: "limits only", line: "GRANT SELECT ON *.* TO `app`@`%` WITH MAX_QUERIES_PER_HOUR 10",
			want: "GRANT SELECT ON *.* TO `app_clone`@`%`"},
		{name: "column", line: "GRANT SELECT (`name`), UPDATE (`v`) ON `mysql`.`help_category` TO `app`@`%` WITH GRANT OPTION",
			want: "GRANT SELECT (`name`), UPDATE (`v`) ON `mysql`.`help_category` TO `app_clone`@`%` WITH GRANT OPTION"},
		{name: "MariaDB role", line: "GRANT `reader` TO `app`@`%`", want: "GRANT `reader` TO `app_clone`@`%`"},
		{name: "role with admin option", line: "GRANT `reader`@`%` TO `app`@`%` WITH ADMIN OPTION", want: "GRANT `reader`@`%` TO `app_clone`@`%` WITH ADMIN OPTION"},
		{name: "default role", line: "SET DEFAULT ROLE `reader` FOR `app`@`%`", want: "SET DEFAULT ROLE `reader` FOR `app_clone`@`%`"},
		{name: "partial revoke", line: "REVOKE INSERT ON `mysql`.* FROM `app`@`%`", want: "REVOKE INSERT ON `mysql`.* FROM `app_clone`@`%`"},
		{name: "procedure", line: "GRANT EXECUTE ON PROCEDURE `db`.`p` TO `app`@`%`", want: "GRANT EXECUTE ON PROCEDURE `db`.`p` TO `app_clone`@`%`"},
		{name: "old quoting", line: "GRANT SELECT ON `db`.* TO 'app'@'%'", want: "GRANT SELECT ON `db`.* TO `app_clone`@`%`"},
		{name: "grantee-like text in a table name",
			line: "GRANT SELECT ON `db`.` TO ``app``@``%``` TO `app`@`%`",
			want: "GRANT SELECT ON `db`.` TO ``app``@``%``` TO `app_clone`@`%`"},
		{name: "grant option word inside the hash clause is not an option",
			line: "GRANT SELECT ON *.* TO `app`@`%` IDENTIFIED VIA x USING 'WITH GRANT OPTION'",
			want: "GRANT SELECT ON *.* TO `app_clone`@`%`"},
		{name: "other account", line: "GRANT SELECT ON `db`.* TO `app`@`localhost`", wantErr: "does not name the account"},
		{name: "prefix of another account", line: "GRANT SELECT ON `db`.* TO `app`@`%x`", wantErr: "does not name the account"},
		{name: "unexpected", line: "CREATE USER `app`@`%` IDENTIFIED BY PASSWORD '" + hash + "'", wantErr: `starting with "CREATE"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, skip, err := rewriteGrant(tt.line, from, to)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), hash) {
					t.Fatalf("error quotes the password hash: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if skip != tt.skip || got != tt.want {
				t.Fatalf("got %q (skip %v), want %q (skip %v)", got, skip, tt.want, tt.skip)
			}
		})
	}
}

func TestRewriteGrantHosts(t *testing.T) {
	from, to := account{"a`b", "127.0.0.1"}, account{"a`b_clone", "127.0.0.1"}
	got, _, err := rewriteGrant("GRANT SELECT ON `d`.* TO `a``b`@`127.0.0.1`", from, to)
	if err != nil || got != "GRANT SELECT ON `d`.* TO `a``b_clone`@`127.0.0.1`" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestRequireClause(t *testing.T) {
	srv := myServer{}
	tests := []struct{ typ, cipher, issuer, subject, want string }{
		{"", "", "", "", "REQUIRE NONE"},
		{"ANY", "", "", "", "REQUIRE SSL"},
		{"X509", "", "", "", "REQUIRE X509"},
		{"SPECIFIED", "AES256-SHA", "", "/CN=o'k", `REQUIRE CIPHER 'AES256-SHA' AND SUBJECT '/CN=o\'k'`},
		{"SPECIFIED", "", "", "", "REQUIRE SSL"},
	}
	for _, tt := range tests {
		if got := requireClause(srv, tt.typ, tt.cipher, tt.issuer, tt.subject); got != tt.want {
			t.Errorf("requireClause(%q...) = %q, want %q", tt.typ, got, tt.want)
		}
	}
}
