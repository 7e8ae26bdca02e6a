package alert

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/detect"
)

// maxEvidenceLines caps the audit ids listed in one email.
const maxEvidenceLines = 50

// SMTP emails findings through an SMTP server. Build it with NewSMTP.
type SMTP struct {
	name string
	conf SMTPConfig
	from *mail.Address
	to   []*mail.Address

	// Test hooks: the clock and the roots that verify the server's
	// certificate (nil: the system roots).
	now     func() time.Time
	rootCAs *x509.CertPool
}

var _ Sink = (*SMTP)(nil)

// NewSMTP validates c and returns an email sink named name.
func NewSMTP(name string, c SMTPConfig) (*SMTP, error) {
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	s := &SMTP{name: name, conf: c, now: time.Now}
	s.from, _ = parseAddress("from", c.From)
	for _, t := range c.To {
		a, _ := parseAddress("to", t)
		s.to = append(s.to, a)
	}
	return s, nil
}

// Name implements Sink.
func (s *SMTP) Name() string { return s.name }

// Send implements Sink: one SMTP session delivering one message to every
// recipient.
func (s *SMTP) Send(ctx context.Context, f detect.Finding) error {
	msg := s.message(f)
	c, stop, err := s.open(ctx)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return fmt.Errorf("smtp %s: %w", s.name, err)
	}
	defer stop()
	defer c.Close()
	if err := s.deliver(c, msg); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return fmt.Errorf("smtp %s: %w", s.name, err)
	}
	return nil
}

// open dials, greets, secures and authenticates a session. The
// connection is closed as soon as ctx ends, which unblocks any exchange.
func (s *SMTP) open(ctx context.Context) (*smtp.Client, func() bool, error) {
	deadline := time.Now().Add(s.conf.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	addr := net.JoinHostPort(s.conf.Host, strconv.Itoa(s.conf.Port))
	dialer := &net.Dialer{Deadline: deadline}
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	fail := func(err error) (*smtp.Client, func() bool, error) {
		stop()
		_ = conn.Close()
		return nil, nil, err
	}
	if s.conf.ImplicitTLS {
		tc := tls.Client(conn, s.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(fmt.Errorf("tls: %w", err))
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.conf.Host)
	if err != nil {
		return fail(err)
	}
	if err := s.secure(c); err != nil {
		return fail(err)
	}
	return c, stop, nil
}

// secure sends EHLO, upgrades with STARTTLS when offered and logs in.
func (s *SMTP) secure(c *smtp.Client) error {
	if err := c.Hello(s.conf.HeloName); err != nil {
		return err
	}
	if !s.conf.ImplicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tlsConfig()); err != nil {
				return fmt.Errorf("starttls: %w", err)
			}
		} else if s.conf.RequireTLS {
			return errors.New("server does not offer STARTTLS and require_tls is set")
		}
	}
	if s.conf.Username == "" {
		return nil
	}
	if ok, _ := c.Extension("AUTH"); !ok {
		return errors.New("server does not offer AUTH")
	}
	if err := c.Auth(smtp.PlainAuth("", s.conf.Username, s.conf.Password, s.conf.Host)); err != nil {
		// The server's answer is not repeated: it could echo what was sent.
		var te *textproto.Error
		if errors.As(err, &te) {
			return fmt.Errorf("authentication refused (code %d)", te.Code)
		}
		return fmt.Errorf("authentication: %w", err) // e.g. PLAIN refused without TLS
	}
	return nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.conf.Host, MinVersion: tls.VersionTLS12, RootCAs: s.rootCAs}
}

func (s *SMTP) deliver(c *smtp.Client, msg []byte) error {
	if err := c.Mail(s.from.Address); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, t := range s.to {
		if err := c.Rcpt(t.Address); err != nil {
			return fmt.Errorf("RCPT TO: %w", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	_ = c.Quit() // the message is accepted; a failed goodbye changes nothing
	return nil
}

// subjectLine is "[kinko] HIGH denied_burst: <summary>", free of control
// characters and at most 160 characters long.
func subjectLine(f detect.Finding) string {
	sev := strings.ToUpper(string(f.Severity))
	if sev == "" {
		sev = "UNKNOWN"
	}
	return truncate(clean(fmt.Sprintf("[kinko] %s %s: %s", sev, f.Rule, f.Summary)), 160)
}

// message renders the whole RFC 5322 message: headers whose values carry
// no control characters, then a quoted-printable plain-text body.
func (s *SMTP) message(f detect.Finding) []byte {
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + clean(v) + "\r\n") }
	to := make([]string, len(s.to))
	for i, a := range s.to {
		to[i] = a.String()
	}
	domain := s.from.Address[strings.LastIndexByte(s.from.Address, '@')+1:]
	header("From", s.from.String())
	header("To", strings.Join(to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", subjectLine(f)))
	header("Date", s.now().Format(time.RFC1123Z))
	header("Message-ID", "<"+randomID()+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(body(f)))
	_ = qp.Close()
	return b.Bytes()
}

// body is the plain-text description of f, one field per line.
func body(f detect.Finding) string {
	var b strings.Builder
	line := func(label, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-18s %s\r\n", label+":", clean(v))
		}
	}
	b.WriteString("kinko's detector reported a finding.\r\n\r\n")
	line("Rule", f.Rule)
	line("Severity", string(f.Severity))
	if !f.Time.IsZero() {
		line("Time", f.Time.UTC().Format(time.RFC3339))
	}
	line("Finding ID", f.ID)
	line("Summary", f.Summary)
	b.WriteString("\r\nSubject\r\n")
	line("  Accessor", f.Subject.Accessor)
	line("  Entity ID", f.Subject.EntityID)
	line("  Remote address", f.Subject.RemoteAddr)
	line("  Path", f.Subject.Path)
	list(&b, "Evidence (audit request ids)", f.Evidence)
	list(&b, "Actions taken", f.Actions)
	return b.String()
}

func list(b *strings.Builder, title string, items []string) {
	if len(items) == 0 {
		return
	}
	b.WriteString("\r\n" + title + ":\r\n")
	for i, it := range items {
		if i == maxEvidenceLines {
			fmt.Fprintf(b, "  … and %d more\r\n", len(items)-i)
			break
		}
		b.WriteString("  - " + clean(it) + "\r\n")
	}
}
