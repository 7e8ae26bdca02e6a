package scan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kinko-dev/kinko/internal/scan/rules"
)

// ConfigFileName is the rules file looked for at the repository root.
const ConfigFileName = ".kinko-scan.yaml"

// DefaultMaxFileSize is the size above which files are skipped.
const DefaultMaxFileSize = 10 << 20

// maxConfigSize bounds a rules file.
const maxConfigSize = 1 << 20

// ErrInvalidConfig is wrapped by every error about a bad rules file.
var ErrInvalidConfig = errors.New("invalid scan configuration")

// Config is a rules file:
//
//	rules:                 # added to the built-in rules; an id that is
//	  - id: internal-token #   built in replaces that rule
//	    description: Internal service token
//	    regex: '(?P<secret>itk_[A-Za-z0-9]{32})'
//	    keywords: [itk_]   # the regex runs only on lines holding one
//	    entropy: 3.5       # optional least Shannon entropy of the secret
//	    key: internal_token
//	disabled_rules: [high-entropy-string]
//	allow:
//	  paths: ["vendor/**", "**/*_test.go", "fixtures/"]
//	  regexes: ['^AKIA.{12}TEST$']   # on the secret
//	  stopwords: [fixture, sample]   # substrings of the secret, any case
//	max_file_size: 10485760
type Config struct {
	Rules         []rules.Spec `yaml:"rules,omitempty" json:"rules,omitempty"`
	DisabledRules []string     `yaml:"disabled_rules,omitempty" json:"disabled_rules,omitempty"`
	Allow         AllowConfig  `yaml:"allow,omitempty" json:"allow,omitempty"`
	MaxFileSize   int64        `yaml:"max_file_size,omitempty" json:"max_file_size,omitempty"`
}

// AllowConfig is the allow list of a rules file.
type AllowConfig struct {
	Paths     []string `yaml:"paths,omitempty" json:"paths,omitempty"`
	Regexes   []string `yaml:"regexes,omitempty" json:"regexes,omitempty"`
	Stopwords []string `yaml:"stopwords,omitempty" json:"stopwords,omitempty"`
}

// DefaultAllowPaths are never scanned: lockfiles, whose hashes look random.
var DefaultAllowPaths = []string{
	"go.sum", "go.work.sum", "*.lock", "package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml",
	"yarn.lock", "Cargo.lock", "poetry.lock", "Pipfile.lock", "Gemfile.lock", "composer.lock",
}

// ParseConfig parses and checks a rules file (YAML). Unknown fields are
// errors, so a typo does not silently disable a setting.
func ParseConfig(data []byte) (*Config, error) {
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("%w: the file is larger than %d bytes", ErrInvalidConfig, maxConfigSize)
	}
	cfg := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: the file must hold one YAML document", ErrInvalidConfig)
	}
	if _, err := cfg.compile(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// LoadConfig reads and parses a rules file.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// compiled is a Config ready to scan with.
type compiled struct {
	matcher *rules.Matcher
	paths   []*glob
	maxSize int64
}

func (c *Config) compile() (*compiled, error) {
	if c.MaxFileSize < 0 {
		return nil, fmt.Errorf("%w: max_file_size must not be negative", ErrInvalidConfig)
	}
	rs, err := rules.Build(c.Rules, c.DisabledRules)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	var allow rules.Allow
	for _, s := range c.Allow.Regexes {
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("%w: allow.regexes %q: %v", ErrInvalidConfig, s, err)
		}
		allow.Regexes = append(allow.Regexes, re)
	}
	for _, w := range c.Allow.Stopwords {
		if strings.TrimSpace(w) == "" {
			return nil, fmt.Errorf("%w: allow.stopwords must not hold empty words", ErrInvalidConfig)
		}
		allow.Stopwords = append(allow.Stopwords, w)
	}
	m, err := rules.NewMatcher(rs, allow)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	out := &compiled{matcher: m, maxSize: c.MaxFileSize}
	for _, p := range append(append([]string(nil), DefaultAllowPaths...), c.Allow.Paths...) {
		g, err := compileGlob(p)
		if err != nil {
			return nil, fmt.Errorf("%w: allow.paths %q: %v", ErrInvalidConfig, p, err)
		}
		out.paths = append(out.paths, g)
	}
	return out, nil
}

// allowedPath reports whether a slash-separated path (relative to the
// repository root) is on the allow list.
func (c *compiled) allowedPath(p string) bool {
	for _, g := range c.paths {
		if g.match(p) {
			return true
		}
	}
	return false
}
