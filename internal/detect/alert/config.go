package alert

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/detect"
	"github.com/kinko-dev/kinko/internal/logical"
)

// Sink types.
const (
	TypeWebhook = "webhook"
	TypeSMTP    = "smtp"
	TypeLog     = "log"
)

// Defaults and limits applied by ParseConfig and Validate.
const (
	DefaultMaxAttempts    = 5
	MaxMaxAttempts        = 10
	DefaultWebhookTimeout = 10 * time.Second
	DefaultSMTPPort       = 25
	DefaultSMTPTimeout    = 30 * time.Second
	DefaultHeloName       = "localhost"
	maxTimeout            = 5 * time.Minute
	minSecretLen          = 16
	maxSecretLen          = 1024
	maxURLLen             = 2048
	maxRecipients         = 50
)

// Config describes one sink. Only the part matching Type is used.
type Config struct {
	// Name identifies the sink (in metrics and logs); New uses Type when
	// it is empty. The API layer usually sets it from the request path.
	Name string
	Type string
	// MinSeverity, when above low, limits the sink to findings of at
	// least that severity.
	MinSeverity detect.Severity
	Webhook     WebhookConfig
	SMTP        SMTPConfig
}

// WebhookConfig configures a webhook sink.
type WebhookConfig struct {
	URL string // http or https, no user info
	// Secret keys the HMAC-SHA256 body signature (at least 16 bytes).
	Secret      string
	MaxAttempts int           // 1..10, default 5
	Timeout     time.Duration // per attempt, default 10s, at most 5m
}

// SMTPConfig configures an email sink.
type SMTPConfig struct {
	Host     string // host name or IP address, without port
	Port     int    // default 25
	From     string // RFC 5322 address
	To       []string
	Username string // with Password: PLAIN auth, only over TLS or to localhost
	Password string
	// RequireTLS refuses to send when the server does not offer STARTTLS.
	RequireTLS bool
	// ImplicitTLS speaks TLS from the first byte (port 465 style).
	ImplicitTLS bool
	HeloName    string        // default "localhost"
	Timeout     time.Duration // whole session, default 30s, at most 5m
}

