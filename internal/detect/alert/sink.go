package alert

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"unicode"

	"github.com/kinko-dev/kinko/internal/detect"
	"github.com/kinko-dev/kinko/internal/logical"
)

// Sink delivers findings somewhere. Send returns nil once the finding is
// delivered; an error means it was not (after any retries the sink makes).
// Errors never contain secret material.
type Sink interface {
	Name() string
	Send(ctx context.Context, f detect.Finding) error
}

// Filter is an optional capability of a Sink: a Dispatcher gives a sink
// that implements it only the findings it accepts.
type Filter interface {
	Accepts(f detect.Finding) bool
}

// Option adjusts what New builds.
type Option func(*options)

type options struct {
	logger *slog.Logger
	client *http.Client
}

// WithLogger sets the logger a log sink writes to (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithHTTPClient sets the client a webhook sink posts with. Its
// CheckRedirect is replaced: redirects are never followed.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// New builds the sink cfg describes. cfg is validated first; a sink with a
// MinSeverity above low also implements Filter.
func New(cfg Config, opts ...Option) (Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	name := cfg.sinkName()
	var s Sink
	switch cfg.Type {
	case TypeWebhook:
		w, err := NewWebhook(name, cfg.Webhook)
		if err != nil {
			return nil, err
		}
		if o.client != nil {
			w.setClient(o.client)
		}
		s = w
	case TypeSMTP:
		m, err := NewSMTP(name, cfg.SMTP)
		if err != nil {
			return nil, err
		}
		s = m
	case TypeLog:
		s = NewLog(name, o.logger)
	default:
		return nil, logical.InvalidRequest("unknown sink type %q", cfg.Type)
	}
	if severityRank(cfg.MinSeverity) > severityRank(detect.SeverityLow) {
		s = &filtered{Sink: s, min: cfg.MinSeverity}
	}
	return s, nil
}

// filtered passes on only findings at or above a severity.
type filtered struct {
	Sink
	min detect.Severity
}

// Accepts implements Filter. A finding of unknown severity is accepted: an
// alert that cannot be ranked is better sent than lost.
func (f *filtered) Accepts(fd detect.Finding) bool {
	r := severityRank(fd.Severity)
	return r == 0 || r >= severityRank(f.min)
}

var _ Filter = (*filtered)(nil)

// severityRank orders severities from 1 (low) to 4 (critical); 0 means
// unknown.
func severityRank(s detect.Severity) int {
	switch s {
	case detect.SeverityLow:
		return 1
	case detect.SeverityMedium:
		return 2
	case detect.SeverityHigh:
		return 3
	case detect.SeverityCritical:
		return 4
	}
	return 0
}

// clean replaces control characters (CR and LF among them) with spaces, so
// the result is safe on one header or body line.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// truncate shortens s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}
