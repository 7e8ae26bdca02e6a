package dbrotate

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	driver "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

const testPassword = "S3cr3t-Pa55word"

func TestParseCreds(t *testing.T) {
	tests := []struct {
		name, in string
		want     Creds
		wantErr  string // a part of the error; "" for success
	}{
		{name: "postgres full",
			in:   `{"engine":"postgres","host":"db.example.com","port":6432,"username":"app","password":"S3cr3t-Pa55word","dbname":"shop","masterarn":"arn:aws:secretsmanager:us-east-1:1:secret:m"}`,
			want: Creds{Engine: "postgres", Host: "db.example.com", Port: 6432, Username: "app", Password: testPassword, DBName: "shop", MasterARN: "arn:aws:secretsmanager:us-east-1:1:secret:m"}},
		{name: "postgres defaults",
			in:   `{"engine":"postgres","host":"10.0.0.1","username":"app","password":"S3cr3t-Pa55word"}`,
			want: Creds{Engine: "postgres", Host: "10.0.0.1", Port: 5432, Username: "app", Password: testPassword, DBName: "postgres"}},
		{name: "postgresql alias",
			in:   `{"engine":"postgresql","host":"h","username":"app","password":"S3cr3t-Pa55word"}`,
			want: Creds{Engine: "postgresql", Host: "h", Port: 5432, Username: "app", Password: testPassword, DBName: "postgres"}},
		{name: "aurora-postgresql",
			in:   `{"engine":"aurora-postgresql","host":"h","username":"app","password":"S3cr3t-Pa55word"}`,
			want: Creds{Engine: "aurora-postgresql", Host: "h", Port: 5432, Username: "app", Password: testPassword, DBName: "postgres"}},
		{name: "mysql defaults, no dbname",
			in:   `{"engine":"mysql","host":"h","username":"app","password":"S3cr3t-Pa55word"}`,
			want: Creds{Engine: "mysql", Host: "h", Port: 3306, Username: "app", Password: testPassword}},
		{name: "mariadb, port as a string",
			in:   `{"engine":"mariadb","host":"h","port":" 3307 ","username":"app","password":"S3cr3t-Pa55word","dbname":"d"}`,
			want: Creds{Engine: "mariadb", Host: "h", Port: 3307, Username: "app", Password: testPassword, DBName: "d"}},
		{name: "aurora-mysql",
			in:   `{"engine":"aurora-mysql","host":"h","username":"app","password":"S3cr3t-Pa55word"}`,
			want: Creds{Engine: "aurora-mysql", Host: "h", Port: 3306, Username: "app", Password: testPassword}},
		{name: "unknown fields and nulls ignored",
			in:   `{"engine":"mysql","host":"h","username":"app","password":"S3cr3t-Pa55word","dbname":null,"port":null,"dbInstanceIdentifier":"x","extra":{"a":[1]}}`,
			want: Creds{Engine: "mysql", Host: "h", Port: 3306, Username: "app", Password: testPassword}},
		{name: "IPv6 in brackets",
			in:   `{"engine":"postgres","host":"[::1]","username":"app","password":"S3cr3t-Pa55word"}`,
			want: Creds{Engine: "postgres", Host: "[::1]", Port: 5432, Username: "app", Password: testPassword, DBName: "postgres"}},
		{name: "port 5432.0",
			in:   `{"engine":"postgres","host":"h","port":5432.0,"username":"app","password":"S3cr3t-Pa55word"}`,
			want: Creds{Engine: "postgres", Host: "h", Port: 5432, Username: "app", Password: testPassword, DBName: "postgres"}},

		{name: "not JSON", in: `{"engine":"postgres","password":"S3cr3t-Pa55word"`, wantErr: "not valid JSON"},
		{name: "syntax error inside the password", in: `{"password":"S3cr3t-Pa55word` + "\x01" + `"}`, wantErr: "not valid JSON"},
		{name: "array", in: `["S3cr3t-Pa55word"]`, wantErr: "not a JSON object"},
		{name: "null", in: `null`, wantErr: "not a JSON object"},
		{name: "string", in: `"S3cr3t-Pa55word"`, wantErr: "not a JSON object"},
		{name: "empty", in: ``, wantErr: "not valid JSON"},
		{name: "engine missing", in: `{"host":"h","username":"app","password":"S3cr3t-Pa55word"}`, wantErr: "engine is required"},
		{name: "engine unknown", in: `{"engine":"oracle","host":"h","username":"app","password":"S3cr3t-Pa55word"}`, wantErr: "engine is not supported"},
		{name: "engine not a string", in: `{"engine":5,"host":"h","username":"app","password":"S3cr3t-Pa55word"}`, wantErr: "engine must be a JSON string"},
		{name: "host missing", in: `{"engine":"mysql","username":"app","password":"S3cr3t-Pa55word"}`, wantErr: "host is required"},
		{name: "host list", in: `{"engine":"postgres","host":"a,b","username":"app","password":"S3cr3t-Pa55word"}`, wantErr: "host must be"},
		{name: "host socket", in: `{"engine":"postgres","host":"/var/run/postgresql","username":"app","password":"S3cr3t-Pa55word"}`, wantErr: "host must be"},
		{name: "host with space", in: `{"engine":"postgres","host":"h sslmode=disable","username":"app","password":"S3cr3t-Pa55word"}`, wantErr: "host must be"},
		{name: "host with quote", in: `{"engine":"postgres","host":"h'","username":"app","password":"S3cr3t-Pa55word"}`, wantErr: "host must be"},
		{name: "port zero", in: `{"engine":"mysql","host":"h","port":0,"username":"app","password":"S3cr3t-Pa55word"}`, wantErr: "port must be"},
		{name: "port too big", in: `{"engine":"mysql","host":"h","port":65536,"username":"app","password":"S3cr3t-Pa55word"}`, wantErr: "port must be"},
		{name: "port fraction", in: `{"engine":"mysql","host":"h","port":3306.5,"username":"app","password":"S3cr3t-Pa55word"}`, wantErr: "port must be"},
		{name: "port word", in: `{"engine":"mysql","host":"h","port":"S3cr3t-Pa55word","username":"app","password":"S3cr3t-Pa55word"}`, wantErr: "port must be"},
		{name: "username missing", in: `{"engine":"mysql","host":"h","password":"S3cr3t-Pa55word"}`, wantErr: "username is required"},
		{name: "username NUL", in: `{"engine":"mysql","host":"h","username":"a\u0000b","password":"S3cr3t-Pa55word"}`, wantErr: "username must be"},
		{name: "password missing", in: `{"engine":"mysql","host":"h","username":"app"}`, wantErr: "password is required"},
		{name: "password empty", in: `{"engine":"mysql","host":"h","username":"app","password":""}`, wantErr: "password is required"},
		{name: "password not a string", in: `{"engine":"mysql","host":"h","username":"app","password":12345678}`, wantErr: "password must be a JSON string"},
		{name: "password NUL", in: `{"engine":"mysql","host":"h","username":"app","password":"S3cr3t-Pa55word\u0000"}`, wantErr: "password must be"},
		{name: "dbname NUL", in: `{"engine":"postgres","host":"h","username":"app","password":"S3cr3t-Pa55word","dbname":"a\u0000"}`, wantErr: "dbname must be"},
		{name: "keys are case-sensitive", in: `{"Engine":"mysql","host":"h","username":"app","password":"S3cr3t-Pa55word"}`, wantErr: "engine is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCreds(tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseCreds succeeded: %v", got)
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidCreds) {
					t.Fatalf("error %q, want one containing %q and wrapping ErrInvalidCreds", err, tt.wantErr)
				}
				assertNoSecrets(t, err, testPassword, "12345678")
				return
			}
			if err != nil {
				t.Fatalf("ParseCreds: %v", err)
			}
			if got != tt.want {
				t.Fatalf("got %#v, want %#v (passwords equal: %v)", got, tt.want, got.Password == tt.want.Password)
			}
		})
	}
}

