package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// binaryExts are skipped without being opened.
var binaryExts = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".bmp": true, ".ico": true, ".webp": true,
	".pdf": true, ".zip": true, ".gz": true, ".tgz": true, ".bz2": true, ".xz": true, ".zst": true, ".7z": true,
	".rar": true, ".jar": true, ".war": true, ".class": true, ".so": true, ".dylib": true, ".dll": true,
	".exe": true, ".o": true, ".a": true, ".woff": true, ".woff2": true, ".ttf": true, ".otf": true,
	".eot": true, ".mp3": true, ".mp4": true, ".mov": true, ".avi": true, ".wasm": true, ".pyc": true,
	".sqlite": true, ".db": true,
}

// sniffLen is how much of a file is checked for NUL bytes, as git does.
const sniffLen = 8000

type fileJob struct {
	path string // as shown in findings
	rel  string // relative to the base
	seq  int
}

// workerResult is one worker's share of a Result.
type workerResult struct {
	findings []Finding
	files    int
	bytes    int64
	skipped  int
	warnings []string
}

// Paths scans files and folders (default "."), in parallel. A root that
// does not exist is an error; a file that cannot be read is a warning.
func (s *Scanner) Paths(ctx context.Context, roots []string) (*Result, error) {
	if len(roots) == 0 {
		roots = []string{"."}
	}
	absBase, err := filepath.Abs(cmpOr(s.base, "."))
	if err != nil {
		return nil, err
	}
	for _, r := range roots {
		if _, err := os.Stat(r); err != nil {
			return nil, fmt.Errorf("cannot scan %s: %w", r, cause(err))
		}
	}
	jobs := make(chan fileJob, 1024)
	walked := &workerResult{}
	var walkErr error
	go func() {
		defer close(jobs)
		walkErr = s.walk(ctx, roots, absBase, jobs, walked)
	}()
	results := make([]*workerResult, s.workers)
	var wg sync.WaitGroup
	for i := range results {
		results[i] = &workerResult{}
		wg.Add(1)
		go func(r *workerResult) {
			defer wg.Done()
			s.fileWorker(ctx, jobs, r)
		}(results[i])
	}
	wg.Wait()
	if walkErr != nil {
		return nil, walkErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return merge(append(results, walked)), nil
}

func merge(parts []*workerResult) *Result {
	res := &Result{}
	for _, r := range parts {
		res.Findings = append(res.Findings, r.findings...)
		res.Files += r.files
		res.Bytes += r.bytes
		res.Skipped += r.skipped
		res.Warnings = append(res.Warnings, r.warnings...)
	}
	sortFindings(res.Findings)
	return res
}

// walk sends every file under roots to jobs, in lexical order.
func (s *Scanner) walk(ctx context.Context, roots []string, absBase string, jobs chan<- fileJob, st *workerResult) error {
	seq := 0
	for _, root := range roots {
		absRoot, err := filepath.Abs(root)
		if err != nil {
			return err
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			if err != nil {
				st.warnings = append(st.warnings, fmt.Sprintf("%s: %v", p, cause(err)))
				if d != nil && d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			rel := s.relPath(absBase, absRoot, root, p)
			if d.IsDir() {
				if p != root && (d.Name() == ".git" || s.c.allowedPath(rel+"/")) {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() || binaryExts[strings.ToLower(filepath.Ext(p))] || s.c.allowedPath(rel) {
				st.skipped++
				return nil
			}
			seq++
			select {
			case jobs <- fileJob{path: p, rel: rel, seq: seq}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// relPath is p relative to the base folder, slash-separated, for the
// allow list; p itself when p is outside the base.
func (s *Scanner) relPath(absBase, absRoot, root, p string) string {
	inRoot, err := filepath.Rel(root, p)
	if err != nil {
		return filepath.ToSlash(p)
	}
	rel, err := filepath.Rel(absBase, filepath.Join(absRoot, inRoot))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(filepath.Clean(p))
	}
	return filepath.ToSlash(rel)
}

// fileWorker reads and scans files until jobs is closed.
func (s *Scanner) fileWorker(ctx context.Context, jobs <-chan fileJob, r *workerResult) {
	var buf []byte
	for job := range jobs {
		if ctx.Err() != nil {
			continue // drain
		}
		data, skip, err := s.readFile(job.path, &buf)
		switch {
		case err != nil:
			r.warnings = append(r.warnings, fmt.Sprintf("%s: %v", job.path, err))
			continue
		case skip:
			r.skipped++
			continue
		}
		r.files++
		r.bytes += int64(len(data))
		ch := chunk{file: job.path, rel: job.rel, data: data, firstLine: 1, offset: 0, seq: job.seq}
		r.findings = s.scanChunk(&ch, r.findings)
	}
}

// readFile reads a regular file into *buf, reporting skip for files too
// large or binary.
func (s *Scanner) readFile(path string, buf *[]byte) (data []byte, skip bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, cause(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	if !st.Mode().IsRegular() || st.Size() > s.maxSize {
		return nil, true, nil
	}
	size := int(st.Size())
	if cap(*buf) < size {
		*buf = make([]byte, size, max(size, 2*cap(*buf)))
	}
	n, err := io.ReadFull(f, (*buf)[:size])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, false, err
	}
	data = (*buf)[:n]
	if bytes.IndexByte(data[:min(n, sniffLen)], 0) >= 0 {
		return nil, true, nil
	}
	return data, false, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// cause drops the path from a *fs.PathError: callers name the file.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
