package template

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/atomicfile"
)

// FileConfig is one rendered file (Vault Agent's template block).
type FileConfig struct {
	// Source is a template file; Contents an inline template (one of).
	Source   string
	Contents string
	// Destination is the file written.
	Destination string
	// Perms is the file's mode (default 0600: it holds secrets).
	Perms os.FileMode
	// User and Group own the file when set (names or numeric IDs).
	User, Group string
	// Command runs (argv, no shell) after each change of the file.
	Command        []string
	CommandTimeout time.Duration // default 30s
}

// DefaultPerms is the mode of rendered files unless configured.
const DefaultPerms os.FileMode = 0o600

// File is a parsed FileConfig.
type File struct {
	cfg  FileConfig
	tmpl *Template
	uid  int
	gid  int
}

// NewFile parses c's template and resolves its owner.
func NewFile(c FileConfig) (*File, error) {
	if c.Destination == "" {
		return nil, errors.New("template: destination is required")
	}
	if (c.Source == "") == (c.Contents == "") {
		return nil, fmt.Errorf("template %s: exactly one of source and contents is required", c.Destination)
	}
	text := c.Contents
	if c.Source != "" {
		b, err := os.ReadFile(c.Source)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", c.Destination, err)
		}
		text = string(b)
	}
	t, err := Parse(c.Destination, text)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", c.Destination, err)
	}
	if c.Perms == 0 {
		c.Perms = DefaultPerms
	}
	if c.CommandTimeout <= 0 {
		c.CommandTimeout = 30 * time.Second
	}
	f := &File{cfg: c, tmpl: t, uid: -1, gid: -1}
	if c.User != "" {
		if f.uid, err = lookupID(c.User, true); err != nil {
			return nil, fmt.Errorf("template %s: user %q: %w", c.Destination, c.User, err)
		}
	}
	if c.Group != "" {
		if f.gid, err = lookupID(c.Group, false); err != nil {
			return nil, fmt.Errorf("template %s: group %q: %w", c.Destination, c.Group, err)
		}
	}
	return f, nil
}

func lookupID(name string, isUser bool) (int, error) {
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		return n, nil
	}
	if isUser {
		u, err := user.Lookup(name)
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(u.Uid)
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(g.Gid)
}

// Destination is the file's path.
func (f *File) Destination() string { return f.cfg.Destination }

// Render renders the file and, when its content or mode differs from what
// is on disk, writes it atomically and runs its command. It reports
// whether the file changed.
func (f *File) Render(ctx context.Context, src Source) (bool, error) {
	out, err := f.tmpl.Render(ctx, src)
	if err != nil {
		return false, err
	}
	if old, err := os.ReadFile(f.cfg.Destination); err == nil && bytes.Equal(old, out) {
		if st, err := os.Stat(f.cfg.Destination); err == nil && st.Mode().Perm() == f.cfg.Perms.Perm() {
			return false, nil
		}
	}
	if err := atomicfile.WriteOwned(f.cfg.Destination, out, f.cfg.Perms, f.uid, f.gid); err != nil {
		return false, err
	}
	if len(f.cfg.Command) > 0 {
		if err := runCommand(ctx, f.cfg.Command, f.cfg.CommandTimeout); err != nil {
			return true, fmt.Errorf("template %s: command: %w", f.cfg.Destination, err)
		}
	}
	return true, nil
}

func runCommand(ctx context.Context, argv []string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = os.Stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("%s did not finish within %s", argv[0], timeout)
		}
		msg := bytes.TrimSpace(stderr.Bytes())
		if len(msg) > 512 {
			msg = msg[len(msg)-512:]
		}
		return fmt.Errorf("%s: %v: %s", argv[0], err, msg)
	}
	return nil
}

// Runner renders files now and again every Interval, so rotated secrets
// reach the files within one interval.
type Runner struct {
	Files    []*File
	Source   Source
	Interval time.Duration // default 1m
	Logger   *slog.Logger

	mu      sync.Mutex
	renders int
}

// RenderAll renders every file once; it returns the first error after
// trying them all.
func (r *Runner) RenderAll(ctx context.Context) (changed int, err error) {
	for _, f := range r.Files {
		ch, ferr := f.Render(ctx, r.Source)
		if ferr != nil {
			r.logger().Warn("template: render failed; the file keeps its previous content", "destination", f.Destination(), "error", ferr)
			err = errors.Join(err, ferr)
			continue
		}
		if ch {
			changed++
			r.logger().Info("template: rendered", "destination", f.Destination())
		}
	}
	r.mu.Lock()
	r.renders++
	r.mu.Unlock()
	return changed, err
}

// Renders counts finished passes (for tests and status).
func (r *Runner) Renders() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.renders
}

// Run renders every Interval until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	iv := r.Interval
	if iv <= 0 {
		iv = time.Minute
	}
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		_, _ = r.RenderAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}
