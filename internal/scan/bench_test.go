package scan

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The benchmarks scan generated trees and histories built once per test
// binary: KINKO_SCAN_BENCH_MB (default 200) MB of code-like files, and a
// repository of 5,000 commits built with git fast-import.

var words = strings.Fields(`account order invoice user customer payment item cart session request response
handler server client config cache queue worker event message record report billing price amount total
status error result value index count limit offset page filter query store repo service manager`)

// codeTemplates are files in the shape of real code, keywords included
// (token, password, key, secret, auth appear as in ordinary code).
var codeTemplates = []string{
	`package {{w}}

import (
	"context"
	"errors"
	"fmt"
)

// {{W}}Service handles {{w}} requests.
type {{W}}Service struct {
	store  {{W}}Store
	cache  map[string]*{{W}}
	token  string // set by Authenticate
	limit  int
}

// Get{{W}} returns the {{w}} with the given key.
func (s *{{W}}Service) Get{{W}}(ctx context.Context, key string) (*{{W}}, error) {
	if v, ok := s.cache[key]; ok {
		return v, nil
	}
	v, err := s.store.Load(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("load {{w}} %s: %w", key, err)
	}
	if v.{{W}}ID == "" {
		return nil, errors.New("{{w}} has no id")
	}
	s.cache[key] = v
	return v, nil
}

func (s *{{W}}Service) validateToken(token string) error {
	if len(token) < {{n}} {
		return errors.New("token too short")
	}
	return nil
}
`,
	`import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass
class {{W}}Config:
    name: str
    {{w}}_limit: int = {{n}}
    password: str = ""
    api_key_env: str = "{{WU}}_API_KEY"


def load_{{w}}(cfg: {{W}}Config, rows):
    """Load {{w}} rows into the store."""
    total = 0
    for row in rows:
        key = row.get("key")
        if key is None:
            logger.warning("row without key: %s", row)
            continue
        total += row["{{w}}"]
    logger.info("loaded %d {{w}} rows", total)
    return total


def check_auth(request):
    token = request.headers.get("Authorization", "")
    return token.startswith("Bearer ")
`,
	`import { {{W}}Client } from "./{{w}}-client";

export interface {{W}}Props {
  id: string;
  {{w}}Count: number;
  onSelect?: (key: string) => void;
}

const DEFAULT_LIMIT = {{n}};

export async function fetch{{W}}(client: {{W}}Client, id: string) {
  const res = await client.get(` + "`/api/{{w}}/${id}`" + `, { limit: DEFAULT_LIMIT });
  if (!res.ok) {
    throw new Error("failed to fetch {{w}}: " + res.status);
  }
  return res.json();
}

export function {{w}}Key(props: {{W}}Props): string {
  return props.id + ":" + props.{{w}}Count;
}
`,
	`# {{W}} service settings
{{w}}:
  replicas: {{n}}
  image: registry.internal/{{w}}:1.{{n}}.0
  resources:
    limits: { cpu: 500m, memory: 256Mi }
  env:
    - name: {{WU}}_PASSWORD
      valueFrom:
        secretKeyRef: { name: {{w}}-db, key: password }
    - name: LOG_LEVEL
      value: info
`,
}

// secretsLines are mixed into some files, so the scan does real work.
var secretLines = []string{
	"\tgithubToken = \"" + fakeGHP + "\"\n",
	"password = \"" + fakePw + "\"\n",
	"AWS_ACCESS_KEY_ID=" + fakeAKID + "\n",
}

func renderTemplate(r *rand.Rand, t string) string {
	w := words[r.IntN(len(words))]
	return strings.NewReplacer("{{w}}", w, "{{W}}", strings.ToUpper(w[:1])+w[1:], "{{WU}}", strings.ToUpper(w),
		"{{n}}", strconv.Itoa(r.IntN(1000))).Replace(t)
}

// codeFile returns a file of about size bytes.
func codeFile(r *rand.Rand, size int) []byte {
	var b bytes.Buffer
	t := codeTemplates[r.IntN(len(codeTemplates))]
	for b.Len() < size {
		b.WriteString(renderTemplate(r, t))
		if r.IntN(40) == 0 {
			b.WriteString(secretLines[r.IntN(len(secretLines))])
		}
	}
	return b.Bytes()
}

