package agent

import (
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/ast"

	"github.com/kinko-dev/kinko/internal/agent/autoauth"
	"github.com/kinko-dev/kinko/internal/agent/awsagent"
	"github.com/kinko-dev/kinko/internal/agent/envexec"
	"github.com/kinko-dev/kinko/internal/agent/proxy"
	"github.com/kinko-dev/kinko/internal/agent/template"
)

// Config is the agent's configuration file, in Vault Agent's HCL shape
// (JSON works too); see the package doc for an example.
type Config struct {
	Vault     VaultConfig
	AutoAuth  AutoAuthConfig
	Cache     CacheConfig
	Listeners []ListenerConfig
	// AWS is nil without an aws_secrets_manager block.
	AWS        *AWSConfig
	AgentToken AgentTokenConfig
	// AllowForwarded lets requests with X-Forwarded-For or from other
	// hosts in (the agent token is still required).
	AllowForwarded bool
	// ExitAfterAuth makes the agent log in, write its sinks and exit.
	ExitAfterAuth bool
	// Templates are rendered files (template blocks), re-rendered every
	// TemplateInterval (template_config static_secret_render_interval).
	Templates        []template.FileConfig
	TemplateInterval time.Duration
	// EnvTemplates (env_template blocks) are the child's environment
	// variables when the agent supervises a process (exec block, or
	// "kinko agent exec -- cmd").
	EnvTemplates []envexec.Var
	Exec         *ExecConfig
	LogLevel     string
	LogFormat    string
}

// VaultConfig is the vault (or kinko) block: the server to talk to.
type VaultConfig struct {
	Address       string // empty: KINKO_ADDR or VAULT_ADDR
	TLSSkipVerify bool
	CACert        string
	// ClientCert and ClientKey, when set, are presented on every
	// connection to the server (and used by the cert method by default).
	ClientCert, ClientKey string
}

// AutoAuthConfig is the auto_auth block.
type AutoAuthConfig struct {
	// Method is the only method block.
	Method MethodConfig
	Sinks  []autoauth.FileSink
}

// MethodConfig is a method block: its type and its mount.
type MethodConfig struct {
	Type      string // approle | jwt | cert
	MountPath string
	AppRole   *autoauth.AppRole
	JWT       *autoauth.JWT
	Cert      *autoauth.Cert
}

// CacheConfig is the cache block (the proxy's cache).
type CacheConfig struct {
	TTL             time.Duration // default 5m
	RefreshInterval time.Duration // default 30s
	MaxEntries      int           // default 10000
	// TokenMode is use_auto_auth_token: true (default) sends the agent's
	// token with requests that carry none, "force" with every request,
	// false with none.
	TokenMode proxy.TokenMode
}

// ListenerConfig is one listener "tcp" block of the caching proxy.
type ListenerConfig struct {
	Address     string // default 127.0.0.1:8100
	TLSDisable  bool
	TLSCertFile string
	TLSKeyFile  string
}

// AWSConfig is the aws_secrets_manager block.
type AWSConfig struct {
	// Address to listen on: 127.0.0.1:<port> unless address is set.
	Address               string
	TTL                   time.Duration
	CacheSize             int
	MaxConn               int
	Mount                 string
	IgnoreTransientErrors bool
}

// AgentTokenConfig says where the SSRF token is read from: a file, or an
// environment variable (whose value may be file:///path).
type AgentTokenConfig struct {
	File string
	Env  string
}

var topKeys = keys("vault", "kinko", "auto_auth", "cache", "listener", "aws_secrets_manager", "agent_token",
	"template", "template_config", "env_template", "exec", "allow_forwarded", "exit_after_auth", "log_level", "log_format")

// LoadConfig reads and parses a config file.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(string(b))
}

