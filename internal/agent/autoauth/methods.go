package autoauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/kinko-dev/kinko/api"
)

// Method logs in to kinko and returns the login response (its Auth block
// holds the token). A Method is used by one Manager at a time.
type Method interface {
	// Name is the method's type, for logs ("approle", "jwt").
	Name() string
	// Login logs in through c, a client without a token.
	Login(ctx context.Context, c *api.Client) (*api.Secret, error)
}

var (
	_ Method = (*AppRole)(nil)
	_ Method = (*JWT)(nil)
)

// AppRole logs in with a role ID and a secret ID read from files
// (Vault Agent's approle method).
type AppRole struct {
	// MountPath of the method (default "auth/approle").
	MountPath string
	// RoleIDFile holds the role ID; it is read at every login.
	RoleIDFile string
	// SecretIDFile holds the secret ID, or a response-wrapping token
	// whose answer holds it when WrappingPath is set. Empty for roles
	// with bind_secret_id=false.
	SecretIDFile string
	// RemoveSecretIDFile deletes SecretIDFile once read; the secret ID is
	// then kept in memory for later logins, until a new file appears.
	RemoveSecretIDFile bool
	// WrappingPath, when set, says that SecretIDFile holds a wrapping
	// token made at this path (e.g. "auth/approle/role/app/secret-id");
	// a token made anywhere else is refused before it is unwrapped.
	WrappingPath string
	// Logger reports a file that could not be removed (slog.Default
	// when nil).
	Logger *slog.Logger

	mu          sync.Mutex
	secretID    string // last secret ID read (unwrapped)
	lastWrapped string // last wrapping token spent
}

// Name implements Method.
func (a *AppRole) Name() string { return "approle" }

// Login implements Method.
func (a *AppRole) Login(ctx context.Context, c *api.Client) (*api.Secret, error) {
	roleID, err := readValue(a.RoleIDFile)
	if err != nil {
		return nil, fmt.Errorf("approle: role ID: %w", err)
	}
	if roleID == "" {
		return nil, fmt.Errorf("approle: role ID file %s is empty", a.RoleIDFile)
	}
	secretID, err := a.readSecretID(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("approle: secret ID: %w", err)
	}
	data := map[string]any{"role_id": roleID}
	if secretID != "" {
		data["secret_id"] = secretID
	}
	return login(ctx, c, mountOr(a.MountPath, "auth/approle"), data)
}

// readSecretID returns the secret ID: from the file when it is there
// (unwrapping it first when configured, removing the file when
// configured), else the one read last.
func (a *AppRole) readSecretID(ctx context.Context, c *api.Client) (string, error) {
	if a.SecretIDFile == "" {
		return "", nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	v, err := readValue(a.SecretIDFile)
	switch {
	case errors.Is(err, fs.ErrNotExist) && a.secretID != "":
		return a.secretID, nil
	case err != nil:
		return "", err
	case v == "" && a.secretID != "":
		return a.secretID, nil
	case v == "":
		return "", fmt.Errorf("the file %s is empty", a.SecretIDFile)
	}
	if a.WrappingPath != "" {
		if v == a.lastWrapped && a.secretID != "" { // already spent: the file was kept
			return a.secretID, nil
		}
		sid, err := a.unwrap(ctx, c, v)
		if err != nil {
			return "", err
		}
		a.lastWrapped, v = v, sid
	}
	a.secretID = v
	if a.RemoveSecretIDFile {
		removeRead(a.Logger, a.SecretIDFile)
	}
	return v, nil
}

// unwrap checks where the wrapping token was made, then spends it.
func (a *AppRole) unwrap(ctx context.Context, c *api.Client, wrapToken string) (string, error) {
	c = c.WithToken("").WithoutWrapping()
	info, err := c.WrapLookup(ctx, wrapToken)
	if err != nil {
		return "", fmt.Errorf("looking up the wrapping token: %w", err)
	}
	got := ""
	if info != nil {
		got, _ = info.Data["creation_path"].(string)
	}
	if strings.Trim(got, "/") != strings.Trim(a.WrappingPath, "/") {
		return "", fmt.Errorf("the wrapping token was made at %q, not at secret_id_response_wrapping_path %q", got, a.WrappingPath)
	}
	s, err := c.Unwrap(ctx, wrapToken)
	if err != nil {
		return "", fmt.Errorf("unwrapping: %w", err)
	}
	sid := ""
	if s != nil {
		sid, _ = s.Data["secret_id"].(string)
	}
	if sid == "" {
		return "", errors.New("the unwrapped response holds no secret_id")
	}
	return sid, nil
}

// JWT logs in with a JWT read from a file at every login, so a platform
// that refreshes the file (a Kubernetes projected service account token,
// a CI OIDC token) is followed (Vault Agent's jwt method).
type JWT struct {
	// MountPath of the method (default "auth/jwt").
	MountPath string
	// Path of the file holding the JWT.
	Path string
	// Role to log in as.
	Role string
	// RemoveAfterReading deletes the file once read; the JWT read last
	// is used while no new file has appeared.
	RemoveAfterReading bool
	// Logger reports a file that could not be removed (slog.Default
	// when nil).
	Logger *slog.Logger

	mu   sync.Mutex
	last string
}

// Name implements Method.
func (j *JWT) Name() string { return "jwt" }

// Login implements Method.
func (j *JWT) Login(ctx context.Context, c *api.Client) (*api.Secret, error) {
	tok, err := j.read()
	if err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	return login(ctx, c, mountOr(j.MountPath, "auth/jwt"), map[string]any{"role": j.Role, "jwt": tok})
}

func (j *JWT) read() (string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	v, err := readValue(j.Path)
	switch {
	case (errors.Is(err, fs.ErrNotExist) || (err == nil && v == "")) && j.last != "":
		return j.last, nil
	case err != nil:
		return "", err
	case v == "":
		return "", fmt.Errorf("the file %s is empty", j.Path)
	}
	j.last = v
	if j.RemoveAfterReading {
		removeRead(j.Logger, j.Path)
	}
	return v, nil
}

// removeRead removes a credential file once read. A failure (a read-only
// mount, as for a Kubernetes projected token) is logged, not fatal: the
// value read is good, as Vault Agent does it.
func removeRead(log *slog.Logger, path string) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		if log == nil {
			log = slog.Default()
		}
		log.Warn("could not remove the credential file after reading it", "path", path, "error", err)
	}
}

// login writes data to <mount>/login and checks that a token came back.
func login(ctx context.Context, c *api.Client, mount string, data map[string]any) (*api.Secret, error) {
	s, err := c.WithToken("").WithoutWrapping().Write(ctx, mount+"/login", data)
	if err != nil {
		return nil, err
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		if s != nil && s.Data["mfa_requirement"] != nil {
			return nil, errors.New("the login asks for MFA, which auto-auth cannot answer")
		}
		return nil, fmt.Errorf("%s/login answered without a token", mount)
	}
	return s, nil
}

// readValue reads a small file holding one value, without surrounding
// white space. Files over 64 KiB are refused.
func readValue(path string) (string, error) {
	if path == "" {
		return "", errors.New("no file configured")
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<10+1))
	if err != nil {
		return "", err
	}
	if len(b) > 64<<10 {
		return "", fmt.Errorf("the file %s is larger than 64 KiB", path)
	}
	return strings.TrimSpace(string(b)), nil
}

func mountOr(m, def string) string {
	if m = strings.Trim(m, "/"); m == "" {
		return def
	}
	return m
}
