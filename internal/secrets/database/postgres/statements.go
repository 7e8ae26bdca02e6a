package postgres

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

// maxNameLength is PostgreSQL's identifier limit in bytes.
const maxNameLength = 63

// expirationLayout is how {{expiration}} is written (VALID UNTIL takes it).
const expirationLayout = "2006-01-02 15:04:05-0700"

const (
	defaultPasswordStmt   = `ALTER ROLE "{{name}}" WITH PASSWORD '{{password}}';`
	defaultExpirationStmt = `ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';`
)

// expand splits statements and fills their placeholders. password is
// the value for '{{password}}' as passwordValue made it.
func expand(s dbplugin.Statements, name, password string, exp time.Time) ([]string, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	e := "infinity"
	if !exp.IsZero() {
		e = exp.Format(expirationLayout)
	}
	var out []string
	for i, q := range dbplugin.SplitStatements(s) {
		if txControl(q) {
			return nil, fmt.Errorf("%w: statement %d controls the transaction (BEGIN, COMMIT, ...): the plugin runs statements in its own transaction", dbplugin.ErrInvalidStatements, i+1)
		}
		out = append(out, dbplugin.Expand(q, name, password, e))
	}
	return out, nil
}

// orDefault is s, or the single statement def when s is empty.
func orDefault(s dbplugin.Statements, def string) dbplugin.Statements {
	if len(dbplugin.SplitStatements(s)) == 0 {
		return dbplugin.Statements{Commands: []string{def}}
	}
	return s
}

// txControl reports whether a statement begins or ends a transaction.
func txControl(q string) bool {
	f := strings.Fields(strings.ToUpper(q))
	if len(f) == 0 {
		return false
	}
	switch f[0] {
	case "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE":
		return true
	case "PREPARE":
		return len(f) > 1 && f[1] == "TRANSACTION"
	}
	return false
}

// unsafeInName reports characters that would break out of "{{name}}" or
// '{{name}}' in a statement.
func unsafeInName(r rune) bool {
	return r == '"' || r == '\'' || r == '\\' || r < 0x20 || r == 0x7f || r == utf8.RuneError
}

// checkName refuses a user name that cannot be put into statements.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty user name", dbplugin.ErrInvalidStatements)
	}
	if !utf8.ValidString(name) || strings.ContainsFunc(name, unsafeInName) {
		return fmt.Errorf("%w: user name %q holds a quote, a backslash or a control character and cannot be put into statements", dbplugin.ErrInvalidStatements, name)
	}
	return nil
}

// safeName makes a generated user name usable: unsafe characters become
// '_' and the name is cut to 63 bytes on a character boundary.
func safeName(name string) string {
	name = strings.ToValidUTF8(name, "_")
	name = strings.Map(func(r rune) rune {
		if unsafeInName(r) {
			return '_'
		}
		return r
	}, name)
	for len(name) > maxNameLength {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}

// passwordValue is what '{{password}}' becomes: the password, or its
// SCRAM-SHA-256 verifier, with every ' doubled.
func (st *state) passwordValue(password string) (string, error) {
	if strings.ContainsRune(password, 0) {
		return "", errors.New("a password cannot hold a NUL character")
	}
	if st.scram && password != "" {
		return scramVerifier(password)
	}
	return strings.ReplaceAll(password, "'", "''"), nil
}

// scramIterations is PostgreSQL's default iteration count.
const scramIterations = 4096

// scramVerifier hashes a password as PostgreSQL stores it for
// scram-sha-256 (RFC 5802, RFC 7677):
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>. PostgreSQL
// applies SASLprep to a password at login; for ASCII it changes nothing,
// so other passwords are refused rather than hashed differently.
func scramVerifier(password string) (string, error) {
	for i := 0; i < len(password); i++ {
		if password[i] >= utf8.RuneSelf {
			return "", errors.New("password_authentication=scram-sha-256 takes ASCII passwords only")
		}
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	return scramVerifierWithSalt(password, salt, scramIterations)
}

func scramVerifierWithSalt(password string, salt []byte, iterations int) (string, error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return "", err
	}
	hm := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	stored := sha256.Sum256(hm(salted, "Client Key"))
	server := hm(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, b64(salt), b64(stored[:]), b64(server)), nil
}