func TestCloneUsername(t *testing.T) {
	long63 := strings.Repeat("u", 63)
	tests := []struct{ engine, in, want string }{
		{"postgres", "app", "app_clone"},
		{"postgres", "app_clone", "app"},
		{"mysql", "app", "app_clone"},
		{"mysql", "app_clone", "app"},
		{"mariadb", "app_clone_clone", "app_clone"},
		{"mysql", "_clone", ""},
		{"postgres", "clone", "clone_clone"},
		{"postgres", "app_Clone", "app_Clone_clone"},
		// never cut: cutting would lose the way back to the original
		{"postgres", long63, long63 + "_clone"},
		{"postgres", long63 + "_clone", long63},
		{"mysql", strings.Repeat("m", 30), strings.Repeat("m", 30) + "_clone"},
	}
	for _, tt := range tests {
		if got := CloneUsername(tt.engine, tt.in); got != tt.want {
			t.Errorf("CloneUsername(%q, %q) = %q, want %q", tt.engine, tt.in, got, tt.want)
		}
		// the pair alternates, unless the base name itself ends in _clone
		if strings.HasSuffix(strings.TrimSuffix(tt.in, "_clone"), "_clone") || tt.in == "_clone" {
			continue
		}
		if back := CloneUsername(tt.engine, CloneUsername(tt.engine, tt.in)); back != tt.in {
			t.Errorf("CloneUsername twice of %q = %q", tt.in, back)
		}
	}
}

