package scan

import (
	"errors"
	"regexp"
	"strings"
)

// glob is a path pattern in the spirit of .gitignore, matched against
// slash-separated paths relative to the repository root:
//
//	*.pem         no slash: the base name, at any depth
//	docs/*.md     with a slash: from the root ("/" at the start is optional)
//	**/testdata/  ** spans folders; a trailing slash names a folder
//	[abc] ?       a character class; one character other than "/"
//
// A pattern that matches a folder matches everything below it.
type glob struct {
	re *regexp.Regexp
}

func compileGlob(p string) (*glob, error) {
	p = strings.TrimSpace(p)
	if p == "" || p == "/" {
		return nil, errors.New("empty pattern")
	}
	p = strings.TrimSuffix(p, "/")
	var b strings.Builder
	b.WriteString("^")
	if !strings.Contains(p, "/") {
		b.WriteString("(?:.*/)?")
	}
	p = strings.TrimPrefix(p, "/")
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case strings.HasPrefix(p[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(p[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			j := strings.IndexByte(p[i+1:], ']')
			if j < 0 {
				return nil, errors.New("unterminated [ in pattern")
			}
			class := p[i+1 : i+1+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			if class == "" || class == "^" || strings.ContainsAny(class, `[\`) {
				return nil, errors.New("invalid character class in pattern")
			}
			b.WriteString("[" + class + "]")
			i += j + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("(?:/.*)?$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, errors.New("invalid pattern")
	}
	return &glob{re: re}, nil
}

func (g *glob) match(p string) bool { return g.re.MatchString(p) }
