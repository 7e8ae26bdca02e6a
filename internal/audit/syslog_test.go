package audit

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// listenSyslog binds a unixgram socket standing in for a syslog daemon.
func listenSyslog(t *testing.T) (path string, conn *net.UnixConn) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "log.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return path, conn
}

// readSyslog passes on every datagram conn receives.
func readSyslog(conn *net.UnixConn) chan string {
	msgs := make(chan string, 100)
	go func() {
		buf := make([]byte, 1<<16)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	return msgs
}

func TestSyslogDevice(t *testing.T) {
	for _, tc := range []struct {
		name, facility, tag string
		wantPrio            int // facility*8 + INFO (6)
		wantTag             string
	}{
		{"defaults", "", "", 4*8 + 6, "kinko"},
		{"local3", "local3", "kinko-test", 19*8 + 6, "kinko-test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, conn := listenSyslog(t)
			msgs := readSyslog(conn)
			b, _ := openOnly(t, "syslog", map[string]string{"network": "unixgram", "address": path, "facility": tc.facility, "tag": tc.tag})
			for seq := uint64(1); seq <= 2; seq++ {
				logOK(t, b)
				msg := nextLine(t, msgs)
				if want := fmt.Sprintf("<%d>", tc.wantPrio); !strings.HasPrefix(msg, want) {
					t.Errorf("message %.40q does not start with priority %s", msg, want)
				}
				head, line, ok := strings.Cut(msg, "]: ")
				if !ok || !strings.Contains(head, " "+tc.wantTag+"[") {
					t.Fatalf("message header %q lacks tag %q", head, tc.wantTag)
				}
				checkEntry(t, strings.TrimSuffix(line, "\n"), seq)
			}
		})
	}
}

func TestSyslogOptionsValidated(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-daemon.sock")
	for _, tc := range []struct {
		name string
		opts map[string]string
		want string
	}{
		{"bad facility", map[string]string{"facility": "LOCAL9"}, `unknown syslog facility "LOCAL9" (valid: KERN, USER, MAIL, DAEMON, AUTH,`},
		{"bad tag", map[string]string{"tag": "kinko: forged"}, "syslog tag must be"},
		{"long tag", map[string]string{"tag": strings.Repeat("k", maxSyslogTag+1)}, "syslog tag must be"},
		{"bad network", map[string]string{"network": "carrier", "address": missing}, `network "carrier" is not supported`},
		{"address without network", map[string]string{"address": missing}, "needs a network"},
		{"network without address", map[string]string{"network": "udp"}, "needs an address"},
		{"bad timeout", map[string]string{"network": "unixgram", "address": missing, "write_timeout": "later"}, "write_timeout"},
		{"no daemon", map[string]string{"network": "unixgram", "address": missing}, "syslog device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(declared(testConfig(t, "syslog", tc.opts)), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// A daemon that stops reading fails writes after write_timeout, fails the
// ones after at once while the blocked one is pending, and is written to
// again once it reads.
func TestSyslogStalledDaemon(t *testing.T) {
	path, conn := listenSyslog(t)
	s := &syslogSink{network: "unixgram", address: path, tag: "kinko", prio: 6, timeout: 50 * time.Millisecond}
	if err := s.connect(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var err error
	for i := 0; i < 100000 && err == nil; i++ {
		err = s.Write(ctx, []byte(`{"type":"request"}`))
	}
	if err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Fatalf("err = %v, want a timeout once the daemon's queue is full", err)
	}
	if err := s.Write(ctx, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "still blocked") {
		t.Fatalf("err = %v, want a fast failure while a write is blocked", err)
	}
	go func() { // the daemon reads again
		buf := make([]byte, 1<<16)
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for s.Write(ctx, []byte(`{}`)) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the device did not recover after the daemon read again")
		}
		runtime.Gosched()
	}
}

// The local daemon (no network option) is reached through log/syslog's
// default sockets; without one, opening fails rather than logging nowhere.
func TestSyslogLocalDaemon(t *testing.T) {
	d, err := Open(declared(testConfig(t, "syslog", nil)), "")
	if err != nil {
		if !strings.Contains(err.Error(), "syslog device") {
			t.Fatalf("unclear error: %v", err)
		}
		return
	}
	_ = d.Close()
}
