package awssm

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/kinko-dev/kinko/internal/hooksig"
	"github.com/kinko-dev/kinko/internal/logical"
)

// A rotation hook carries out the steps of a rotation for kinko, as a
// rotation Lambda function does for AWS: it is given an event
// {SecretId, ClientRequestToken, Step} per step and does the work with its
// own credentials (an access key or token allowed to read and write the
// secret). Hooks are registered at hooks/<name> (sudo) and named by a
// secret's RotationLambdaARN, as the bare name or as a Lambda-style ARN
// (arn:<partition>:lambda:<region>:<account>:function:<name>).

// Hook types.
const (
	hookHTTP = "http"
	hookExec = "exec"
)

const (
	defaultHookTimeout = 30 * time.Second
	maxHookTimeout     = 15 * time.Minute // a Lambda's limit
	hookReportBytes    = 512              // of a failed hook's answer, kept in the report
)

// hookConfig is a registered rotation hook.
type hookConfig struct {
	Type       string
	URL        string   `json:",omitempty"`
	Command    []string `json:",omitempty"`
	Timeout    time.Duration
	SigningKey []byte `json:",omitempty"` // HMAC key of X-Kinko-Signature (http)
}

// rotationEvent is what a hook receives for one step, with the field
// names of a rotation Lambda's event.
type rotationEvent struct {
	SecretId           string `json:"SecretId"`
	ClientRequestToken string `json:"ClientRequestToken"`
	Step               string `json:"Step"`
}

// rotator carries out one step of a rotation.
type rotator interface {
	step(ctx context.Context, ev rotationEvent) error
}

const hookPrefix = "hooks/"

func (b *Backend) hookPaths() []*logical.Path {
	fields := map[string]*logical.FieldSchema{
		"name":    {Type: logical.TypeString, Description: "The hook's name, used as a secret's RotationLambdaARN."},
		"type":    {Type: logical.TypeString, Description: `"http" (a signed POST of each step to url) or "exec" (run command with the step on stdin).`},
		"url":     {Type: logical.TypeString, Description: "http: the endpoint (http or https) that receives the steps."},
		"command": {Type: logical.TypeStringSlice, Description: "exec: the program (absolute path) and its arguments."},
		"timeout": {Type: logical.TypeDurationSecond, Description: "How long one step may take (default 30s, at most 15m)."},
	}
	return []*logical.Path{
		{Pattern: "hooks/?", Operations: opMap{logical.ListOperation: b.handleHookList}, HelpSynopsis: "List the rotation hooks."},
		{Pattern: "hooks/" + logical.GenericNameRegex("name"), Fields: fields,
			Operations: opMap{logical.ReadOperation: b.handleHookRead, logical.CreateOperation: b.handleHookWrite,
				logical.UpdateOperation: b.handleHookWrite, logical.DeleteOperation: b.handleHookDelete},
			ExistenceCheck: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
				h, err := b.loadHook(ctx, d.Get("name").(string))
				return h != nil, err
			},
			HelpSynopsis: "A rotation hook: an HTTP endpoint or a local program that carries out rotation steps (sudo)."},
	}
}

func (b *Backend) loadHook(ctx context.Context, name string) (*hookConfig, error) {
	var h hookConfig
	ok, err := logical.GetJSON(ctx, b.view, hookPrefix+name, &h)
	if err != nil || !ok {
		return nil, err
	}
	return &h, nil
}

func (b *Backend) handleHookList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	keys, err := b.view.List(ctx, hookPrefix)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(keys), nil
}

func (b *Backend) handleHookRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	h, err := b.loadHook(ctx, d.Get("name").(string))
	if err != nil || h == nil {
		return nil, err
	}
	return logical.DataResponse(h.view()), nil
}

// view is the hook as shown: the signing key too, since whoever may read
// a hook (sudo) configures its receiver.
func (h *hookConfig) view() map[string]any {
	out := map[string]any{"type": h.Type, "timeout": int64(h.Timeout / time.Second)}
	switch h.Type {
	case hookHTTP:
		out["url"] = h.URL
		out["signing_key"] = base64.StdEncoding.EncodeToString(h.SigningKey)
	case hookExec:
		out["command"] = h.Command
	}
	return out
}

func (b *Backend) handleHookWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	h, err := b.loadHook(ctx, name)
	if err != nil {
		return nil, err
	}
	if h == nil {
		h = &hookConfig{Timeout: defaultHookTimeout}
	}
	if v, ok, _ := d.GetOk("type"); ok {
		h.Type = v.(string)
	}
	if v, ok, _ := d.GetOk("url"); ok {
		h.URL = v.(string)
	}
	if v, ok, _ := d.GetOk("command"); ok {
		h.Command = v.([]string)
	}
	if v, ok, _ := d.GetOk("timeout"); ok {
		h.Timeout = v.(time.Duration)
	}
	if err := h.validate(); err != nil {
		return nil, err
	}
	if h.Type == hookHTTP && len(h.SigningKey) == 0 {
		h.SigningKey = make([]byte, 32)
		if _, err := rand.Read(h.SigningKey); err != nil {
			return nil, err
		}
	}
	if h.Type != hookHTTP {
		h.SigningKey, h.URL = nil, ""
	}
	if h.Type != hookExec {
		h.Command = nil
	}
	if err := logical.PutJSON(ctx, b.view, hookPrefix+name, h); err != nil {
		return nil, err
	}
	return logical.DataResponse(h.view()), nil
}

