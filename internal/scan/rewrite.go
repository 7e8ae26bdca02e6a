package scan

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kinko-dev/kinko/internal/atomicfile"
)

// ErrChanged is returned when a file no longer holds a secret where the
// scan found it: it changed since, and is left alone.
var ErrChanged = errors.New("the file changed since it was scanned")

// KeyNamer names secrets stored in kinko: after the variable they were
// assigned to (DB_PASSWORD gives db_password) or the rule's key, made
// unique: the same value always gets the same key, another value under a
// taken name gets _2, _3...
type KeyNamer struct {
	taken   map[string]string // key -> value
	byValue map[string]string // value -> key
}

// NewKeyNamer starts from the keys already stored (key -> value).
func NewKeyNamer(existing map[string]string) *KeyNamer {
	n := &KeyNamer{taken: map[string]string{}, byValue: map[string]string{}}
	keys := make([]string, 0, len(existing))
	for k := range existing {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		n.taken[k] = existing[k]
		if _, ok := n.byValue[existing[k]]; !ok {
			n.byValue[existing[k]] = k
		}
	}
	return n
}

// Key returns the key for f's secret, and isNew when the key was made
// for it by this call (false: the key already holds the value, stored
// before or named earlier).
func (n *KeyNamer) Key(f *Finding) (key string, isNew bool) {
	if k, ok := n.byValue[f.Secret]; ok {
		return k, false
	}
	base := KeyName(f)
	key = base
	for i := 2; ; i++ {
		if _, taken := n.taken[key]; !taken {
			break
		}
		key = base + "_" + strconv.Itoa(i)
	}
	n.byValue[f.Secret] = key
	n.taken[key] = f.Secret
	return key, true
}

var nonKey = regexp.MustCompile(`[^a-z0-9]+`)

// KeyName is the unqualified key for a finding: its variable name in
// snake_case, else the rule's key, else the rule ID.
func KeyName(f *Finding) string {
	for _, cand := range []string{f.Name, f.Key, f.RuleID} {
		k := strings.Trim(nonKey.ReplaceAllString(snake(cand), "_"), "_")
		if k == "" {
			continue
		}
		if k[0] >= '0' && k[0] <= '9' {
			k = "k_" + k
		}
		return k
	}
	return "secret"
}

