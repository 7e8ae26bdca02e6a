// Package sarif renders scan findings as a SARIF 2.1.0 log, the format
// GitHub code scanning (and most CI security dashboards) import: one run
// whose tool.driver.rules lists every enabled rule and whose results point
// at file, line and column, with the finding's fingerprint as a partial
// fingerprint so alerts survive line moves. Secrets are redacted unless
// the caller asks otherwise.
package sarif

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/kinko-dev/kinko/internal/scan"
	"github.com/kinko-dev/kinko/internal/scan/rules"
)

// Schema is the SARIF 2.1.0 JSON schema URI.
const Schema = "https://json.schemastore.org/sarif-2.1.0.json"

// FingerprintKey names the partial fingerprint kinko sets.
const FingerprintKey = "kinkoSecretFingerprint/v1"

// Log is a SARIF log (the parts kinko writes).
type Log struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []Run  `json:"runs"`
}

// Run is one tool run.
type Run struct {
	Tool       Tool     `json:"tool"`
	ColumnKind string   `json:"columnKind"`
	Results    []Result `json:"results"`
}

// Tool describes kinko scan and its rules.
type Tool struct {
	Driver Driver `json:"driver"`
}

// Driver is the tool's component.
type Driver struct {
	Name           string `json:"name"`
	InformationURI string `json:"informationUri,omitempty"`
	Version        string `json:"version,omitempty"`
	Rules          []Rule `json:"rules"`
}

// Rule is a reportingDescriptor.
type Rule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     Message        `json:"shortDescription"`
	FullDescription      Message        `json:"fullDescription"`
	Help                 Message        `json:"help"`
	DefaultConfiguration Configuration  `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties,omitempty"`
}

// Configuration is a reportingConfiguration.
type Configuration struct {
	Level string `json:"level"`
}

// Message is a SARIF message.
type Message struct {
	Text string `json:"text"`
}

// Result is one finding.
type Result struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             Message           `json:"message"`
	Locations           []Location        `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

// Location is a result location.
type Location struct {
	PhysicalLocation PhysicalLocation `json:"physicalLocation"`
}

// PhysicalLocation is a file region.
type PhysicalLocation struct {
	ArtifactLocation ArtifactLocation `json:"artifactLocation"`
	Region           Region           `json:"region"`
}

// ArtifactLocation names the file.
type ArtifactLocation struct {
	URI string `json:"uri"`
}

// Region is where in the file.
type Region struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
	EndLine     int `json:"endLine,omitempty"`
}

// Build makes the log for findings made with the given rules.
func Build(fs []scan.Finding, rs []*rules.Rule, version string, show bool) *Log {
	driver := Driver{Name: "kinko scan", InformationURI: "https://github.com/kinko-dev/kinko", Version: version, Rules: []Rule{}}
	index := map[string]int{}
	for _, r := range rs {
		index[r.ID()] = len(driver.Rules)
		desc := r.Description
		if desc == "" {
			desc = "Secret matching rule " + r.ID()
		}
		driver.Rules = append(driver.Rules, Rule{
			ID: r.ID(), Name: ruleName(r.ID()),
			ShortDescription:     Message{Text: desc},
			FullDescription:      Message{Text: desc + " hard-coded in the source."},
			Help:                 Message{Text: "Move the secret into kinko (kinko scan --vault PATH --rewrite), rotate it, and remove it from the history."},
			DefaultConfiguration: Configuration{Level: "error"},
			Properties:           map[string]any{"tags": []string{"security", "secret"}, "security-severity": "8.0"},
		})
	}
	run := Run{Tool: Tool{Driver: driver}, ColumnKind: "unicodeCodePoints", Results: []Result{}}
	for _, s := range scan.Show(fs, show) {
		res := Result{
			RuleID: s.RuleID, RuleIndex: index[s.RuleID], Level: "error",
			Message: Message{Text: fmt.Sprintf("%s: %s", cmpOr(s.Description, s.RuleID), s.Secret)},
			Locations: []Location{{PhysicalLocation: PhysicalLocation{
				ArtifactLocation: ArtifactLocation{URI: URI(cmpOr(s.Rel, s.File))},
				Region:           Region{StartLine: s.Line, StartColumn: s.Column, EndLine: s.EndLine},
			}}},
			PartialFingerprints: map[string]string{FingerprintKey: s.Fingerprint},
		}
		if s.Commit != "" {
			res.Properties = map[string]any{"commit": s.Commit, "author": s.Author, "email": s.Email, "date": s.Date}
		}
		run.Results = append(run.Results, res)
	}
	return &Log{Schema: Schema, Version: "2.1.0", Runs: []Run{run}}
}

// Write writes the log as indented JSON.
func Write(w io.Writer, l *Log) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(l)
}

// URI turns a file path into a SARIF artifact URI: relative paths stay
// relative (to the repository root, as code scanning wants), with "/"
// separators and percent-escapes; absolute paths become file URIs.
func URI(p string) string {
	p = filepath.ToSlash(filepath.Clean(p))
	if strings.HasPrefix(p, "/") {
		return (&url.URL{Scheme: "file", Path: p}).String()
	}
	return (&url.URL{Path: strings.TrimPrefix(p, "./")}).String()
}

// ruleName is a rule ID in PascalCase, as SARIF names rules.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