// ParseConfig parses config text (HCL or JSON). Unknown keys are errors,
// so a misspelt setting is never silently ignored.
func ParseConfig(text string) (c *Config, err error) {
	if len(text) > maxConfigSize {
		return nil, fmt.Errorf("config: %d bytes is over the limit of %d", len(text), maxConfigSize)
	}
	if !utf8.ValidString(text) {
		return nil, errors.New("config: not valid UTF-8")
	}
	// the HCL library panics on some malformed input (bad escapes)
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, errors.New("config: malformed literal or escape")
		}
	}()
	if err := checkNesting(text); err != nil {
		return nil, err
	}
	root, err := hcl.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("config: %v", err)
	}
	list, ok := root.Node.(*ast.ObjectList)
	if !ok {
		return nil, errors.New("config: the top level must be an object")
	}
	if strings.HasPrefix(strings.TrimSpace(text), "{") {
		unflatten(list, configSpec)
	}
	if err := checkKeys("config", list, topKeys); err != nil {
		return nil, err
	}
	var top struct {
		AllowForwarded bool   `hcl:"allow_forwarded"`
		ExitAfterAuth  bool   `hcl:"exit_after_auth"`
		LogLevel       string `hcl:"log_level"`
		LogFormat      string `hcl:"log_format"`
	}
	if err := decode("config", list, &top); err != nil {
		return nil, err
	}
	c = &Config{AllowForwarded: top.AllowForwarded, ExitAfterAuth: top.ExitAfterAuth, LogLevel: top.LogLevel, LogFormat: top.LogFormat}
	for _, step := range []func(*Config, *ast.ObjectList) error{parseVault, parseAutoAuth, checkCertMethod, parseCache, parseListeners, parseAWS, parseAgentToken, parseTemplates, parseExec} {
		if err := step(c, list); err != nil {
			return nil, err
		}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) validate() error {
	serves := len(c.Listeners) > 0 || c.AWS != nil
	if serves && c.AgentToken.File == "" && c.AgentToken.Env == "" {
		return errors.New("config: agent_token { file = ... } or { env = ... } is required to serve listeners: every local request must carry it")
	}
	if !serves && !c.ExitAfterAuth && len(c.AutoAuth.Sinks) == 0 && len(c.Templates) == 0 && len(c.EnvTemplates) == 0 && c.Exec == nil {
		return errors.New("config: nothing to do: add a listener, an aws_secrets_manager block, a template or a sink")
	}
	return nil
}

func parseVault(c *Config, list *ast.ObjectList) error {
	items := append(list.Filter("vault").Items, list.Filter("kinko").Items...)
	if len(items) > 1 {
		return errors.New("config: only one vault (or kinko) block is allowed")
	}
	if len(items) == 0 {
		return nil
	}
	var v struct {
		Address       string `hcl:"address"`
		TLSSkipVerify bool   `hcl:"tls_skip_verify"`
		CACert        string `hcl:"ca_cert"`
		ClientCert    string `hcl:"client_cert"`
		ClientKey     string `hcl:"client_key"`
	}
	if err := decodeBlock("vault", items[0], &v, keys("address", "tls_skip_verify", "ca_cert", "client_cert", "client_key")); err != nil {
		return err
	}
	if (v.ClientCert == "") != (v.ClientKey == "") {
		return errors.New("config: vault: client_cert and client_key go together")
	}
	c.Vault = VaultConfig(v)
	return nil
}

func parseAutoAuth(c *Config, list *ast.ObjectList) error {
	items := list.Filter("auto_auth").Items
	switch {
	case len(items) == 0:
		return errors.New("config: an auto_auth block is required: the agent uses its own token")
	case len(items) > 1:
		return errors.New("config: only one auto_auth block is allowed")
	}
	body, err := objectList("auto_auth", items[0], keys("method", "sink"))
	if err != nil {
		return err
	}
	methods := body.Filter("method").Items
	if len(methods) != 1 {
		return fmt.Errorf("config: auto_auth needs exactly one method block, found %d", len(methods))
	}
	if c.AutoAuth.Method, err = parseMethod(methods[0]); err != nil {
		return err
	}
	for _, it := range body.Filter("sink").Items {
		s, err := parseSink(it)
		if err != nil {
			return err
		}
		c.AutoAuth.Sinks = append(c.AutoAuth.Sinks, s)
	}
	return nil
}

// blockType returns the label of `name "type" {}` or the type field of
// `name { type = "..." }`.
func blockType(name string, it *ast.ObjectItem) (string, error) {
	if len(it.Keys) == 1 {
		return it.Keys[0].Token.Value().(string), nil
	}
	if len(it.Keys) > 1 {
		return "", fmt.Errorf("config: line %d: %s takes one label", it.Pos().Line, name)
	}
	var t struct {
		Type string `hcl:"type"`
	}
	if err := hcl.DecodeObject(&t, it.Val); err != nil || t.Type == "" {
		return "", fmt.Errorf("config: line %d: %s needs a type: %s \"approle\" { ... }", it.Pos().Line, name, name)
	}
	return t.Type, nil
}