func (h *hookConfig) validate() error {
	if h.Timeout <= 0 || h.Timeout > maxHookTimeout {
		return logical.InvalidRequest("timeout must be between 1s and %s", maxHookTimeout)
	}
	switch h.Type {
	case hookHTTP:
		u, err := url.Parse(h.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return logical.InvalidRequest("url must be an absolute http or https URL")
		}
		if u.User != nil {
			return logical.InvalidRequest("url must not carry credentials; the hook verifies the X-Kinko-Signature header instead")
		}
	case hookExec:
		if len(h.Command) == 0 || !strings.HasPrefix(h.Command[0], "/") {
			return logical.InvalidRequest("command must start with the absolute path of the program")
		}
		for _, a := range h.Command {
			if strings.ContainsRune(a, 0) {
				return logical.InvalidRequest("command arguments must not contain NUL")
			}
		}
	default:
		return logical.InvalidRequest(`type must be "http" or "exec"`)
	}
	return nil
}

func (b *Backend) handleHookDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return nil, b.view.Delete(ctx, hookPrefix+d.Get("name").(string))
}

// Built-in rotators: RotationLambdaARN values that need no hook.
const (
	builtinSingleUser       = "builtin:single-user"
	builtinAlternatingUsers = "builtin:alternating-users"
)

// hookName returns the hook a RotationLambdaARN names: the name itself, or
// the function name of a Lambda-style ARN.
func hookName(ref string) (string, error) {
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		parts := strings.Split(ref, ":")
		if len(parts) < 7 || parts[2] != "lambda" || parts[5] != "function" {
			return "", logical.InvalidRequest("RotationLambdaARN %q is not arn:<partition>:lambda:<region>:<account>:function:<hook>", ref)
		}
		name = parts[6]
	}
	if !validHookName(name) {
		return "", logical.InvalidRequest("RotationLambdaARN must be %q, %q, or the name of a hook registered at hooks/<name>", builtinSingleUser, builtinAlternatingUsers)
	}
	return name, nil
}

func validHookName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// rotatorFor resolves a RotationLambdaARN.
func (b *Backend) rotatorFor(ctx context.Context, ref string) (rotator, error) {
	switch ref {
	case builtinSingleUser:
		return &dbRotator{b: b}, nil
	case builtinAlternatingUsers:
		return &dbRotator{b: b, alternating: true}, nil
	}
	name, err := hookName(ref)
	if err != nil {
		return nil, err
	}
	h, err := b.loadHook(ctx, name)
	if err != nil {
		return nil, err
	}
	if h == nil {
		return nil, logical.InvalidRequest("rotation hook %q does not exist: register it at hooks/%s", name, name)
	}
	switch h.Type {
	case hookHTTP:
		return &httpHook{cfg: h, client: b.hookClient}, nil
	default:
		return &execHook{cfg: h}, nil
	}
}

// httpHook POSTs each step, signed, and succeeds on a 2xx answer.
type httpHook struct {
	cfg    *hookConfig
	client *http.Client
}

func (h *httpHook) step(ctx context.Context, ev rotationEvent) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("hook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kinko-rotation")
	hooksig.SignRequest(req, h.cfg.SigningKey, body, time.Now())
	resp, err := h.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("hook did not answer within %s", h.cfg.Timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("hook unreachable: %v", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, hookReportBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("hook answered %s: %s", resp.Status, printable(answer))
	}
	return nil
}

// execHook runs the command with the event as JSON on stdin (and in the
// environment as KINKO_ROTATION_*); exit status 0 is success.
type execHook struct {
	cfg *hookConfig
}

func (h *execHook) step(ctx context.Context, ev rotationEvent) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.cfg.Command[0], h.cfg.Command[1:]...)
	cmd.Stdin = bytes.NewReader(body)
	cmd.Env = append(os.Environ(), "KINKO_ROTATION_SECRET_ID="+ev.SecretId,
		"KINKO_ROTATION_CLIENT_REQUEST_TOKEN="+ev.ClientRequestToken, "KINKO_ROTATION_STEP="+ev.Step)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	var stderr tailBuffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	err = cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("hook did not finish within %s", h.cfg.Timeout)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Errorf("hook exited with %s: %s", ee.ProcessState, printable(stderr.b))
	}
	if err != nil {
		return fmt.Errorf("hook could not run: %v", err)
	}
	return nil
}

// tailBuffer keeps the last hookReportBytes written.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - hookReportBytes; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

// printable trims a hook's answer to one line of valid UTF-8 text.
func printable(b []byte) string {
	s := strings.ToValidUTF8(string(b), "?")
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "(no message)"
	}
	if utf8.RuneCountInString(s) > hookReportBytes {
		s = string([]rune(s)[:hookReportBytes])
	}
	return s
}
