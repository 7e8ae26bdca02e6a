package dbrotate

import (
	"errors"
	"strings"
)

// account is a MariaDB/MySQL account: user@host.
type account struct{ user, host string }

// quoted is the account as statements name it: `user`@`host`.
func (a account) quoted() string { return myIdent(a.user) + "@" + myIdent(a.host) }

// renderings are the ways SHOW GRANTS writes a: with backticks (MySQL 8,
// MariaDB 10.4+) or, for plain names, single quotes (older servers).
func (a account) renderings() []string {
	r := []string{a.quoted()}
	if !strings.ContainsAny(a.user+a.host, `'\`) {
		r = append(r, "'"+a.user+"'@'"+a.host+"'")
	}
	return r
}

// rewriteGrant turns one line of SHOW GRANTS FOR from into the statement
// that gives to the same: the grantee after the last " TO " (" FROM " in
// MySQL's partial revokes, " FOR " in MariaDB's SET DEFAULT ROLE) becomes
// to, and of what follows the grantee only WITH GRANT OPTION / WITH ADMIN
// OPTION is kept: authentication (IDENTIFIED ..., which holds the
// password hash), REQUIRE and resource limits are dropped, as AWS's
// templates drop them. The line that grants USAGE ON *.* only (it
// carries those account attributes) is skipped: every account has it.
// Errors never quote the line beyond its first word, since it may hold a
// password hash.
func rewriteGrant(line string, from, to account) (stmt string, skip bool, err error) {
	var keyword string
	switch {
	case hasPrefixFold(line, "GRANT "):
		keyword = " TO "
	case hasPrefixFold(line, "REVOKE "):
		keyword = " FROM "
	case hasPrefixFold(line, "SET DEFAULT ROLE "):
		keyword = " FOR "
	default:
		return "", false, errors.New("SHOW GRANTS gave an unexpected line starting with " + firstWord(line))
	}
	idx, end := -1, 0
	for _, r := range from.renderings() {
		if i := lastBounded(line, keyword+r); i > idx {
			idx, end = i, i+len(keyword)+len(r)
		}
	}
	if idx < 0 {
		return "", false, errors.New("a line of SHOW GRANTS starting with " + firstWord(line) + " does not name the account " + from.quoted())
	}
	head, tail := line[:idx], line[end:]
	if keyword == " TO " && strings.EqualFold(strings.Join(strings.Fields(head), " "), "GRANT USAGE ON *.*") {
		return "", true, nil
	}
	stmt = head + keyword + to.quoted()
	if keyword == " TO " {
		stmt += grantOption(tail)
	}
	return stmt, false, nil
}

// lastBounded is the last index of sub in s that ends s or is followed
// by a space, or -1.
func lastBounded(s, sub string) int {
	for end := len(s); end >= 0; {
		i := strings.LastIndex(s[:end], sub)
		if i < 0 {
			return -1
		}
		if j := i + len(sub); j == len(s) || s[j] == ' ' {
			return i
		}
		end = i + len(sub) - 1
	}
	return -1
}

// grantOption is " WITH GRANT OPTION" or " WITH ADMIN OPTION" if the
// clauses after a grantee hold it (quoted strings aside), else "".
func grantOption(tail string) string {
	words := strings.Fields(strings.ToUpper(stripQuoted(tail)))
	with := false
	for i, w := range words {
		if w == "WITH" {
			with = true
		}
		if with && i+1 < len(words) && words[i+1] == "OPTION" {
			switch w {
			case "GRANT":
				return " WITH GRANT OPTION"
			case "ADMIN":
				return " WITH ADMIN OPTION"
			}
		}
	}
	return ""
}

// stripQuoted replaces '...', "..." and `...` (with doubled or
// backslash-escaped quotes inside) by a space.
func stripQuoted(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		q := s[i]
		if q != '\'' && q != '"' && q != '`' {
			b.WriteByte(q)
			continue
		}
		b.WriteByte(' ')
		for i++; i < len(s); i++ {
			if s[i] == '\\' && q != '`' {
				i++
				continue
			}
			if s[i] == q {
				if i+1 < len(s) && s[i+1] == q {
					i++
					continue
				}
				break
			}
		}
	}
	return b.String()
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		s = s[:i]
	}
	if len(s) > 20 {
		s = s[:20]
	}
	return `"` + s + `"`
}