func parseMethod(it *ast.ObjectItem) (MethodConfig, error) {
	var m MethodConfig
	typ, err := blockType("method", it)
	if err != nil {
		return m, err
	}
	var body struct {
		MountPath string `hcl:"mount_path"`
		Config    any    `hcl:"config"`
	}
	if err := decodeBlock("method", it, &body, keys("type", "mount_path", "config")); err != nil {
		return m, err
	}
	cfg, err := configMap("method "+typ, body.Config)
	if err != nil {
		return m, err
	}
	m.Type, m.MountPath = typ, body.MountPath
	switch typ {
	case "approle":
		m.AppRole, err = appRoleConfig(cfg, body.MountPath)
	case "jwt":
		m.JWT, err = jwtConfig(cfg, body.MountPath)
	case "cert":
		m.Cert, err = certConfig(cfg, body.MountPath)
	default:
		err = fmt.Errorf("config: auto_auth method %q is not supported (use approle, jwt or cert)", typ)
	}
	return m, err
}

func appRoleConfig(m *cfgMap, mount string) (*autoauth.AppRole, error) {
	a := &autoauth.AppRole{MountPath: mount}
	a.RoleIDFile = m.str("role_id_file_path")
	a.SecretIDFile = m.str("secret_id_file_path")
	a.RemoveSecretIDFile = m.boolean("remove_secret_id_file_after_reading", true)
	a.WrappingPath = m.str("secret_id_response_wrapping_path")
	if err := m.done(); err != nil {
		return nil, err
	}
	if a.RoleIDFile == "" {
		return nil, errors.New("config: method approle: role_id_file_path is required")
	}
	if a.WrappingPath != "" && a.SecretIDFile == "" {
		return nil, errors.New("config: method approle: secret_id_response_wrapping_path needs secret_id_file_path")
	}
	return a, nil
}

func jwtConfig(m *cfgMap, mount string) (*autoauth.JWT, error) {
	j := &autoauth.JWT{MountPath: mount}
	j.Path = m.str("path")
	j.Role = m.str("role")
	j.RemoveAfterReading = m.boolean("remove_jwt_after_reading", true)
	if err := m.done(); err != nil {
		return nil, err
	}
	if j.Path == "" || j.Role == "" {
		return nil, errors.New("config: method jwt: path and role are required")
	}
	return j, nil
}

// checkCertMethod gives a cert method without certificate files the vault
// block's, and refuses it when there are none.
func checkCertMethod(c *Config, _ *ast.ObjectList) error {
	cm := c.AutoAuth.Method.Cert
	if cm == nil || cm.ClientCert != "" {
		return nil
	}
	if c.Vault.ClientCert == "" {
		return errors.New("config: method cert: set client_cert and client_key in its config or in the vault block")
	}
	cm.ClientCert, cm.ClientKey = c.Vault.ClientCert, c.Vault.ClientKey
	return nil
}

// certConfig reads a cert method's config. The files are read at every
// login, so Vault's reload option is accepted and always in effect.
func certConfig(m *cfgMap, mount string) (*autoauth.Cert, error) {
	c := &autoauth.Cert{MountPath: mount}
	c.Role = m.str("name")
	c.CACert = m.str("ca_cert")
	c.ClientCert = m.str("client_cert")
	c.ClientKey = m.str("client_key")
	_ = m.boolean("reload", true)
	if err := m.done(); err != nil {
		return nil, err
	}
	if (c.ClientCert == "") != (c.ClientKey == "") {
		return nil, errors.New("config: method cert: client_cert and client_key go together")
	}
	return c, nil
}