// TestCloneNameLimits: names the server would cut are refused before
// anything is done, as AWS's templates refuse them.
func TestCloneNameLimits(t *testing.T) {
	master := Creds{Engine: "postgres", Host: "h", Username: "master", Password: "m-pw-123"}
	for _, n := range []struct {
		user string
		ok   bool
	}{{strings.Repeat("u", 57), true}, {strings.Repeat("u", 58), false}, {strings.Repeat("é", 29), false}} {
		cur := Creds{Engine: "postgres", Host: "h", Username: n.user, Password: "c-pw-123"}
		pend := Creds{Engine: "postgres", Host: "h", Username: CloneUsername("postgres", n.user), Password: "p-pw-123"}
		_, err := checkAlternating(master, cur, pend)
		if (err == nil) != n.ok {
			t.Errorf("user of %d bytes: err %v, want ok=%v", len(n.user), err, n.ok)
		}
		if err != nil && (!errors.Is(err, ErrInvalidCreds) || !strings.Contains(err.Error(), "63")) {
			t.Errorf("error %v, want ErrInvalidCreds naming the limit", err)
		}
	}
}

func TestCheckArguments(t *testing.T) {
	pg := func(user, pw string) Creds {
		return Creds{Engine: "postgres", Host: "db", Port: 5432, Username: user, Password: pw}
	}
	other := pg("app", "cur-pw-1")
	other.Host = "other"
	otherPort := pg("app", "cur-pw-1")
	otherPort.Port = 5433
	my := pg("app", "cur-pw-1")
	my.Engine = "mysql"
	single := []struct {
		name             string
		pending, current Creds
		want             string
	}{
		{"ok", pg("app", "new-pw-1"), pg("app", "cur-pw-1"), ""},
		{"other user", pg("app2", "new-pw-1"), pg("app", "cur-pw-1"), "keeps the user"},
		{"other host", pg("app", "new-pw-1"), other, "different servers"},
		{"other port", pg("app", "new-pw-1"), otherPort, "different servers"},
		{"other engine", pg("app", "new-pw-1"), my, "different servers"},
		{"host case and default port", pg("app", "new-pw-1"), Creds{Engine: "postgresql", Host: "DB", Username: "app", Password: "x"}, ""},
		{"invalid pending", pg("app", ""), pg("app", "cur-pw-1"), "(pending): password is required"},
		{"invalid current", pg("app", "new-pw-1"), pg("", "cur-pw-1"), "(current): username is required"},
	}
	for _, tt := range single {
		_, err := checkSingle(tt.pending, tt.current, nil)
		if (tt.want == "") != (err == nil) || (err != nil && (!strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalidCreds))) {
			t.Errorf("single %s: error %v, want %q", tt.name, err, tt.want)
		}
		assertNoSecrets(t, err, "new-pw-1", "cur-pw-1")
	}
	master := pg("admin", "adm-pw-1")
	alternating := []struct {
		name                     string
		master, current, pending Creds
		want                     string
	}{
		{"ok", master, pg("app", "cur-pw-1"), pg("app_clone", "new-pw-1"), ""},
		{"ok back", master, pg("app_clone", "cur-pw-1"), pg("app", "new-pw-1"), ""},
		{"not the clone", master, pg("app", "cur-pw-1"), pg("other", "new-pw-1"), `must rotate "app_clone"`},
		{"same user", master, pg("app", "cur-pw-1"), pg("app", "new-pw-1"), `must rotate "app_clone"`},
		{"master elsewhere", Creds{Engine: "postgres", Host: "x", Username: "admin", Password: "adm-pw-1"}, pg("app", "cur-pw-1"), pg("app_clone", "new-pw-1"), "another server"},
		{"master other engine", Creds{Engine: "mysql", Host: "db", Username: "admin", Password: "adm-pw-1"}, pg("app", "cur-pw-1"), pg("app_clone", "new-pw-1"), "another server"},
		{"master is the user", pg("app", "adm-pw-1"), pg("app", "cur-pw-1"), pg("app_clone", "new-pw-1"), "cannot use the rotated user"},
		{"master is the clone", pg("app_clone", "adm-pw-1"), pg("app", "cur-pw-1"), pg("app_clone", "new-pw-1"), "cannot use the rotated user"},
		{"invalid master", pg("admin", ""), pg("app", "cur-pw-1"), pg("app_clone", "new-pw-1"), "(master): password is required"},
	}
	for _, tt := range alternating {
		_, err := checkAlternating(tt.master, tt.current, tt.pending)
		if (tt.want == "") != (err == nil) || (err != nil && (!strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalidCreds))) {
			t.Errorf("alternating %s: error %v, want %q", tt.name, err, tt.want)
		}
		assertNoSecrets(t, err, "new-pw-1", "cur-pw-1", "adm-pw-1")
	}
}

