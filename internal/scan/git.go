package scan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// commitFormat starts each commit of "git log" with a NUL byte, which no
// diff line can start with: hash, author name, e-mail and date follow,
// separated by NULs.
const commitFormat = "--format=%x00%H%x00%an%x00%ae%x00%aI"

// gitConfig pins settings that would change the output we parse.
var gitConfig = []string{"-c", "core.quotePath=false", "-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false",
	"-c", "log.showSignature=false", "-c", "color.ui=never"}

var diffFlags = []string{"--no-color", "-U0", "--no-ext-diff", "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/"}

// batchBytes is how much diff text the reader gathers before handing it
// to a worker.
const batchBytes = 256 << 10

// commitsPerProcess is the least number of commits worth a git process.
const commitsPerProcess = 256

// GitLog scans the lines each commit reachable from any ref added, as
// "git log -p --all" shows them, in the repository at dir. The commits
// (from "git rev-list --all") are split between up to Options.Workers
// "git log -p --no-walk --stdin" processes, since generating the diffs
// costs git more than scanning them costs us.
func (s *Scanner) GitLog(ctx context.Context, dir string) (*Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var list bytes.Buffer
	if err := s.runGit(ctx, dir, append(slices.Clone(gitConfig), "rev-list", "--all"), nil, func(r io.Reader) error {
		_, err := io.Copy(&list, r)
		return err
	}); err != nil {
		return nil, err
	}
	hashes := strings.Fields(list.String())
	n := min(max(1, len(hashes)/commitsPerProcess), s.workers, len(hashes))
	args := append(slices.Clone(gitConfig), "log", "-p", "--no-walk=unsorted", "--stdin", commitFormat)
	args = append(args, diffFlags...)
	d := s.startDiff(ctx)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		part := hashes[i*len(hashes)/n : (i+1)*len(hashes)/n]
		wg.Add(1)
		go func() {
			defer wg.Done()
			stdin := strings.NewReader(strings.Join(part, "\n") + "\n")
			errs[i] = s.runGit(ctx, dir, args, stdin, func(r io.Reader) error { return d.parse(r, i<<40) })
			if errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	return d.finish(ctx, errors.Join(errs...))
}

// Staged scans the lines the index adds ("git diff --cached"), as a
// pre-commit hook does.
func (s *Scanner) Staged(ctx context.Context, dir string) (*Result, error) {
	args := append(append(slices.Clone(gitConfig), "diff", "--cached"), diffFlags...)
	d := s.startDiff(ctx)
	err := s.runGit(ctx, dir, args, nil, func(r io.Reader) error { return d.parse(r, 0) })
	return d.finish(ctx, err)
}

// runGit runs git in dir and hands its output to read; the process is
// stopped when read fails.
func (s *Scanner) runGit(ctx context.Context, dir string, args []string, stdin io.Reader, read func(io.Reader) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir, cmd.Stdin = dir, stdin
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot run git: %w", err)
	}
	rerr := read(out)
	if rerr != nil {
		cancel()
	}
	_, _ = io.Copy(io.Discard, out)
	werr := cmd.Wait()
	if rerr != nil {
		return rerr
	}
	if werr != nil {
		return fmt.Errorf("git %s: %v: %s", args[len(gitConfig)], werr, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// Diff scans the added lines of a unified diff with git's headers (the
// output of "git diff", or of "git log -p" with commitFormat).
func (s *Scanner) Diff(ctx context.Context, r io.Reader) (*Result, error) {
	d := s.startDiff(ctx)
	return d.finish(ctx, d.parse(r, 0))
}

// diffRun is one diff scan: parsers (one per stream) feed chunks to a
// pool of workers.
type diffRun struct {
	s       *Scanner
	ctx     context.Context
	batches chan []chunk
	wg      sync.WaitGroup
	results []*workerResult

	mu      sync.Mutex
	parsed  []*workerResult
	commits int
}

func (s *Scanner) startDiff(ctx context.Context) *diffRun {
	d := &diffRun{s: s, ctx: ctx, batches: make(chan []chunk, 2*s.workers), results: make([]*workerResult, s.workers)}
	for i := range d.results {
		d.results[i] = &workerResult{}
		d.wg.Add(1)
		go func(res *workerResult) {
			defer d.wg.Done()
			for b := range d.batches {
				for i := range b {
					if ctx.Err() == nil {
						res.findings = s.scanChunk(&b[i], res.findings)
					}
				}
			}
		}(d.results[i])
	}
	return d
}

// parse reads one diff stream; seqBase orders its chunks after those of
// the streams with smaller bases.
func (d *diffRun) parse(r io.Reader, seqBase int) error {
	p := &diffParser{s: d.s, out: d.batches, ctx: d.ctx, st: &workerResult{}, seq: seqBase}
	err := p.run(bufio.NewReaderSize(r, 64<<10))
	d.mu.Lock()
	d.parsed = append(d.parsed, p.st)
	d.commits += p.commits
	d.mu.Unlock()
	return err
}

// finish waits for the workers and merges what they found.
func (d *diffRun) finish(ctx context.Context, err error) (*Result, error) {
	close(d.batches)
	d.wg.Wait()
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	res := merge(append(d.results, d.parsed...))
	res.Commits = d.commits
	return res, nil
}

// diffParser turns a diff stream into chunks of added lines.
type diffParser struct {
	s       *Scanner
	ctx     context.Context
	out     chan<- []chunk
	st      *workerResult
	commits int

	commit     *commitInfo
	file       string // new path of the current file; "" when none or skipped
	addLeft    int    // added lines left in the current hunk
	delLeft    int    // removed lines left in the current hunk
	buf        []byte // added lines of the current hunk
	firstLine  int
	tooBig     bool
	seq        int
	batch      []chunk
	batchBytes int
}

func (p *diffParser) run(r *bufio.Reader) error {
	var scratch []byte
	for {
		line, err := readLine(r, &scratch)
		if len(line) > 0 || err == nil {
			if perr := p.line(line); perr != nil {
				return perr
			}
		}
		if errors.Is(err, io.EOF) {
			p.flush()
			return p.send(true)
		}
		if err != nil {
			return err
		}
	}
}

// line handles one line of the diff.
func (p *diffParser) line(l []byte) error {
	if p.addLeft > 0 || p.delLeft > 0 {
		switch {
		case len(l) > 0 && l[0] == '+' && p.addLeft > 0:
			p.addLeft--
			if !p.tooBig {
				p.buf = append(append(p.buf, l[1:]...), '\n')
				p.tooBig = int64(len(p.buf)) > p.s.maxSize
			}
			return nil
		case len(l) > 0 && l[0] == '-' && p.delLeft > 0:
			p.delLeft--
			return nil
		case len(l) > 0 && l[0] == '\\':
			return nil
		}
		p.addLeft, p.delLeft = 0, 0 // malformed hunk: read on as headers
	}
	switch {
	case len(l) > 0 && l[0] == 0:
		p.flush()
		f := strings.Split(string(l[1:]), "\x00")
		for len(f) < 4 {
			f = append(f, "")
		}
		p.commit = &commitInfo{hash: f[0], author: f[1], email: f[2], date: f[3]}
		p.commits++
	case bytes.HasPrefix(l, []byte("diff --git ")):
		p.flush()
		p.file = ""
		p.st.files++
	case bytes.HasPrefix(l, []byte("+++ ")):
		p.flush()
		p.file = p.newPath(string(l[4:]))
	case bytes.HasPrefix(l, []byte("Binary files ")):
		p.st.skipped++
	case bytes.HasPrefix(l, []byte("@@ ")):
		p.flush()
		return p.hunk(string(l))
	}
	return p.send(false)
}

// newPath decodes the "+++" path; "" for a deleted or allow-listed file.
func (p *diffParser) newPath(raw string) string {
	if raw == "/dev/null" {
		return ""
	}
	raw = strings.TrimSuffix(raw, "\t") // after names with blanks
	if strings.HasPrefix(raw, `"`) {
		if u, err := strconv.Unquote(raw); err == nil {
			raw = u
		}
	}
	path := strings.TrimPrefix(raw, "b/")
	if p.s.c.allowedPath(path) {
		p.st.skipped++
		return ""
	}
	return path
}

// hunk parses "@@ -a[,b] +c[,d] @@".
func (p *diffParser) hunk(l string) error {
	fields := strings.Fields(l)
	if len(fields) < 4 || !strings.HasPrefix(fields[1], "-") || !strings.HasPrefix(fields[2], "+") {
		return fmt.Errorf("malformed diff hunk header %q", truncate(l, 80))
	}
	_, del, err1 := hunkRange(fields[1][1:])
	start, add, err2 := hunkRange(fields[2][1:])
	if err1 != nil || err2 != nil {
		return fmt.Errorf("malformed diff hunk header %q", truncate(l, 80))
	}
	p.delLeft, p.addLeft, p.firstLine = del, add, start
	return nil
}

func hunkRange(s string) (start, count int, err error) {
	a, b, hasCount := strings.Cut(s, ",")
	if start, err = strconv.Atoi(a); err != nil || start < 0 {
		return 0, 0, errors.New("bad range")
	}
	count = 1
	if hasCount {
		if count, err = strconv.Atoi(b); err != nil || count < 0 {
			return 0, 0, errors.New("bad range")
		}
	}
	return start, count, nil
}

// flush ends the current hunk's chunk.
func (p *diffParser) flush() {
	if len(p.buf) > 0 && p.file != "" && !p.tooBig {
		p.seq++
		p.batch = append(p.batch, chunk{file: p.file, rel: p.file, data: p.buf, firstLine: p.firstLine, offset: -1, seq: p.seq, commit: p.commit})
		p.batchBytes += len(p.buf)
		p.st.bytes += int64(len(p.buf))
		p.buf = nil
	}
	p.buf, p.tooBig, p.addLeft, p.delLeft = p.buf[:0], false, 0, 0
}

// send hands the batch to the workers when it is full, or when force
// is set and it is not empty.
func (p *diffParser) send(force bool) error {
	if p.batchBytes == 0 || (!force && p.batchBytes < batchBytes) {
		return nil
	}
	select {
	case p.out <- p.batch:
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
	p.batch, p.batchBytes = nil, 0
	return nil
}

// readLine returns the next line without its "\n", however long.
func readLine(r *bufio.Reader, scratch *[]byte) ([]byte, error) {
	l, err := r.ReadSlice('\n')
	if err == nil {
		return l[:len(l)-1], nil
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		return l, err
	}
	*scratch = append((*scratch)[:0], l...)
	for {
		l, err = r.ReadSlice('\n')
		*scratch = append(*scratch, l...)
		if err == nil {
			return (*scratch)[:len(*scratch)-1], nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return *scratch, err
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(b []byte) (int, error) {
	if l.n > 0 {
		k := min(l.n, len(b))
		_, _ = l.w.Write(b[:k])
		l.n -= k
	}
	return len(b), nil
}