var (
	treeOnce sync.Once
	treeDir  string
	treeErr  error
	gitOnce  sync.Once
	gitDir   string
	gitErr   error
	benchTmp []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range benchTmp {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// benchTree writes the file tree once: folders of 100 files of 4-16 KiB.
func benchTree(b *testing.B) string {
	treeOnce.Do(func() {
		mb := 200
		if v, err := strconv.Atoi(os.Getenv("KINKO_SCAN_BENCH_MB")); err == nil && v > 0 {
			mb = v
		}
		treeDir, treeErr = os.MkdirTemp("", "kinko-scan-bench-*")
		if treeErr != nil {
			return
		}
		benchTmp = append(benchTmp, treeDir)
		r := rand.New(rand.NewPCG(1, 2))
		exts := []string{".go", ".py", ".ts", ".yaml"}
		total := 0
		for i := 0; total < mb<<20; i++ {
			dir := filepath.Join(treeDir, fmt.Sprintf("pkg%03d", i/100))
			if i%100 == 0 {
				if treeErr = os.MkdirAll(dir, 0o755); treeErr != nil {
					return
				}
			}
			data := codeFile(r, 4<<10+r.IntN(12<<10))
			name := filepath.Join(dir, fmt.Sprintf("file%05d%s", i, exts[r.IntN(len(exts))]))
			if treeErr = os.WriteFile(name, data, 0o644); treeErr != nil {
				return
			}
			total += len(data)
		}
	})
	if treeErr != nil {
		b.Fatal(treeErr)
	}
	return treeDir
}

// BenchmarkPaths measures plain-file scanning throughput (MB/s) with
// GOMAXPROCS workers.
func BenchmarkPaths(b *testing.B) {
	dir := benchTree(b)
	s := mustScanner(b, Options{Base: dir})
	res, err := s.Paths(context.Background(), []string{dir}) // warm the page cache
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(res.Bytes)
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Paths(context.Background(), []string{dir}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(res.Findings)), "findings")
}

// benchRepo builds a repository of 5,000 commits, each adding a file of
// about 1.5 KiB, with git fast-import.
func benchRepo(b *testing.B) string {
	gitOnce.Do(func() {
		if _, gitErr = exec.LookPath("git"); gitErr != nil {
			return
		}
		gitDir, gitErr = os.MkdirTemp("", "kinko-scan-git-*")
		if gitErr != nil {
			return
		}
		benchTmp = append(benchTmp, gitDir)
		if out, err := exec.Command("git", "init", "-q", "-b", "main", gitDir).CombinedOutput(); err != nil {
			gitErr = fmt.Errorf("git init: %v: %s", err, out)
			return
		}
		var stream bytes.Buffer
		r := rand.New(rand.NewPCG(3, 4))
		for i := 0; i < 5000; i++ {
			data := codeFile(r, 1200+r.IntN(600))
			fmt.Fprintf(&stream, "commit refs/heads/main\nauthor Fake Dev <dev@kinko.test> %d +0000\ncommitter Fake Dev <dev@kinko.test> %d +0000\n", 1700000000+i, 1700000000+i)
			msg := fmt.Sprintf("change %d", i)
			fmt.Fprintf(&stream, "data %d\n%s\n", len(msg), msg)
			fmt.Fprintf(&stream, "M 644 inline pkg%02d/f%05d.go\ndata %d\n%s\n", i%50, i, len(data), data)
		}
		cmd := exec.Command("git", "fast-import", "--quiet")
		cmd.Dir, cmd.Stdin = gitDir, &stream
		if out, err := cmd.CombinedOutput(); err != nil {
			gitErr = fmt.Errorf("git fast-import: %v: %s", err, out)
		}
	})
	if gitErr != nil {
		b.Skip(gitErr)
	}
	return gitDir
}

// BenchmarkGitLog measures history scanning throughput: bytes of added
// lines per second, "git log -p" included.
func BenchmarkGitLog(b *testing.B) {
	dir := benchRepo(b)
	s := mustScanner(b, Options{})
	res, err := s.GitLog(context.Background(), dir)
	if err != nil {
		b.Fatal(err)
	}
	if res.Commits != 5000 {
		b.Fatalf("%d commits, want 5000", res.Commits)
	}
	b.SetBytes(res.Bytes)
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.GitLog(context.Background(), dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(res.Commits)*float64(b.N)/b.Elapsed().Seconds(), "commits/s")
	b.ReportMetric(float64(len(res.Findings)), "findings")
}
