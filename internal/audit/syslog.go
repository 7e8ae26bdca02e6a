package audit

import (
	"context"
	"fmt"
	"log/syslog"
	"strings"
	"time"
)

// syslogFacilities are the facility names the syslog device accepts, in
// the order of their codes.
var syslogFacilities = []struct {
	name string
	p    syslog.Priority
}{
	{"KERN", syslog.LOG_KERN}, {"USER", syslog.LOG_USER}, {"MAIL", syslog.LOG_MAIL},
	{"DAEMON", syslog.LOG_DAEMON}, {"AUTH", syslog.LOG_AUTH}, {"SYSLOG", syslog.LOG_SYSLOG},
	{"LPR", syslog.LOG_LPR}, {"NEWS", syslog.LOG_NEWS}, {"UUCP", syslog.LOG_UUCP},
	{"CRON", syslog.LOG_CRON}, {"AUTHPRIV", syslog.LOG_AUTHPRIV}, {"FTP", syslog.LOG_FTP},
	{"LOCAL0", syslog.LOG_LOCAL0}, {"LOCAL1", syslog.LOG_LOCAL1}, {"LOCAL2", syslog.LOG_LOCAL2},
	{"LOCAL3", syslog.LOG_LOCAL3}, {"LOCAL4", syslog.LOG_LOCAL4}, {"LOCAL5", syslog.LOG_LOCAL5},
	{"LOCAL6", syslog.LOG_LOCAL6}, {"LOCAL7", syslog.LOG_LOCAL7},
}

// syslogNetworks are the accepted values of the network option; "" is the
// local syslog daemon.
var syslogNetworks = []string{"udp", "udp4", "udp6", "tcp", "tcp4", "tcp6", "unixgram", "unix"}

// maxSyslogTag bounds the tag option (RFC 3164 allows 32 characters; some
// daemons take more).
const maxSyslogTag = 48

// syslogSink sends each line as one syslog message of severity INFO,
// through the standard library's log/syslog, which reconnects once and
// retries when a write fails.
//
// log/syslog has no timeouts, and a syslog daemon that stops reading
// blocks its writers (a full datagram queue, a full TCP window). So each
// call into the writer runs on its own goroutine and the sink waits for it
// at most write_timeout: after that the write fails (the broker fails
// closed) and, while the blocked call is still pending, further writes
// fail at once rather than pile up. The blocked message may still reach
// syslog later, as a line whose seq repeats the next one's.
//
// Like every Sink, it is used under its device's lock.
type syslogSink struct {
	network string // "" = local daemon
	address string
	tag     string
	prio    syslog.Priority // facility | LOG_INFO
	timeout time.Duration
	maxLine int // 0: unbounded

	w    *syslog.Writer
	busy chan struct{} // holds a token while a call into w runs
}

// newSyslogFromConfig reads Vault's options facility (default AUTH) and
// tag (default kinko), plus kinko's network and address (a remote or
// non-default daemon) and write_timeout (default 2s).
func newSyslogFromConfig(conf Config, allowedDir string) (Sink, error) {
	o := conf.Options
	prio, err := syslogFacility(o["facility"])
	if err != nil {
		return nil, err
	}
	tag := o["tag"]
	if tag == "" {
		tag = "kinko"
	}
	if err := checkSyslogTag(tag); err != nil {
		return nil, err
	}
	s := &syslogSink{network: o["network"], address: o["address"], tag: tag, prio: prio | syslog.LOG_INFO}
	if err := s.checkNetwork(); err != nil {
		return nil, err
	}
	if err := checkUnixSocket(conf, allowedDir, s.network, s.address); err != nil {
		return nil, err
	}
	if s.timeout, err = parseTimeout(o["write_timeout"]); err != nil {
		return nil, err
	}
	if err := s.connect(); err != nil {
		return nil, err
	}
	return s, nil
}

