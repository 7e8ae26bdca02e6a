package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/ast"

	"github.com/kinko-dev/kinko/internal/audit"
	"github.com/kinko-dev/kinko/internal/logical"
)

// Config is the server configuration file, in Vault's HCL shape:
//
//	storage "bolt" { path = "/var/lib/kinko" }
//	listener "tcp" { address = "0.0.0.0:8200" tls_cert_file = "..." tls_key_file = "..." }
//	api_addr = "https://kinko.example.com:8200"
//	ui = true
type Config struct {
	Storage         StorageConfig
	Listeners       []ListenerConfig
	APIAddr         string
	UI              bool
	LogLevel        string
	LogFormat       string
	DefaultLeaseTTL time.Duration
	MaxLeaseTTL     time.Duration
	// AuditDir is the directory below which file audit devices enabled
	// through the API may write; AuditDevices are declared here:
	//
	//	audit "file" "file/" { description = "..." options { file_path = "/var/log/kinko/audit.log" } }
	AuditDir     string
	AuditDevices []audit.Config
}

// StorageConfig names a storage backend and its options.
type StorageConfig struct {
	Type    string
	Options map[string]string
}

// ListenerConfig is one `listener "tcp"` block.
type ListenerConfig struct {
	Type        string
	Address     string `hcl:"address"`
	TLSCertFile string `hcl:"tls_cert_file"`
	TLSKeyFile  string `hcl:"tls_key_file"`
	TLSDisable  bool   `hcl:"tls_disable"`
	// TLSDisableClientCerts stops the listener asking for client
	// certificates (the cert auth method then cannot log anyone in).
	TLSDisableClientCerts bool    `hcl:"tls_disable_client_certs"`
	MaxRequestSize        int64   `hcl:"max_request_size"`
	RateLimit             float64 `hcl:"rate_limit"`
	RateBurst             int     `hcl:"rate_burst"`
}

type topLevel struct {
	APIAddr         string `hcl:"api_addr"`
	UI              bool   `hcl:"ui"`
	LogLevel        string `hcl:"log_level"`
	LogFormat       string `hcl:"log_format"`
	DefaultLeaseTTL string `hcl:"default_lease_ttl"`
	MaxLeaseTTL     string `hcl:"max_lease_ttl"`
	AuditDir        string `hcl:"audit_dir"`
}

var knownTop = map[string]bool{"storage": true, "listener": true, "api_addr": true, "ui": true, "log_level": true,
	"log_format": true, "default_lease_ttl": true, "max_lease_ttl": true, "disable_mlock": true, "cluster_addr": true,
	"audit_dir": true, "audit": true}

// LoadConfig reads and parses a config file.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(string(b))
}

// ParseConfig parses config text (HCL or JSON).
func ParseConfig(text string) (*Config, error) {
	root, err := hcl.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("config: %v", err)
	}
	list, ok := root.Node.(*ast.ObjectList)
	if !ok {
		return nil, fmt.Errorf("config: the top level must be an object")
	}
	for _, item := range list.Items {
		if k := item.Keys[0].Token.Value().(string); !knownTop[k] {
			return nil, fmt.Errorf("config: unknown key %q at line %d", k, item.Pos().Line)
		}
	}
	var top topLevel
	if err := hcl.DecodeObject(&top, list); err != nil {
		return nil, fmt.Errorf("config: %v", err)
	}
	c := &Config{APIAddr: top.APIAddr, UI: top.UI, LogLevel: top.LogLevel, LogFormat: top.LogFormat, AuditDir: top.AuditDir}
	if c.AuditDir != "" && !filepath.IsAbs(c.AuditDir) {
		return nil, fmt.Errorf("config: audit_dir must be an absolute path")
	}
	if c.DefaultLeaseTTL, err = parseTTL("default_lease_ttl", top.DefaultLeaseTTL); err != nil {
		return nil, err
	}
	if c.MaxLeaseTTL, err = parseTTL("max_lease_ttl", top.MaxLeaseTTL); err != nil {
		return nil, err
	}
	if err := parseStorage(c, list.Filter("storage")); err != nil {
		return nil, err
	}
	if err := parseListeners(c, list.Filter("listener")); err != nil {
		return nil, err
	}
	if err := parseAudit(c, list.Filter("audit")); err != nil {
		return nil, err
	}
	return c, nil
}

func parseTTL(name, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := logical.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("config: %s: %v", name, err)
	}
	return d, nil
}

func parseStorage(c *Config, list *ast.ObjectList) error {
	if len(list.Items) != 1 {
		return fmt.Errorf("config: exactly one storage block is required, found %d", len(list.Items))
	}
	item := list.Items[0]
	if len(item.Keys) != 1 {
		return fmt.Errorf("config: storage block needs a type, e.g. storage \"bolt\" { path = \"...\" }")
	}
	c.Storage.Type = item.Keys[0].Token.Value().(string)
	var m map[string]string
	if err := hcl.DecodeObject(&m, item.Val); err != nil {
		return fmt.Errorf("config: storage %q: %v", c.Storage.Type, err)
	}
	c.Storage.Options = m
	return nil
}

func parseListeners(c *Config, list *ast.ObjectList) error {
	if len(list.Items) == 0 {
		return fmt.Errorf("config: at least one listener block is required")
	}
	for _, item := range list.Items {
		if len(item.Keys) != 1 {
			return fmt.Errorf("config: listener block needs a type: listener \"tcp\" { ... }")
		}
		var l ListenerConfig
		if err := hcl.DecodeObject(&l, item.Val); err != nil {
			return fmt.Errorf("config: listener: %v", err)
		}
		l.Type = item.Keys[0].Token.Value().(string)
		if l.Type != "tcp" {
			return fmt.Errorf("config: listener type %q is not supported (use \"tcp\")", l.Type)
		}
		if l.Address == "" {
			l.Address = "127.0.0.1:8200"
		}
		if !l.TLSDisable && (l.TLSCertFile == "" || l.TLSKeyFile == "") {
			return fmt.Errorf("config: listener %s: TLS is required: set tls_cert_file and tls_key_file, or tls_disable = true", l.Address)
		}
		c.Listeners = append(c.Listeners, l)
	}
	return nil
}

// parseAudit reads `audit "<type>" "<path>" { description, local, options {} }`
// blocks (OpenBao's declarative audit devices).
func parseAudit(c *Config, list *ast.ObjectList) error {
	seen := map[string]bool{}
	for _, item := range list.Items {
		if len(item.Keys) != 2 {
			return fmt.Errorf("config: line %d: an audit block needs a type and a path: audit \"file\" \"file/\" { ... }", item.Pos().Line)
		}
		var body struct {
			Description string            `hcl:"description"`
			Local       bool              `hcl:"local"`
			Options     map[string]string `hcl:"options"`
		}
		if err := hcl.DecodeObject(&body, item.Val); err != nil {
			return fmt.Errorf("config: audit block at line %d: %v", item.Pos().Line, err)
		}
		d := audit.Config{Type: item.Keys[0].Token.Value().(string), Path: strings.Trim(item.Keys[1].Token.Value().(string), "/") + "/",
			Description: body.Description, Local: body.Local, Options: body.Options, Declared: true}
		if d.Path == "/" || seen[d.Path] {
			return fmt.Errorf("config: line %d: audit device path %q is empty or used twice", item.Pos().Line, d.Path)
		}
		seen[d.Path] = true
		if d.Options == nil {
			d.Options = map[string]string{}
		}
		c.AuditDevices = append(c.AuditDevices, d)
	}
	return nil
}
