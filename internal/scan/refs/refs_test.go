package refs

import (
	"context"
	"errors"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/api"
	"github.com/kinko-dev/kinko/internal/agent/template"
)

// store is a fake kinko: KV v2 at secret/, KV v1 at kv/.
var store = map[string]map[string]any{
	"secret/data/app": {"data": map[string]any{"db_password": "pw-1", "port": 5432.0, "tags": []any{"a"}}, "metadata": map[string]any{}},
	"kv/legacy":       {"api_key": "k-2"},
}

func read(reads *int) func(string) (map[string]any, error) {
	return func(p string) (map[string]any, error) {
		*reads++
		if p == "secret/data/broken" {
			return nil, errors.New("permission denied")
		}
		return store[p], nil
	}
}

func TestResolveRefs(t *testing.T) {
	tests := []struct {
		in, want string
		reads    int
		err      error
	}{
		{"plain", "plain", 0, nil},
		{"${kinko:secret/data/app#db_password}", "pw-1", 1, nil},
		{"postgres://u:${kinko:secret/data/app#db_password}@h:${kinko:/secret/data/app/#port}/db", "postgres://u:pw-1@h:5432/db", 1, nil},
		{"${kinko:kv/legacy#api_key}-${kinko:secret/data/app#tags}", `k-2-["a"]`, 2, nil},
		{"${kinko:secret/data/app#nope}", "", 1, ErrNotFound},
		{"${kinko:secret/data/none#k}", "", 1, ErrNotFound},
		{"${kinko:secret/data/app#bad-key}", "${kinko:secret/data/app#bad-key}", 0, nil},
		{"${kinko:#k} ${kinko:secret/data/app}", "${kinko:#k} ${kinko:secret/data/app}", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n := 0
			got, err := ResolveRefs(context.Background(), read(&n), tt.in)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if got != tt.want || n != tt.reads {
				t.Fatalf("got %q with %d reads, want %q with %d", got, n, tt.want, tt.reads)
			}
		})
	}
	n := 0
	_, err := ResolveRefs(context.Background(), read(&n), "${kinko:secret/data/broken#k}")
	if err == nil || !strings.Contains(err.Error(), "${kinko:secret/data/broken#k}") {
		t.Fatalf("err %v, want the reference named", err)
	}
}

func TestFormatFind(t *testing.T) {
	s := "a " + Format("/secret/data/app/", "db_password") + " b"
	got := Find(s)
	want := []Ref{{Start: 2, End: 2 + len("${kinko:secret/data/app#db_password}"), Path: "secret/data/app", Key: "db_password"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if !ValidKey("db_password") || ValidKey("db-password") || ValidKey("1a") {
		t.Fatal("ValidKey")
	}
	if Contains("${kinko:x}") || !Contains(s) {
		t.Fatal("Contains")
	}
}

// source serves store through the agent template package's interface.
type source struct{}

func (source) Read(_ context.Context, p string, _ url.Values) (*api.Secret, error) {
	d, ok := store[p]
	if !ok {
		return nil, nil
	}
	return &api.Secret{Data: d}, nil
}

func (source) Write(context.Context, string, map[string]any) (*api.Secret, error) {
	return nil, errors.New("read only")
}

func TestTemplate(t *testing.T) {
	tests := []struct {
		in      string
		literal bool
		want    string
		fails   bool
	}{
		{"x=${kinko:secret/data/app#db_password}", true, "x=pw-1", false},
		{"{{ not a template }} ${kinko:kv/legacy#api_key}", true, "{{ not a template }} k-2", false},
		{`{{ "t" }}-${kinko:secret/data/app#db_password}`, false, "t-pw-1", false},
		{"no refs {{", true, "no refs {{", false},
		{"${kinko:secret/data/app#missing}", true, "", true},
		{"${kinko:secret/data/gone#k}", true, "", true},
	}
	for _, tt := range tests {
		tm, err := template.Parse("v", Template(tt.in, tt.literal))
		if err != nil {
			t.Fatalf("%q: parse: %v", tt.in, err)
		}
		got, err := tm.Render(context.Background(), source{})
		if (err != nil) != tt.fails {
			t.Fatalf("%q: err %v, fails %v", tt.in, err, tt.fails)
		}
		if !tt.fails && string(got) != tt.want {
			t.Fatalf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseDotenv(t *testing.T) {
	in := "# comment\n\nA=1\nexport B = two words # note\nC=\"q \\\"x\\\" \\n ${kinko:secret/data/app#db_password}\"\nD='lit \\n\nnext'\nE=\nA=again\r\nF=a#b\n"
	got, err := ParseDotenv([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []EnvVar{{"A", "again"}, {"B", "two words"}, {"C", "q \"x\" \n ${kinko:secret/data/app#db_password}"}, {"D", "lit \\n\nnext"}, {"E", ""}, {"F", "a#b"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	for _, bad := range []string{"NOEQUALS", "1A=x", "A=\"open", "A='open\nstill", "A=\"x\" trailing", "bad name=x"} {
		_, err := ParseDotenv([]byte(bad))
		if !errors.Is(err, ErrInvalidDotenv) {
			t.Errorf("%q: err %v, want ErrInvalidDotenv", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "open") {
			t.Errorf("%q: error echoes the value: %v", bad, err)
		}
	}
}

// formatDotenv writes vars back as double-quoted values.
func formatDotenv(vars []EnvVar) string {
	var b strings.Builder
	for _, v := range vars {
		q := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(v.Value)
		b.WriteString(v.Name + "=\"" + q + "\"\n")
	}
	return b.String()
}

func FuzzParseDotenv(f *testing.F) {
	f.Add([]byte("A=1\nB=\"x\\ny\"\nC='z'\n# c\nexport D=e # f"))
	f.Add([]byte("A=\"multi\nline\"\nB='x\n'"))
	f.Add([]byte("A=${kinko:secret/data/app#k}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		vars, err := ParseDotenv(data)
		if err != nil {
			return
		}
		again, err := ParseDotenv([]byte(formatDotenv(vars)))
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if len(vars) == 0 {
			vars = nil
		}
		if !reflect.DeepEqual(vars, again) {
			t.Fatalf("round trip: %q != %q", vars, again)
		}
	})
}

func FuzzRefs(f *testing.F) {
	f.Add("${kinko:secret/data/app#db_password} and {{ x }}")
	f.Add("${kinko:a/b#c}${kinko:d#e}")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ResolveRefs(context.Background(), func(p string) (map[string]any, error) {
			return map[string]any{"data": map[string]any{"k": p}}, nil
		}, s)
		for _, r := range Find(s) {
			if s[r.Start:r.End] != "${kinko:"+s[r.Start+8:r.End-1]+"}" || !ValidKey(r.Key) {
				t.Fatalf("bad ref %+v in %q", r, s)
			}
		}
		if _, err := template.Parse("f", Template(s, true)); err != nil {
			t.Fatalf("literal template does not parse: %v (%s)", err, strconv.Quote(s))
		}
	})
}