func parseSink(it *ast.ObjectItem) (autoauth.FileSink, error) {
	var s autoauth.FileSink
	typ, err := blockType("sink", it)
	if err != nil {
		return s, err
	}
	if typ != "file" {
		return s, fmt.Errorf("config: sink %q is not supported (use \"file\")", typ)
	}
	var body struct {
		Config any `hcl:"config"`
	}
	if err := decodeBlock("sink", it, &body, keys("type", "config")); err != nil {
		return s, err
	}
	m, err := configMap("sink file", body.Config)
	if err != nil {
		return s, err
	}
	s.Path = m.str("path")
	mode := m.integer("mode", int64(autoauth.DefaultSinkMode))
	if err := m.done(); err != nil {
		return s, err
	}
	if s.Path == "" {
		return s, errors.New("config: sink file: path is required")
	}
	if mode <= 0 || mode > 0o777 {
		return s, fmt.Errorf("config: sink file %s: mode %#o is not a file mode", s.Path, mode)
	}
	if mode&0o007 != 0 {
		return s, fmt.Errorf("config: sink file %s: mode %#o lets every local user read the token", s.Path, mode)
	}
	s.Mode = os.FileMode(mode)
	return s, nil
}

// tokenMode reads use_auto_auth_token: true (or unset), "force" or false.
func tokenMode(v any) (proxy.TokenMode, error) {
	switch v := v.(type) {
	case nil:
		return proxy.TokenAuto, nil
	case bool:
		if v {
			return proxy.TokenAuto, nil
		}
		return proxy.TokenCaller, nil
	case string:
		switch v {
		case "true":
			return proxy.TokenAuto, nil
		case "false":
			return proxy.TokenCaller, nil
		case "force":
			return proxy.TokenForce, nil
		}
	}
	return 0, fmt.Errorf(`config: cache: use_auto_auth_token must be true, false or "force", not %v`, v)
}

func parseCache(c *Config, list *ast.ObjectList) error {
	c.Cache = CacheConfig{TTL: proxy.DefaultTTL, RefreshInterval: proxy.DefaultRefreshInterval, MaxEntries: proxy.DefaultMaxEntries}
	items := list.Filter("cache").Items
	if len(items) > 1 {
		return errors.New("config: only one cache block is allowed")
	}
	if len(items) == 0 {
		return nil
	}
	var b struct {
		TTL              string `hcl:"ttl"`
		RefreshInterval  string `hcl:"refresh_interval"`
		MaxEntries       *int   `hcl:"max_entries"`
		UseAutoAuthToken any    `hcl:"use_auto_auth_token"`
	}
	if err := decodeBlock("cache", items[0], &b, keys("ttl", "refresh_interval", "max_entries", "use_auto_auth_token")); err != nil {
		return err
	}
	mode, err := tokenMode(b.UseAutoAuthToken)
	if err != nil {
		return err
	}
	c.Cache.TokenMode = mode
	if c.Cache.TTL, err = duration("cache ttl", b.TTL, c.Cache.TTL); err != nil {
		return err
	}
	if c.Cache.RefreshInterval, err = duration("cache refresh_interval", b.RefreshInterval, c.Cache.RefreshInterval); err != nil {
		return err
	}
	if b.MaxEntries != nil {
		if *b.MaxEntries < 1 {
			return errors.New("config: cache: max_entries must be at least 1")
		}
		c.Cache.MaxEntries = *b.MaxEntries
	}
	return nil
}

func parseListeners(c *Config, list *ast.ObjectList) error {
	for _, it := range list.Filter("listener").Items {
		typ, err := blockType("listener", it)
		if err != nil {
			return err
		}
		if typ != "tcp" {
			return fmt.Errorf("config: listener %q is not supported (use \"tcp\")", typ)
		}
		var l struct {
			Address     string `hcl:"address"`
			TLSDisable  bool   `hcl:"tls_disable"`
			TLSCertFile string `hcl:"tls_cert_file"`
			TLSKeyFile  string `hcl:"tls_key_file"`
		}
		if err := decodeBlock("listener", it, &l, keys("type", "address", "tls_disable", "tls_cert_file", "tls_key_file")); err != nil {
			return err
		}
		if l.Address == "" {
			l.Address = "127.0.0.1:8100"
		}
		if _, _, err := net.SplitHostPort(l.Address); err != nil {
			return fmt.Errorf("config: listener address %q: %v", l.Address, err)
		}
		if !l.TLSDisable && (l.TLSCertFile == "" || l.TLSKeyFile == "") {
			return fmt.Errorf("config: listener %s: set tls_cert_file and tls_key_file, or tls_disable = true", l.Address)
		}
		c.Listeners = append(c.Listeners, ListenerConfig(l))
	}
	return nil
}

