package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// lineServer accepts stream connections and passes on every line it reads.
type lineServer struct {
	l     net.Listener
	lines chan string
	mu    sync.Mutex
	conns []net.Conn
}

func serveLines(t *testing.T, l net.Listener) *lineServer {
	t.Helper()
	s := &lineServer{l: l, lines: make(chan string, 100)}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			go func() {
				sc := bufio.NewScanner(c)
				sc.Buffer(nil, 1<<20)
				for sc.Scan() {
					s.lines <- sc.Text()
				}
			}()
		}
	}()
	t.Cleanup(s.stop)
	return s
}

// closeConns closes the accepted connections; the listener stays.
func (s *lineServer) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.conns = nil
}

// stop closes the listener (removing a unix socket file) and connections.
func (s *lineServer) stop() {
	_ = s.l.Close()
	s.closeConns()
}

func listenUnix(t *testing.T, path string) *lineServer {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	return serveLines(t, l)
}

// serveDatagrams passes on each UDP datagram, which must be one line.
func serveDatagrams(t *testing.T) (addr string, lines chan string) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	lines = make(chan string, 100)
	go func() {
		buf := make([]byte, 1<<16)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			d := string(buf[:n])
			if strings.Count(d, "\n") != 1 || !strings.HasSuffix(d, "\n") {
				d = "not one line: " + d
			}
			lines <- strings.TrimSuffix(d, "\n")
		}
	}()
	return pc.LocalAddr().String(), lines
}

func nextLine(t *testing.T, lines <-chan string) string {
	t.Helper()
	select {
	case l := <-lines:
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("no audit line arrived")
		return ""
	}
}

// checkEntry asserts line is a request entry, chained at seq, that does
// not carry the secret of sampleInput("s3cr3t").
func checkEntry(t *testing.T, line string, seq uint64) {
	t.Helper()
	var e struct {
		Type    string `json:"type"`
		Seq     uint64 `json:"seq"`
		Request struct {
			Path string `json:"path"`
		} `json:"request"`
	}
	if err := json.Unmarshal([]byte(line), &e); err != nil {
		t.Fatalf("not a JSON audit line: %v\n%s", err, line)
	}
	if e.Type != "request" || e.Seq != seq || e.Request.Path != "secret/data/app" {
		t.Errorf("entry type=%q seq=%d path=%q, want request seq=%d secret/data/app", e.Type, e.Seq, e.Request.Path, seq)
	}
	if strings.Contains(line, "s3cr3t") {
		t.Errorf("audit line carries the secret: %s", line)
	}
}

// openOnly opens a device of typ and makes it a new broker's only device.
func openOnly(t *testing.T, typ string, opts map[string]string) (*Broker, *Device) {
	t.Helper()
	d, err := Open(declared(testConfig(t, typ, opts)), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	b := NewBroker(quiet)
	if err := b.Add(d); err != nil {
		t.Fatal(err)
	}
	return b, d
}

func logOK(t *testing.T, b *Broker) {
	t.Helper()
	if err := b.LogRequest(context.Background(), sampleInput("s3cr3t")); err != nil {
		t.Fatal(err)
	}
}

func TestSocketDevice(t *testing.T) {
	for _, tc := range []struct {
		name  string
		serve func(t *testing.T) (opts map[string]string, lines chan string)
	}{
		{"tcp (default)", func(t *testing.T) (map[string]string, chan string) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			return map[string]string{"address": l.Addr().String()}, serveLines(t, l).lines
		}},
		{"unix", func(t *testing.T) (map[string]string, chan string) {
			path := filepath.Join(t.TempDir(), "audit.sock")
			return map[string]string{"address": path, "socket_type": "unix"}, listenUnix(t, path).lines
		}},
		{"udp", func(t *testing.T) (map[string]string, chan string) {
			addr, lines := serveDatagrams(t)
			return map[string]string{"address": addr, "socket_type": "udp", "write_timeout": "1s"}, lines
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, lines := tc.serve(t)
			b, _ := openOnly(t, "socket", opts)
			for seq := uint64(1); seq <= 3; seq++ {
				logOK(t, b)
				checkEntry(t, nextLine(t, lines), seq)
			}
		})
	}
}

func TestSocketReconnects(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.sock")
	first := listenUnix(t, path)
	b, _ := openOnly(t, "socket", map[string]string{"address": path, "socket_type": "unix"})
	logOK(t, b)
	checkEntry(t, nextLine(t, first.lines), 1)

	// The peer drops the connection: the next entry goes on a new one.
	first.closeConns()
	logOK(t, b)
	checkEntry(t, nextLine(t, first.lines), 2)

	// The peer restarts on the same path.
	first.stop()
	second := listenUnix(t, path)
	logOK(t, b)
	checkEntry(t, nextLine(t, second.lines), 3)

	// Reopen (SIGHUP) connects afresh.
	if err := b.Reopen(); err != nil {
		t.Fatal(err)
	}
	logOK(t, b)
	checkEntry(t, nextLine(t, second.lines), 4)
}