var (
	commonKeys  = []string{"type", "name", "min_severity"}
	webhookKeys = []string{"url", "secret", "max_attempts", "timeout"}
	smtpKeys    = []string{"host", "port", "from", "to", "username", "password",
		"require_tls", "implicit_tls", "helo_name", "timeout"}
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	heloRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$|^\[[0-9A-Fa-f:.]{2,45}\]$`)
)

// Fields declares every configuration key with its type and description,
// for the API path that manages sinks (help text and OpenAPI). Which keys
// apply depends on "type"; ParseConfig enforces that.
func Fields() map[string]*logical.FieldSchema {
	s := func(t logical.FieldType, d string) *logical.FieldSchema {
		return &logical.FieldSchema{Type: t, Description: d}
	}
	return map[string]*logical.FieldSchema{
		"type": {Type: logical.TypeString, Required: true, Description: "Sink type.",
			AllowedValues: []string{TypeWebhook, TypeSMTP, TypeLog}},
		"name": s(logical.TypeString, "Sink name (letters, digits, '_', '.', '-')."),
		"min_severity": {Type: logical.TypeString, Description: "Send only findings of at least this severity.",
			AllowedValues: []string{"low", "medium", "high", "critical"}},
		"url":          s(logical.TypeString, "webhook: http(s) URL to POST findings to."),
		"secret":       s(logical.TypeString, "webhook: HMAC-SHA256 key for X-Kinko-Signature (16+ bytes). Never read back."),
		"max_attempts": s(logical.TypeInt, "webhook: delivery attempts, 1-10 (default 5)."),
		"timeout":      s(logical.TypeDurationSecond, "Per-attempt (webhook, default 10s) or per-session (smtp, default 30s) timeout."),
		"host":         s(logical.TypeString, "smtp: server host name or IP."),
		"port":         s(logical.TypeInt, "smtp: server port (default 25)."),
		"from":         s(logical.TypeString, "smtp: sender address."),
		"to":           s(logical.TypeCommaStringSlice, "smtp: recipient addresses."),
		"username":     s(logical.TypeString, "smtp: user for PLAIN auth."),
		"password":     s(logical.TypeString, "smtp: password for PLAIN auth. Never read back."),
		"require_tls":  s(logical.TypeBool, "smtp: refuse servers without STARTTLS."),
		"implicit_tls": s(logical.TypeBool, "smtp: connect with TLS from the start (port 465)."),
		"helo_name":    s(logical.TypeString, "smtp: name sent in EHLO (default localhost)."),
	}
}

// ParseConfig decodes and validates a sink configuration from a map as an
// API body decodes to. Keys that do not apply to the type are refused.
// Errors are logical.ErrInvalidRequest and never quote secrets.
func ParseConfig(raw map[string]any) (Config, error) {
	fd := &logical.FieldData{Raw: raw, Schema: Fields()}
	if unknown := fd.Unknown(); len(unknown) > 0 {
		return Config{}, logical.InvalidRequest("unknown field %q", unknown[0])
	}
	var c Config
	var err error
	if c.Type, err = getString(fd, "type"); err != nil {
		return Config{}, err
	}
	allowed := slices.Clone(commonKeys)
	switch c.Type {
	case TypeWebhook:
		allowed = append(allowed, webhookKeys...)
	case TypeSMTP:
		allowed = append(allowed, smtpKeys...)
	case TypeLog:
	case "":
		return Config{}, logical.InvalidRequest("missing required field \"type\"")
	default:
		return Config{}, logical.InvalidRequest("unknown sink type %q: must be one of webhook, smtp, log", truncate(c.Type, 32))
	}
	if err := checkApplicable(raw, allowed, c.Type); err != nil {
		return Config{}, err
	}
	if err := decodeFields(fd, &c); err != nil {
		return Config{}, err
	}
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func checkApplicable(raw map[string]any, allowed []string, typ string) error {
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			return logical.InvalidRequest("field %q does not apply to sink type %q", k, typ)
		}
	}
	return nil
}

// decodeFields copies every sent field into c, checking fields in a fixed
// order so the first error reported is always the same.
func decodeFields(fd *logical.FieldData, c *Config) error {
	var sev string
	strs := []struct {
		k   string
		dst *string
	}{
		{"name", &c.Name}, {"min_severity", &sev}, {"url", &c.Webhook.URL}, {"secret", &c.Webhook.Secret},
		{"host", &c.SMTP.Host}, {"from", &c.SMTP.From}, {"username", &c.SMTP.Username},
		{"password", &c.SMTP.Password}, {"helo_name", &c.SMTP.HeloName},
	}
	for _, f := range strs {
		v, err := getString(fd, f.k)
		if err != nil {
			return err
		}
		*f.dst = v
	}
	c.MinSeverity = detect.Severity(sev)
	for _, f := range []struct {
		k   string
		dst *int
	}{{"max_attempts", &c.Webhook.MaxAttempts}, {"port", &c.SMTP.Port}} {
		if v, ok, err := fd.GetOk(f.k); err != nil {
			return err
		} else if ok {
			if *f.dst = v.(int); *f.dst <= 0 {
				return logical.InvalidRequest("%s must be positive", f.k)
			}
		}
	}
	for _, f := range []struct {
		k   string
		dst *bool
	}{{"require_tls", &c.SMTP.RequireTLS}, {"implicit_tls", &c.SMTP.ImplicitTLS}} {
		if v, ok, err := fd.GetOk(f.k); err != nil {
			return err
		} else if ok {
			*f.dst = v.(bool)
		}
	}
	return decodeTimeoutAndTo(fd, c)
}

func decodeTimeoutAndTo(fd *logical.FieldData, c *Config) error {
	if v, ok, err := fd.GetOk("timeout"); err != nil {
		return err
	} else if ok {
		if v.(time.Duration) <= 0 {
			return logical.InvalidRequest("timeout must be positive")
		}
		c.Webhook.Timeout, c.SMTP.Timeout = v.(time.Duration), v.(time.Duration)
	}
	if v, ok, err := fd.GetOk("to"); err != nil {
		return err
	} else if ok {
		c.SMTP.To = v.([]string)
	}
	return nil
}

func getString(fd *logical.FieldData, k string) (string, error) {
	v, ok, err := fd.GetOk(k)
	if err != nil || !ok {
		return "", err
	}
	return v.(string), nil
}

// withDefaults fills unset values of the part matching Type.
func (c Config) withDefaults() Config {
	switch c.Type {
	case TypeWebhook:
		c.SMTP = SMTPConfig{}
		c.Webhook = c.Webhook.withDefaults()
	case TypeSMTP:
		c.Webhook = WebhookConfig{}
		c.SMTP = c.SMTP.withDefaults()
	case TypeLog:
		c.Webhook, c.SMTP = WebhookConfig{}, SMTPConfig{}
	}
	return c
}

func (w WebhookConfig) withDefaults() WebhookConfig {
	if w.MaxAttempts == 0 {
		w.MaxAttempts = DefaultMaxAttempts
	}
	if w.Timeout == 0 {
		w.Timeout = DefaultWebhookTimeout
	}
	return w
}

func (s SMTPConfig) withDefaults() SMTPConfig {
	if s.Port == 0 {
		s.Port = DefaultSMTPPort
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultSMTPTimeout
	}
	if s.HeloName == "" {
		s.HeloName = DefaultHeloName
	}
	return s
}

func (c Config) sinkName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.Type
}

// Validate checks c with defaults applied to unset values.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.Name != "" && !nameRE.MatchString(c.Name) {
		return logical.InvalidRequest("invalid name: use up to 64 letters, digits, '_', '.' or '-'")
	}
	if c.MinSeverity != "" && severityRank(c.MinSeverity) == 0 {
		return logical.InvalidRequest("invalid min_severity: must be one of low, medium, high, critical")
	}
	switch c.Type {
	case TypeWebhook:
		return c.Webhook.Validate()
	case TypeSMTP:
		return c.SMTP.Validate()
	case TypeLog:
		return nil
	case "":
		return logical.InvalidRequest("missing required field \"type\"")
	}
	return logical.InvalidRequest("unknown sink type %q: must be one of webhook, smtp, log", truncate(c.Type, 32))
}

// Validate checks a webhook configuration with defaults applied.
func (w WebhookConfig) Validate() error {
	w = w.withDefaults()
	if _, err := parseWebhookURL(w.URL); err != nil {
		return err
	}
	if len(w.Secret) < minSecretLen || len(w.Secret) > maxSecretLen {
		return logical.InvalidRequest("secret must be %d to %d bytes long", minSecretLen, maxSecretLen)
	}
	if w.MaxAttempts < 1 || w.MaxAttempts > MaxMaxAttempts {
		return logical.InvalidRequest("max_attempts must be between 1 and %d", MaxMaxAttempts)
	}
	if w.Timeout < 0 || w.Timeout > maxTimeout {
		return logical.InvalidRequest("timeout must be positive and at most %s", maxTimeout)
	}
	return nil
}

func parseWebhookURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, logical.InvalidRequest("missing required field \"url\"")
	}
	if len(s) > maxURLLen {
		return nil, logical.InvalidRequest("url is longer than %d bytes", maxURLLen)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, logical.InvalidRequest("url does not parse")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, logical.InvalidRequest("url must use http or https")
	}
	if u.Hostname() == "" {
		return nil, logical.InvalidRequest("url must name a host")
	}
	if u.User != nil {
		return nil, logical.InvalidRequest("url must not carry credentials: the body is signed with secret instead")
	}
	return u, nil
}

// Validate checks an SMTP configuration with defaults applied.
func (s SMTPConfig) Validate() error {
	s = s.withDefaults()
	if s.Host == "" {
		return logical.InvalidRequest("missing required field \"host\"")
	}
	if !validHost(s.Host) {
		return logical.InvalidRequest("host must be a host name or IP address without a port")
	}
	if s.Port < 1 || s.Port > 65535 {
		return logical.InvalidRequest("port must be between 1 and 65535")
	}
	if _, err := parseAddress("from", s.From); err != nil {
		return err
	}
	if len(s.To) == 0 {
		return logical.InvalidRequest("missing required field \"to\"")
	}
	if len(s.To) > maxRecipients {
		return logical.InvalidRequest("to lists more than %d recipients", maxRecipients)
	}
	for _, t := range s.To {
		if _, err := parseAddress("to", t); err != nil {
			return err
		}
	}
	if (s.Username == "") != (s.Password == "") {
		return logical.InvalidRequest("username and password must be set together")
	}
	if clean(s.Username) != s.Username || len(s.Username) > 256 || len(s.Password) > 1024 {
		return logical.InvalidRequest("username or password is malformed")
	}
	if !heloRE.MatchString(s.HeloName) {
		return logical.InvalidRequest("helo_name must be a host name or an address literal")
	}
	if s.Timeout < 0 || s.Timeout > maxTimeout {
		return logical.InvalidRequest("timeout must be positive and at most %s", maxTimeout)
	}
	return nil
}

func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// parseAddress parses one mailbox; it refuses anything with control
// characters, which could smuggle SMTP commands or headers.
func parseAddress(field, s string) (*mail.Address, error) {
	if s == "" {
		return nil, logical.InvalidRequest("missing required field %q", field)
	}
	if clean(s) != s || len(s) > 320 {
		return nil, logical.InvalidRequest("%s address is malformed", field)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || strings.ContainsAny(a.Address, "<>\r\n ") {
		return nil, logical.InvalidRequest("%s address %q does not parse", field, truncate(s, 64))
	}
	return a, nil
}

// Public returns the configuration as it may be read back: every setting
// except the webhook secret and the SMTP password. ParseConfig accepts the
// result once those are added back.
func (c Config) Public() map[string]any {
	c = c.withDefaults()
	m := map[string]any{"type": c.Type}
	if c.Name != "" {
		m["name"] = c.Name
	}
	if c.MinSeverity != "" {
		m["min_severity"] = string(c.MinSeverity)
	}
	switch c.Type {
	case TypeWebhook:
		m["url"] = c.Webhook.URL
		m["max_attempts"] = c.Webhook.MaxAttempts
		m["timeout"] = durationString(c.Webhook.Timeout)
	case TypeSMTP:
		s := c.SMTP
		m["host"], m["port"], m["from"] = s.Host, s.Port, s.From
		m["to"] = slices.Clone(s.To)
		m["require_tls"], m["implicit_tls"] = s.RequireTLS, s.ImplicitTLS
		m["helo_name"] = s.HeloName
		m["timeout"] = durationString(s.Timeout)
		if s.Username != "" {
			m["username"] = s.Username
		}
	}
	return m
}

// durationString renders d so logical.ParseDuration reads it back exactly.
func durationString(d time.Duration) string { return fmt.Sprint(d) }