func parseAWS(c *Config, list *ast.ObjectList) error {
	items := list.Filter("aws_secrets_manager").Items
	if len(items) > 1 {
		return errors.New("config: only one aws_secrets_manager block is allowed")
	}
	if len(items) == 0 {
		return nil
	}
	var b struct {
		Port                  *int   `hcl:"port"`
		Address               string `hcl:"address"`
		TTLSeconds            *int   `hcl:"ttl_seconds"`
		CacheSize             *int   `hcl:"cache_size"`
		MaxConn               *int   `hcl:"max_conn"`
		Mount                 string `hcl:"mount"`
		IgnoreTransientErrors *bool  `hcl:"ignore_transient_errors"`
	}
	if err := decodeBlock("aws_secrets_manager", items[0], &b, keys("port", "address", "ttl_seconds", "cache_size", "max_conn", "mount", "ignore_transient_errors")); err != nil {
		return err
	}
	a := &AWSConfig{TTL: awsagent.DefaultTTL, CacheSize: awsagent.DefaultCacheSize,
		MaxConn: awsagent.DefaultMaxConn, Mount: strings.Trim(b.Mount, "/"), IgnoreTransientErrors: true}
	var err error
	if a.Address, err = awsAddress(b.Address, b.Port); err != nil {
		return err
	}
	if b.TTLSeconds != nil {
		if *b.TTLSeconds < 0 || *b.TTLSeconds > 3600 {
			return errors.New("config: aws_secrets_manager: ttl_seconds must be 0 (no cache) to 3600")
		}
		a.TTL = time.Duration(*b.TTLSeconds) * time.Second
	}
	for _, f := range []struct {
		name string
		src  *int
		dst  *int
	}{{"cache_size", b.CacheSize, &a.CacheSize}, {"max_conn", b.MaxConn, &a.MaxConn}} {
		if f.src == nil {
			continue
		}
		if *f.src < 1 {
			return fmt.Errorf("config: aws_secrets_manager: %s must be at least 1", f.name)
		}
		*f.dst = *f.src
	}
	if a.Mount == "" {
		a.Mount = awsagent.DefaultMount
	}
	if b.IgnoreTransientErrors != nil {
		a.IgnoreTransientErrors = *b.IgnoreTransientErrors
	}
	c.AWS = a
	return nil
}

// awsAddress is address when set, else 127.0.0.1:<port> (default 2773).
func awsAddress(address string, port *int) (string, error) {
	p := 2773
	if port != nil {
		p = *port
	}
	if p < 1 || p > 65535 {
		return "", fmt.Errorf("config: aws_secrets_manager: port %d is out of range", p)
	}
	if address == "" {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), nil
	}
	if _, _, err := net.SplitHostPort(address); err != nil {
		return "", fmt.Errorf("config: aws_secrets_manager: address %q: %v", address, err)
	}
	return address, nil
}

func parseAgentToken(c *Config, list *ast.ObjectList) error {
	items := list.Filter("agent_token").Items
	if len(items) > 1 {
		return errors.New("config: only one agent_token block is allowed")
	}
	if len(items) == 0 {
		return nil
	}
	var b struct {
		File string `hcl:"file"`
		Env  string `hcl:"env"`
	}
	if err := decodeBlock("agent_token", items[0], &b, keys("file", "env")); err != nil {
		return err
	}
	if (b.File == "") == (b.Env == "") {
		return errors.New("config: agent_token needs exactly one of file and env")
	}
	c.AgentToken = AgentTokenConfig(b)
	return nil
}

// duration parses a Go duration or a number of seconds; empty gives def.
func duration(name, s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if n, nerr := strconv.ParseInt(s, 10, 64); nerr == nil && n <= math.MaxInt64/int64(time.Second) {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("config: %s %q: want a positive duration such as 30s or 5m", name, s)
	}
	return d, nil
}