func TestCredsPrintingHidesPassword(t *testing.T) {
	c := Creds{Engine: "postgres", Host: "h", Username: "app", Password: testPassword}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("rotating", "creds", c)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("rotating", "creds", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), fmt.Sprintf("%v", &c), buf.String()} {
		if strings.Contains(s, testPassword) {
			t.Fatalf("printed credentials show the password: %s", s)
		}
	}
}

// TestErrorsRedact: driver errors are reduced to safe messages.
func TestErrorsRedact(t *testing.T) {
	pw := `it's\a "pass"`
	secrets := []string{pw, "SCRAM-SHA-256$4096:c2FsdA==$a:b"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"pg message", &pgconn.PgError{Severity: "ERROR", Code: "22023", Message: "bad value " + pw}, "bad value <redacted> (SQLSTATE 22023)"},
		{"pg syntax", &pgconn.PgError{Severity: "ERROR", Code: "42601", Message: `syntax error at or near "` + pgEscape(pw) + `"`}, "syntax error (SQLSTATE 42601)"},
		{"pg near", &pgconn.PgError{Severity: "ERROR", Code: "42000", Message: `x at or near "abc"`}, "syntax error (SQLSTATE 42000)"},
		{"pg verifier", &pgconn.PgError{Severity: "ERROR", Code: "XX000", Message: "v SCRAM-SHA-256$4096:c2FsdA==$a:b"}, "v <redacted> (SQLSTATE XX000)"},
		{"pg escaped", &pgconn.PgError{Severity: "ERROR", Code: "XX000", Message: "E'" + pgEscape(pw) + "'"}, "E'<redacted>'"},
		{"mysql syntax", &driver.MySQLError{Number: 1064, Message: "You have an error in your SQL syntax; near '" + myEscape(pw, false) + "'"}, "syntax error (error 1064)"},
		{"mysql escaped", &driver.MySQLError{Number: 1819, Message: "x '" + myEscape(pw, false) + "' y '" + myEscape(pw, true) + "'"}, "x '<redacted>' y '<redacted>' (error 1819)"},
		{"other", fmt.Errorf("wrapped: %s", pw), "wrapped: <redacted>"},
		{"wrapped pg", fmt.Errorf("x: %w", &pgconn.PgError{Code: "28P01", Message: "password authentication failed"}), "password authentication failed (SQLSTATE 28P01)"},
	}
	for _, tt := range tests {
		err := newDBError("op", tt.err, secrets)
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %q, want it to contain %q", tt.name, err, tt.want)
		}
		assertNoSecrets(t, err, secrets...)
		assertNoSecrets(t, err, pgEscape(pw), myEscape(pw, false), myEscape(pw, true))
		var pgErr *pgconn.PgError
		var myErr *driver.MySQLError
		if errors.As(err, &pgErr) || errors.As(err, &myErr) {
			t.Errorf("%s: the driver's error is reachable", tt.name)
		}
	}
	if err := newDBError("op", &pgconn.PgError{Code: "28P01"}, nil); !errors.Is(err, ErrLogin) {
		t.Errorf("a refused login does not wrap ErrLogin: %v", err)
	}
	if err := newDBError("op", &driver.MySQLError{Number: 1045}, nil); !errors.Is(err, ErrLogin) {
		t.Errorf("a refused login does not wrap ErrLogin: %v", err)
	}
}

// TestSCRAMVerifier checks the verifier against RFC 7677's example
// exchange (password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096
// iterations): the server key must give the RFC's server signature, and
// the stored key must be the hash of the client key the RFC's proof
// reveals.
func TestSCRAMVerifier(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	v, err := scramVerifier("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	var stored, server string
	if _, err := fmt.Sscanf(strings.ReplaceAll(strings.ReplaceAll(v, "$", " "), ":", " "), "SCRAM-SHA-256 4096 W22ZaJ0SNY7soEsUEjb6gQ== %s %s", &stored, &server); err != nil {
		t.Fatalf("verifier %s: %v", v, err)
	}
	const authMessage = "n=user,r=rOprNGfwEbeRWgbNEkqO," +
		"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," +
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	hmacOf := func(b64key string) []byte {
		key, err := base64.StdEncoding.DecodeString(b64key)
		if err != nil {
			t.Fatal(err)
		}
		h := hmac.New(sha256.New, key)
		h.Write([]byte(authMessage))
		return h.Sum(nil)
	}
	if got := base64.StdEncoding.EncodeToString(hmacOf(server)); got != "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=" {
		t.Fatalf("server signature %s", got)
	}
	proof, _ := base64.StdEncoding.DecodeString("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
	clientKey := hmacOf(stored)
	for i := range clientKey {
		clientKey[i] ^= proof[i]
	}
	if sum := sha256.Sum256(clientKey); base64.StdEncoding.EncodeToString(sum[:]) != stored {
		t.Fatalf("stored key %s does not match the RFC's client proof", stored)
	}
}
