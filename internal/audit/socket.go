package audit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxUDPLine is the largest line (newline included) a socket device sends
// over UDP: the largest IPv4 UDP payload. A longer entry is refused, never
// cut, since a truncated line is neither JSON nor verifiable.
const maxUDPLine = 65507

// defaultWriteTimeout bounds each connect and each write of a socket
// device (Vault's default for write_timeout).
const defaultWriteTimeout = 2 * time.Second

// socketNetworks are the accepted socket_type values.
var socketNetworks = []string{"tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "unix"}

// socketSink writes lines to a TCP, UDP or unix stream socket. It connects
// when it is opened; after a failed write it reconnects once and retries
// that write once, so a restarted peer costs no entry, and a peer that is
// gone makes the write fail (the broker then fails closed). Every connect
// and write is bounded by the write timeout, so a stalled peer delays a
// request by at most a few timeouts, never forever.
//
// UDP cannot report a lost datagram: an entry sent to a UDP peer that is
// not listening is lost without an error, as in Vault. Pair a UDP device
// with another device when every entry matters.
//
// Like every Sink, it is used under its device's lock.
type socketSink struct {
	network string
	address string
	timeout time.Duration
	maxLine int  // 0: unbounded (streams)
	stream  bool // tcp, unix: probe for a closed peer before writing

	conn    net.Conn
	buf     []byte
	scratch []byte
}

func newSocketFromConfig(conf Config, allowedDir string) (Sink, error) {
	addr := conf.Options["address"]
	if addr == "" {
		return nil, fmt.Errorf("audit: address is required for a socket audit device")
	}
	network := conf.Options["socket_type"]
	if network == "" {
		network = "tcp"
	}
	timeout, err := parseTimeout(conf.Options["write_timeout"])
	if err != nil {
		return nil, err
	}
	if err := checkUnixSocket(conf, allowedDir, network, addr); err != nil {
		return nil, err
	}
	return newSocketSink(network, addr, timeout)
}

// parseTimeout parses write_timeout: a Go duration ("2s", "500ms") or a
// whole number of seconds, as Vault accepts; empty means 2s.
func parseTimeout(s string) (time.Duration, error) {
	if s == "" {
		return defaultWriteTimeout, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		n, nerr := strconv.ParseUint(s, 10, 32)
		if nerr != nil {
			return 0, fmt.Errorf("audit: write_timeout must be a duration such as 2s, not %q", s)
		}
		d = time.Duration(n) * time.Second
	}
	if d <= 0 {
		return 0, fmt.Errorf("audit: write_timeout must be positive, not %q", s)
	}
	return d, nil
}

func newSocketSink(network, address string, timeout time.Duration) (*socketSink, error) {
	s := &socketSink{network: network, address: address, timeout: timeout}
	switch network {
	case "tcp", "tcp4", "tcp6", "unix":
		s.stream, s.scratch = true, make([]byte, 512)
	case "udp", "udp4", "udp6":
		s.maxLine = maxUDPLine
	default:
		return nil, fmt.Errorf("audit: socket_type %q is not supported (valid: %s)", network, strings.Join(socketNetworks, ", "))
	}
	if err := s.dial(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *socketSink) dial() error {
	d := net.Dialer{Timeout: s.timeout}
	c, err := d.Dial(s.network, s.address)
	if err != nil {
		return fmt.Errorf("audit: socket device: %w", err)
	}
	s.conn = c
	return nil
}

// drop closes the connection, if any; the next send reconnects.
func (s *socketSink) drop() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

// send writes s.buf on the connection, connecting first if there is none.
func (s *socketSink) send() error {
	if s.conn == nil {
		if err := s.dial(); err != nil {
			return err
		}
	}
	if err := s.conn.SetWriteDeadline(time.Now().Add(s.timeout)); err != nil {
		return fmt.Errorf("audit: socket device: %w", err)
	}
	if _, err := s.conn.Write(s.buf); err != nil {
		return fmt.Errorf("audit: write to %s socket %s: %w", s.network, s.address, err)
	}
	return nil
}

// Write sends line and a newline. ctx is not consulted: an entry is
// recorded even when the client that caused it has gone; write_timeout
// bounds the wait instead.
func (s *socketSink) Write(_ context.Context, line []byte) error {
	if s.maxLine > 0 && len(line)+1 > s.maxLine {
		return fmt.Errorf("audit: entry of %d bytes is larger than a %s datagram can carry (%d bytes); use a tcp or unix socket", len(line)+1, s.network, s.maxLine)
	}
	s.buf = append(append(s.buf[:0], line...), '\n')
	// A stream whose peer has closed still accepts one write into the
	// kernel's buffer and loses it; look for the close first.
	if s.stream && s.conn != nil && peerGone(s.conn, s.scratch) {
		_ = s.drop()
	}
	err := s.send()
	if err == nil {
		return nil
	}
	_ = s.drop()
	if err2 := s.send(); err2 != nil {
		_ = s.drop()
		return fmt.Errorf("%w; after reconnecting: %w", err, err2)
	}
	return nil
}

// Reopen drops the connection and connects again.
func (s *socketSink) Reopen() error {
	_ = s.drop()
	return s.dial()
}

func (s *socketSink) Close() error { return s.drop() }

// peerGone reports, without blocking, whether the peer of a stream
// connection has closed it or the connection has failed. Anything the
// peer sent is read and discarded: audit peers only listen.
func peerGone(c net.Conn, scratch []byte) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	gone := false
	err = rc.Read(func(fd uintptr) bool {
		// The descriptor is non-blocking: no data reads as EAGAIN.
		n, rerr := syscall.Read(int(fd), scratch)
		switch {
		case rerr == nil:
			gone = n == 0 // end of stream
		case errors.Is(rerr, syscall.EAGAIN), errors.Is(rerr, syscall.EINTR):
		default:
			gone = true
		}
		return true
	})
	return gone || err != nil
}