// snake turns camelCase into camel_case and lowers everything.
func snake(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			if i > 0 && (isLowerDigit(s[i-1]) || (i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z' && s[i-1] >= 'A' && s[i-1] <= 'Z')) {
				b.WriteByte('_')
			}
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isLowerDigit(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// Replacement puts Text where a finding's secret is in its file.
type Replacement struct {
	Finding *Finding
	Text    string
}

// FileEdit is the rewrite of one file.
type FileEdit struct {
	Path string
	mode os.FileMode
	old  []byte
	new  []byte
	reps []Replacement // sorted by offset, not overlapping
}

// PlanRewrites reads each file once and prepares its edit. Findings
// without an offset (from git history) cannot be rewritten; a file whose
// content no longer matches the findings gives ErrChanged.
func PlanRewrites(reps []Replacement) ([]*FileEdit, error) {
	byFile := map[string][]Replacement{}
	var order []string
	for _, r := range reps {
		if r.Finding.Offset < 0 {
			return nil, fmt.Errorf("%s:%d: only findings in files on disk can be rewritten", r.Finding.File, r.Finding.Line)
		}
		if _, ok := byFile[r.Finding.File]; !ok {
			order = append(order, r.Finding.File)
		}
		byFile[r.Finding.File] = append(byFile[r.Finding.File], r)
	}
	var edits []*FileEdit
	for _, path := range order {
		e, err := planFile(path, byFile[path])
		if err != nil {
			return nil, err
		}
		edits = append(edits, e)
	}
	return edits, nil
}

func planFile(path string, reps []Replacement) (*FileEdit, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	old, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(reps, func(a, b Replacement) int { return cmp.Compare(a.Finding.Offset, b.Finding.Offset) })
	e := &FileEdit{Path: path, mode: st.Mode().Perm(), old: old}
	end := int64(-1)
	for _, r := range reps {
		f := r.Finding
		if f.Offset < end {
			continue // overlaps the previous replacement (same secret twice)
		}
		stop := f.Offset + int64(len(f.Secret))
		if stop > int64(len(old)) || !bytes.Equal(old[f.Offset:stop], []byte(f.Secret)) {
			return nil, fmt.Errorf("%s: %w", path, ErrChanged)
		}
		e.reps = append(e.reps, r)
		end = stop
	}
	e.new = splice(old, e.reps, 0, len(old), func(r Replacement) string { return r.Text })
	return e, nil
}

// splice returns old[from:to] with the replacements inside it applied,
// each secret replaced by text(r).
func splice(old []byte, reps []Replacement, from, to int, text func(Replacement) string) []byte {
	var b bytes.Buffer
	last := from
	for _, r := range reps {
		off := int(r.Finding.Offset)
		if off < from || off >= to {
			continue
		}
		b.Write(old[last:off])
		b.WriteString(text(r))
		last = off + len(r.Finding.Secret)
	}
	b.Write(old[last:to])
	return b.Bytes()
}

// Apply writes the edit atomically, keeping the file's mode, unless the
// file changed since PlanRewrites read it.
func (e *FileEdit) Apply() error {
	cur, err := os.ReadFile(e.Path)
	if err != nil {
		return err
	}
	if !bytes.Equal(cur, e.old) {
		return fmt.Errorf("%s: %w", e.Path, ErrChanged)
	}
	return atomicfile.Write(e.Path, e.new, e.mode)
}

// Preview writes the edit as a unified diff with no context lines; the
// removed lines show secrets redacted unless show is set.
func (e *FileEdit) Preview(w io.Writer, show bool) error {
	var b bytes.Buffer
	if filepath.IsAbs(e.Path) {
		fmt.Fprintf(&b, "--- %s\n+++ %s\n", e.Path, e.Path)
	} else {
		fmt.Fprintf(&b, "--- a/%s\n+++ b/%s\n", filepath.ToSlash(e.Path), filepath.ToSlash(e.Path))
	}
	shift := 0
	for _, g := range e.groups() {
		from, to := lineStart(e.old, g.start), lineEnd(e.old, g.end)
		oldSeg := splice(e.old, g.reps, from, to, func(r Replacement) string {
			if show {
				return r.Finding.Secret
			}
			return Redact(r.Finding.Secret)
		})
		newSeg := splice(e.old, g.reps, from, to, func(r Replacement) string { return r.Text })
		oldLines, newLines := splitLines(oldSeg), splitLines(newSeg)
		oldCount := 1 + bytes.Count(e.old[from:to], []byte{'\n'}) // a redacted secret may hide lines
		line := 1 + bytes.Count(e.old[:from], []byte{'\n'})
		fmt.Fprintf(&b, "@@ -%s +%s @@\n", hunkSpan(line, oldCount), hunkSpan(line+shift, len(newLines)))
		for _, l := range oldLines {
			b.WriteString("-" + l + "\n")
		}
		for _, l := range newLines {
			b.WriteString("+" + l + "\n")
		}
		shift += len(newLines) - oldCount
	}
	_, err := w.Write(b.Bytes())
	return err
}

// group is a run of replacements whose lines touch.
type group struct {
	start, end int // byte offsets of the first and last secret byte
	reps       []Replacement
}

func (e *FileEdit) groups() []group {
	var out []group
	for _, r := range e.reps {
		s := int(r.Finding.Offset)
		t := s + len(r.Finding.Secret)
		if n := len(out); n > 0 && lineStart(e.old, s) <= lineEnd(e.old, out[n-1].end) {
			out[n-1].end = max(out[n-1].end, t)
			out[n-1].reps = append(out[n-1].reps, r)
			continue
		}
		out = append(out, group{start: s, end: t, reps: []Replacement{r}})
	}
	return out
}

func lineStart(b []byte, off int) int { return bytes.LastIndexByte(b[:off], '\n') + 1 }

func lineEnd(b []byte, off int) int {
	if off > 0 && off <= len(b) && b[off-1] == '\n' {
		off--
	}
	if i := bytes.IndexByte(b[off:], '\n'); i >= 0 {
		return off + i
	}
	return len(b)
}

func splitLines(b []byte) []string { return strings.Split(string(b), "\n") }

func hunkSpan(line, n int) string {
	if n == 1 {
		return strconv.Itoa(line)
	}
	return strconv.Itoa(line) + "," + strconv.Itoa(n)
}