// With the socket peer gone and no other device, requests are refused.
func TestSocketPeerGoneFailsClosed(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			var srv *lineServer
			var addr string
			if network == "unix" {
				addr = filepath.Join(t.TempDir(), "audit.sock")
				srv = listenUnix(t, addr)
			} else {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr, srv = l.Addr().String(), serveLines(t, l)
			}
			b, d := openOnly(t, "socket", map[string]string{"address": addr, "socket_type": network})
			logOK(t, b)
			checkEntry(t, nextLine(t, srv.lines), 1)

			srv.stop()
			// A TCP close reaches the device's end asynchronously; wait
			// for it, so the test shows the entry refused, not lost.
			waitPeerGone(t, d.sink.(*socketSink))
			err := b.LogRequest(context.Background(), sampleInput("s3cr3t"))
			if !errors.Is(err, ErrNoDevice) {
				t.Fatalf("err = %v, want ErrNoDevice", err)
			}
			if network == "unix" { // the peer comes back: so does the device
				again := listenUnix(t, addr)
				logOK(t, b)
				checkEntry(t, nextLine(t, again.lines), 2)
			}
		})
	}
}

func waitPeerGone(t *testing.T, s *socketSink) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.conn != nil && !peerGone(s.conn, s.scratch) {
		if time.Now().After(deadline) {
			t.Fatal("the device never saw its peer close")
		}
		runtime.Gosched()
	}
}

func TestPeerGone(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	peer, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	scratch := make([]byte, 4)
	if peerGone(c, scratch) {
		t.Fatal("an open connection reads as gone")
	}
	if _, err := peer.Write([]byte("chatter from the peer")); err != nil {
		t.Fatal(err)
	}
	if peerGone(c, scratch) {
		t.Fatal("a peer that talks reads as gone")
	}
	_ = peer.Close()
	s := &socketSink{conn: c, scratch: scratch}
	waitPeerGone(t, s) // fails the test if never seen
}

func TestSocketUDPTooLarge(t *testing.T) {
	addr, lines := serveDatagrams(t)
	b, d := openOnly(t, "socket", map[string]string{"address": addr, "socket_type": "udp", "log_raw": "true"})
	err := b.LogRequest(context.Background(), sampleInput(strings.Repeat("x", maxUDPLine)))
	if !errors.Is(err, ErrNoDevice) {
		t.Fatalf("err = %v, want ErrNoDevice", err)
	}
	err = d.sink.Write(context.Background(), make([]byte, maxUDPLine))
	if err == nil || !strings.Contains(err.Error(), "datagram") {
		t.Fatalf("err = %v, want a datagram size error", err)
	}
	if err := d.sink.Write(context.Background(), make([]byte, maxUDPLine-1)); err != nil {
		t.Fatalf("the largest datagram was refused: %v", err)
	}
	if l := nextLine(t, lines); len(l) != maxUDPLine-1 {
		t.Fatalf("received %d bytes, want %d", len(l), maxUDPLine-1)
	}
}

// A peer that accepts and never reads blocks a write only until
// write_timeout, on the first connection and on the retry.
func TestSocketStalledPeer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stalled.sock")
	l, err := net.Listen("unix", path) // never accepts: the kernel queues connections
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := newSocketSink("unix", path, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	err = s.Write(context.Background(), make([]byte, 16<<20))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("a stalled write took %s", took)
	}
}

func TestSocketOptionsValidated(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nobody-listens.sock")
	for _, tc := range []struct {
		name string
		opts map[string]string
		want string
	}{
		{"no address", map[string]string{}, "address is required"},
		{"bad type", map[string]string{"address": "127.0.0.1:1", "socket_type": "sctp"}, `socket_type "sctp" is not supported (valid: tcp`},
		{"bad timeout", map[string]string{"address": "127.0.0.1:1", "write_timeout": "soon"}, "write_timeout must be a duration"},
		{"zero timeout", map[string]string{"address": "127.0.0.1:1", "write_timeout": "0s"}, "write_timeout must be positive"},
		{"negative timeout", map[string]string{"address": "127.0.0.1:1", "write_timeout": "-1s"}, "write_timeout must be positive"},
		{"nobody listens", map[string]string{"address": missing, "socket_type": "unix"}, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(declared(testConfig(t, "socket", tc.opts)), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseTimeout(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 2 * time.Second, "500ms": 500 * time.Millisecond, "3": 3 * time.Second, "1m": time.Minute} {
		if got, err := parseTimeout(in); err != nil || got != want {
			t.Errorf("parseTimeout(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

// declared marks a device as declared in the server config, which may use
// any unix socket path.
func declared(c Config) Config {
	c.Declared = true
	return c
}

func TestAPIUnixSocketBoundToAuditDir(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	for _, tc := range []struct {
		typ  string
		opts map[string]string
	}{
		{"socket", map[string]string{"socket_type": "unix", "address": filepath.Join(outside, "s.sock")}},
		{"syslog", map[string]string{"network": "unixgram", "address": filepath.Join(outside, "log.sock")}},
	} {
		_, err := Open(testConfig(t, tc.typ, tc.opts), dir)
		if err == nil || !strings.Contains(err.Error(), "below the audit directory") {
			t.Errorf("%s: err = %v", tc.typ, err)
		}
	}
}
