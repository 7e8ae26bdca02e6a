package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// fileSink appends lines to a file. A failed open is retried on the next
// write, so a device recovers once the file can be written again.
type fileSink struct {
	path string // "stdout", "discard" or an absolute path
	mode os.FileMode
	f    *os.File
	w    io.Writer
	buf  []byte
}

// NewFileSink opens (creating with mode) the file at path for appending.
// "stdout" and "discard" are accepted as Vault does. The last path element
// is never followed if it is a symlink.
func NewFileSink(path string, mode os.FileMode) (Sink, error) {
	s := &fileSink{path: path, mode: mode}
	switch path {
	case "stdout":
		s.w = os.Stdout
		return s, nil
	case "discard":
		s.w = io.Discard
		return s, nil
	}
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("audit: file_path must be an absolute path, not %q", path)
	}
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *fileSink) open() error {
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, s.mode)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		_ = f.Close()
		return fmt.Errorf("audit: %s is not a regular file", s.path)
	}
	s.f, s.w = f, f
	return nil
}

func (s *fileSink) Write(_ context.Context, line []byte) error {
	if s.w == nil {
		if err := s.open(); err != nil {
			return err
		}
	}
	s.buf = append(append(s.buf[:0], line...), '\n')
	if _, err := s.w.Write(s.buf); err != nil {
		return fmt.Errorf("audit: write %s: %w", s.path, err)
	}
	return nil
}

// WriteBatch appends newline-terminated lines in one write.
func (s *fileSink) WriteBatch(_ context.Context, lines []byte) error {
	if s.w == nil {
		if err := s.open(); err != nil {
			return err
		}
	}
	if _, err := s.w.Write(lines); err != nil {
		return fmt.Errorf("audit: write %s: %w", s.path, err)
	}
	return nil
}

// Reopen closes and reopens the file: after logrotate moved it away, new
// lines go to a fresh file at the same path.
func (s *fileSink) Reopen() error {
	if s.f == nil && s.w != nil {
		return nil // stdout, discard
	}
	if s.f != nil {
		_ = s.f.Close()
		s.f, s.w = nil, nil
	}
	return s.open()
}

func (s *fileSink) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f, s.w = nil, nil
	return err
}

// LastLines reads the file's last two lines, scanning back from the end.
func (s *fileSink) LastLines() (before, last []byte, err error) {
	if s.path == "stdout" || s.path == "discard" {
		return nil, nil, nil
	}
	f, err := os.Open(s.path)
	if err != nil {
		return nil, nil, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	return lastLines(f)
}

// lastLines returns the last two non-empty lines of f (before is nil when
// the file has one line).
func lastLines(f *os.File) (before, last []byte, err error) {
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	var tail []byte
	const chunk = 64 << 10
	for pos := st.Size(); pos > 0; {
		n := min(int64(chunk), pos)
		pos -= n
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, pos); err != nil && !errors.Is(err, io.EOF) {
			return nil, nil, err
		}
		tail = append(buf, tail...)
		lines := strings.Split(strings.TrimRight(string(tail), "\n"), "\n")
		// Complete lines are all but the first, unless the file start was read.
		if pos == 0 || len(lines) > 2 {
			if len(lines) == 1 {
				return nil, []byte(lines[0]), nil
			}
			return []byte(lines[len(lines)-2]), []byte(lines[len(lines)-1]), nil
		}
	}
	return nil, nil, nil
}

// ParseMode parses an octal file mode option ("0600"); empty means 0600.
func ParseMode(s string) (os.FileMode, error) {
	if s == "" {
		return 0o600, nil
	}
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o777 {
		return 0, fmt.Errorf("audit: mode must be an octal permission such as 0600, not %q", s)
	}
	return os.FileMode(m), nil
}