// parseTemplates reads template blocks (Vault Agent's shape) and
// template_config { static_secret_render_interval }.
func parseTemplates(c *Config, list *ast.ObjectList) error {
	for _, it := range list.Filter("template").Items {
		var t struct {
			Source         string   `hcl:"source"`
			Contents       string   `hcl:"contents"`
			Destination    string   `hcl:"destination"`
			Perms          string   `hcl:"perms"`
			User           string   `hcl:"user"`
			Group          string   `hcl:"group"`
			Command        []string `hcl:"command"`
			CommandTimeout string   `hcl:"command_timeout"`
		}
		if err := decodeBlock("template", it, &t, keys("source", "contents", "destination", "perms", "user", "group", "command", "command_timeout")); err != nil {
			return err
		}
		fc := template.FileConfig{Source: t.Source, Contents: t.Contents, Destination: t.Destination, User: t.User, Group: t.Group, Command: t.Command}
		if t.Perms != "" {
			m, err := strconv.ParseUint(t.Perms, 8, 32)
			if err != nil || m > 0o777 {
				return fmt.Errorf("config: template %s: perms %q: want an octal mode such as 0600", t.Destination, t.Perms)
			}
			fc.Perms = os.FileMode(m)
		}
		d, err := duration("template command_timeout", t.CommandTimeout, 30*time.Second)
		if err != nil {
			return err
		}
		fc.CommandTimeout = d
		if t.Destination == "" || (t.Source == "") == (t.Contents == "") {
			return errors.New("config: a template needs a destination and exactly one of source and contents")
		}
		c.Templates = append(c.Templates, fc)
	}
	c.TemplateInterval = 5 * time.Minute // Vault Agent's default for static secrets
	items := list.Filter("template_config").Items
	if len(items) > 1 {
		return errors.New("config: only one template_config block is allowed")
	}
	if len(items) == 1 {
		var tc struct {
			Interval string `hcl:"static_secret_render_interval"`
		}
		if err := decodeBlock("template_config", items[0], &tc, keys("static_secret_render_interval")); err != nil {
			return err
		}
		d, err := duration("template_config static_secret_render_interval", tc.Interval, c.TemplateInterval)
		if err != nil {
			return err
		}
		c.TemplateInterval = d
	}
	return nil
}

// ExecConfig is the exec block: the process the agent supervises.
type ExecConfig struct {
	Command []string
	// RestartOnSecretChanges is "always" (default: stop and start the
	// child with the new values) or "never".
	RestartOnSecretChanges string
	// RestartStopSignal stops the child before a restart (default SIGTERM).
	RestartStopSignal string
}

// parseExec reads env_template "NAME" { contents = "..." } blocks and the
// exec block (Vault Agent's process supervisor mode).
func parseExec(c *Config, list *ast.ObjectList) error {
	seen := map[string]bool{}
	for _, it := range list.Filter("env_template").Items {
		name, err := blockType("env_template", it)
		if err != nil {
			return err
		}
		var e struct {
			Contents string `hcl:"contents"`
		}
		if err := decodeBlock("env_template", it, &e, keys("contents")); err != nil {
			return err
		}
		if e.Contents == "" || seen[name] {
			return fmt.Errorf("config: env_template %q needs contents, once", name)
		}
		seen[name] = true
		c.EnvTemplates = append(c.EnvTemplates, envexec.Var{Name: name, Template: e.Contents})
	}
	items := list.Filter("exec").Items
	if len(items) > 1 {
		return errors.New("config: only one exec block is allowed")
	}
	if len(items) == 1 {
		var x ExecConfig
		var raw struct {
			Command []string `hcl:"command"`
			Restart string   `hcl:"restart_on_secret_changes"`
			Signal  string   `hcl:"restart_stop_signal"`
		}
		if err := decodeBlock("exec", items[0], &raw, keys("command", "restart_on_secret_changes", "restart_stop_signal")); err != nil {
			return err
		}
		x.Command, x.RestartOnSecretChanges, x.RestartStopSignal = raw.Command, raw.Restart, raw.Signal
		if x.RestartOnSecretChanges == "" {
			x.RestartOnSecretChanges = "always"
		}
		if x.RestartOnSecretChanges != "always" && x.RestartOnSecretChanges != "never" {
			return fmt.Errorf("config: exec restart_on_secret_changes %q: use \"always\" or \"never\"", x.RestartOnSecretChanges)
		}
		if len(x.Command) == 0 {
			return errors.New("config: exec needs a command")
		}
		c.Exec = &x
	}
	if len(c.EnvTemplates) > 0 && c.Exec == nil {
		c.Exec = &ExecConfig{RestartOnSecretChanges: "always"} // the command comes from "kinko agent exec -- cmd"
	}
	return nil
}