func syslogFacility(name string) (syslog.Priority, error) {
	if name == "" {
		return syslog.LOG_AUTH, nil
	}
	names := make([]string, len(syslogFacilities))
	for i, f := range syslogFacilities {
		if strings.EqualFold(name, f.name) {
			return f.p, nil
		}
		names[i] = f.name
	}
	return 0, fmt.Errorf("audit: unknown syslog facility %q (valid: %s)", name, strings.Join(names, ", "))
}

// checkSyslogTag allows letters, digits and "._-/": a tag is copied into
// every message's header, where spaces, colons or control characters
// would let it forge fields.
func checkSyslogTag(tag string) error {
	ok := len(tag) <= maxSyslogTag
	for _, c := range tag {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-/", c)) {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("audit: syslog tag must be at most %d letters, digits or ._-/ characters, not %q", maxSyslogTag, tag)
	}
	return nil
}

func (s *syslogSink) checkNetwork() error {
	switch {
	case s.network == "" && s.address != "":
		return fmt.Errorf("audit: syslog address needs a network (one of %s)", strings.Join(syslogNetworks, ", "))
	case s.network == "":
		return nil
	}
	for _, n := range syslogNetworks {
		if s.network == n {
			if s.address == "" {
				return fmt.Errorf("audit: syslog network %s needs an address", n)
			}
			if strings.HasPrefix(n, "udp") {
				s.maxLine = maxUDPLine
			}
			return nil
		}
	}
	return fmt.Errorf("audit: syslog network %q is not supported (valid: %s, or empty for the local daemon)", s.network, strings.Join(syslogNetworks, ", "))
}

// connect dials the daemon, waiting at most the timeout; a dial that
// finishes later is closed.
func (s *syslogSink) connect() error {
	type dialed struct {
		w   *syslog.Writer
		err error
	}
	res := make(chan dialed, 1)
	network, address, prio, tag := s.network, s.address, s.prio, s.tag
	go func() {
		w, err := syslog.Dial(network, address, prio, tag)
		res <- dialed{w, err}
	}()
	t := time.NewTimer(s.timeout)
	defer t.Stop()
	select {
	case r := <-res:
		if r.err != nil {
			return fmt.Errorf("audit: syslog device: %w", r.err)
		}
		s.w, s.busy = r.w, make(chan struct{}, 1)
		return nil
	case <-t.C:
		go func() {
			if r := <-res; r.w != nil {
				_ = r.w.Close()
			}
		}()
		return fmt.Errorf("audit: syslog device: connecting took longer than %s", s.timeout)
	}
}

// Write sends line as one message. ctx is not consulted: an entry is
// recorded even when the client that caused it has gone.
func (s *syslogSink) Write(_ context.Context, line []byte) error {
	// Header: priority, timestamp, hostname, tag and pid take well under
	// 256 bytes.
	if s.maxLine > 0 && len(line)+len(s.tag)+256 > s.maxLine {
		return fmt.Errorf("audit: entry of %d bytes is too large for a syslog datagram over %s; use tcp", len(line), s.network)
	}
	if s.w == nil {
		if err := s.connect(); err != nil {
			return err
		}
	}
	w, busy, msg := s.w, s.busy, string(line)
	select {
	case busy <- struct{}{}:
	default:
		return fmt.Errorf("audit: syslog device: an earlier write is still blocked")
	}
	done := make(chan error, 1)
	go func() {
		err := w.Info(msg)
		<-busy
		done <- err
	}()
	t := time.NewTimer(s.timeout)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("audit: syslog device: %w", err)
		}
		return nil
	case <-t.C:
		return fmt.Errorf("audit: syslog device: write did not finish within %s", s.timeout)
	}
}

// retire closes the current writer: at once when no call into it is
// pending, otherwise in the background once the blocked call returns.
func (s *syslogSink) retire() error {
	w, busy := s.w, s.busy
	s.w, s.busy = nil, nil
	if w == nil {
		return nil
	}
	select {
	case busy <- struct{}{}:
		return w.Close()
	default:
		go func() { _ = w.Close() }()
		return nil
	}
}

// Reopen closes the connection to the daemon and dials again.
func (s *syslogSink) Reopen() error {
	_ = s.retire()
	return s.connect()
}

func (s *syslogSink) Close() error { return s.retire() }
