package alert

import (
	"context"
	"log/slog"

	"github.com/kinko-dev/kinko/internal/detect"
)

// LogMessage is the message of the record a log sink writes.
const LogMessage = "detection finding"

// Log writes findings to a slog.Logger. Build it with NewLog.
type Log struct {
	name   string
	logger *slog.Logger
}

var _ Sink = (*Log)(nil)

// NewLog returns a log sink named name writing to logger (slog.Default()
// when nil).
func NewLog(name string, logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.Default()
	}
	return &Log{name: name, logger: logger}
}

// Name implements Sink.
func (l *Log) Name() string { return l.name }

// Send implements Sink: one record, at Error for severity high and above,
// at Warn otherwise, with the finding's fields as attributes.
func (l *Log) Send(ctx context.Context, f detect.Finding) error {
	level := slog.LevelWarn
	if severityRank(f.Severity) >= severityRank(detect.SeverityHigh) {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("finding_id", f.ID),
		slog.String("rule", f.Rule),
		slog.String("severity", string(f.Severity)),
		slog.Time("finding_time", f.Time),
		slog.String("summary", f.Summary),
		slog.Group("subject",
			slog.String("accessor", f.Subject.Accessor),
			slog.String("entity_id", f.Subject.EntityID),
			slog.String("remote_address", f.Subject.RemoteAddr),
			slog.String("path", f.Subject.Path)),
		slog.Any("evidence", f.Evidence),
	}
	if len(f.Actions) > 0 {
		attrs = append(attrs, slog.Any("actions", f.Actions))
	}
	l.logger.LogAttrs(ctx, level, LogMessage, attrs...)
	return nil
}
