package alert

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/detect"
)

// smtpMsg is what the test server recorded of one transaction.
type smtpMsg struct {
	from     string
	to       []string
	data     string
	tls      bool
	authUser string
}

// smtpServer is a small real SMTP server: EHLO, HELO, STARTTLS, AUTH
// PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
type smtpServer struct {
	ln        net.Listener
	startTLS  *tls.Config // offer STARTTLS with this config
	implicit  bool        // listener is already TLS
	user, pw  string      // offer AUTH PLAIN for this user
	rejectTo  string      // refuse RCPT of this address
	mu        sync.Mutex
	msgs      []smtpMsg
	sawAUTH   bool
	wg        sync.WaitGroup
	closeOnce sync.Once
}

func startSMTP(t *testing.T, s *smtpServer, addr string) *smtpServer {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	if s.implicit {
		ln = tls.NewListener(ln, s.startTLS)
	}
	s.ln = ln
	go s.accept()
	t.Cleanup(func() { _ = ln.Close(); s.wg.Wait() })
	return s
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpServer) messages() []smtpMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMsg(nil), s.msgs...)
}

func (s *smtpServer) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() { defer s.wg.Done(); defer c.Close(); s.session(c) }()
	}
}

func (s *smtpServer) session(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(c)
	var cur smtpMsg
	_, cur.tls = c.(*tls.Conn)
	_ = tp.PrintfLine("220 test.example ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			s.ehlo(tp, cur.tls)
		case "HELO", "NOOP", "RSET":
			_ = tp.PrintfLine("250 ok")
		case "STARTTLS":
			if s.startTLS == nil || cur.tls {
				_ = tp.PrintfLine("502 no")
				continue
			}
			_ = tp.PrintfLine("220 go ahead")
			tc := tls.Server(c, s.startTLS)
			if tc.Handshake() != nil {
				return
			}
			c, tp, cur.tls = tc, textproto.NewConn(tc), true
		case "AUTH":
			s.auth(tp, arg, &cur)
		case "MAIL":
			addr, _, _ := strings.Cut(strings.TrimPrefix(arg, "FROM:"), " ") // drop BODY=8BITMIME
			cur.from = strings.Trim(addr, "<>")
			_ = tp.PrintfLine("250 ok")
		case "RCPT":
			to := strings.Trim(strings.TrimPrefix(arg, "TO:"), "<>")
			if to == s.rejectTo {
				_ = tp.PrintfLine("550 no such user")
				continue
			}
			cur.to = append(cur.to, to)
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 go on")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			cur.data = string(data)
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.mu.Unlock()
			_ = tp.PrintfLine("250 queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 unknown command")
		}
	}
}

func (s *smtpServer) ehlo(tp *textproto.Conn, secure bool) {
	ext := []string{"test.example", "8BITMIME"}
	if s.startTLS != nil && !secure {
		ext = append(ext, "STARTTLS")
	}
	if s.user != "" {
		ext = append(ext, "AUTH PLAIN")
	}
	for i, e := range ext {
		sep := "-"
		if i == len(ext)-1 {
			sep = " "
		}
		_ = tp.PrintfLine("250%s%s", sep, e)
	}
}

func (s *smtpServer) auth(tp *textproto.Conn, arg string, cur *smtpMsg) {
	s.mu.Lock()
	s.sawAUTH = true
	s.mu.Unlock()
	mech, resp, _ := strings.Cut(arg, " ")
	raw, err := base64.StdEncoding.DecodeString(resp)
	if mech != "PLAIN" || err != nil || string(raw) != "\x00"+s.user+"\x00"+s.pw {
		_ = tp.PrintfLine("535 5.7.8 credentials %s rejected", resp) // echoes what it got
		return
	}
	cur.authUser = s.user
	_ = tp.PrintfLine("235 ok")
}

// testCert returns a server config and a pool trusting it, for 127.0.0.1.
func testCert(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtp test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

func testSMTP(t *testing.T, c SMTPConfig, pool *x509.CertPool) *SMTP {
	t.Helper()
	s, err := NewSMTP("mail", c)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return testNow }
	s.rootCAs = pool
	return s
}

func TestSMTPSessions(t *testing.T) {
	srvTLS, pool := testCert(t)
	tests := []struct {
		name     string
		server   *smtpServer
		conf     SMTPConfig
		wantErr  string
		wantTLS  bool
		wantUser string
	}{
		{name: "plain relay", conf: SMTPConfig{}},
		{name: "STARTTLS used when offered", server: &smtpServer{startTLS: srvTLS}, wantTLS: true},
		{name: "require_tls with STARTTLS", server: &smtpServer{startTLS: srvTLS}, conf: SMTPConfig{RequireTLS: true}, wantTLS: true},
		{name: "require_tls refuses plain server", conf: SMTPConfig{RequireTLS: true}, wantErr: "does not offer STARTTLS"},
		{name: "implicit TLS", server: &smtpServer{startTLS: srvTLS, implicit: true}, conf: SMTPConfig{ImplicitTLS: true}, wantTLS: true},
		{name: "auth over STARTTLS", server: &smtpServer{startTLS: srvTLS, user: "alerts", pw: "pa55word"},
			conf: SMTPConfig{Username: "alerts", Password: "pa55word"}, wantTLS: true, wantUser: "alerts"},
		{name: "auth to localhost without TLS", server: &smtpServer{user: "alerts", pw: "pa55word"},
			conf: SMTPConfig{Username: "alerts", Password: "pa55word"}, wantUser: "alerts"},
		{name: "wrong password", server: &smtpServer{startTLS: srvTLS, user: "alerts", pw: "other"},
			conf: SMTPConfig{Username: "alerts", Password: "pa55word"}, wantErr: "authentication refused (code 535)"},
		{name: "server without AUTH", conf: SMTPConfig{Username: "alerts", Password: "pa55word"}, wantErr: "does not offer AUTH"},
		{name: "recipient refused", server: &smtpServer{rejectTo: "sec@example.org"}, wantErr: "RCPT TO: 550"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.server == nil {
				tc.server = &smtpServer{}
			}
			srv := startSMTP(t, tc.server, "")
			c := tc.conf
			c.Host, c.Port = "127.0.0.1", srv.port()
			c.From = "Kinko <kinko@example.com>"
			c.To = []string{"ops@example.org", "sec@example.org"}
			err := testSMTP(t, c, pool).Send(context.Background(), testFinding())
			checkErr(t, err, tc.wantErr)
			if err != nil && (strings.Contains(err.Error(), "pa55word") ||
				strings.Contains(err.Error(), base64.StdEncoding.EncodeToString([]byte("\x00alerts\x00pa55word")))) {
				t.Fatalf("error leaks the password: %v", err)
			}
			msgs := srv.messages()
			if tc.wantErr != "" {
				if len(msgs) != 0 {
					t.Fatalf("message delivered despite error")
				}
				return
			}
			if len(msgs) != 1 {
				t.Fatalf("server got %d messages", len(msgs))
			}
			m := msgs[0]
			if m.tls != tc.wantTLS || m.authUser != tc.wantUser || m.from != "kinko@example.com" ||
				strings.Join(m.to, ",") != "ops@example.org,sec@example.org" {
				t.Fatalf("transaction = %+v", m)
			}
		})
	}
}

func TestSMTPPlainAuthRefusedWithoutTLSToRemoteHost(t *testing.T) {
	srv := startSMTP(t, &smtpServer{user: "alerts", pw: "pa55word"}, "127.0.0.2:0")
	c := SMTPConfig{Host: "127.0.0.2", Port: srv.port(), From: "kinko@example.com", To: []string{"ops@example.org"},
		Username: "alerts", Password: "pa55word"}
	err := testSMTP(t, c, nil).Send(context.Background(), testFinding())
	checkErr(t, err, "unencrypted connection")
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.sawAUTH || len(srv.msgs) != 0 {
		t.Fatal("credentials or message sent in clear")
	}
}

// readMail parses a recorded message and decodes its body.
func readMail(t *testing.T, data string) (*mail.Message, string) {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("message does not parse: %v\n%s", err, data)
	}
	if m.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Fatalf("headers %v", m.Header)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	return m, string(b)
}

func TestSMTPMessageContent(t *testing.T) {
	srv := startSMTP(t, &smtpServer{}, "")
	c := SMTPConfig{Host: "127.0.0.1", Port: srv.port(), From: "Kinko Alerts <kinko@example.com>", To: []string{"ops@example.org"}}
	f := testFinding()
	f.Summary = "denials from 10.0.0.9 — ünïcode"
	f.Actions = []string{"revoked token accessor acc-1"}
	f.Evidence = append(f.Evidence, ".leading-dot-line")
	if err := testSMTP(t, c, nil).Send(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	m, body := readMail(t, srv.messages()[0].data)
	subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil || subj != "[kinko] HIGH denied_burst: "+f.Summary {
		t.Fatalf("Subject = %q (%v)", subj, err)
	}
	for k, want := range map[string]string{
		"From": `"Kinko Alerts" <kinko@example.com>`, "To": "<ops@example.org>",
		"Content-Type": "text/plain; charset=utf-8", "Auto-Submitted": "auto-generated",
		"Date": testNow.Format(time.RFC1123Z),
	} {
		if got := m.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if id := m.Header.Get("Message-ID"); !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("Message-ID = %q", id)
	}
	for _, want := range []string{"Rule:              denied_burst", "Severity:          high",
		"Finding ID:        f-1", "Summary:           " + f.Summary, "Time:              2026-03-04T05:05:07Z",
		"  Accessor:        acc-1", "  Entity ID:       ent-1", "  Remote address:  10.0.0.9",
		"  Path:            secret/data/app",
		"  - req-1\n  - req-2\n  - .leading-dot-line\n", "Actions taken:\n  - revoked token accessor acc-1"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

func TestSMTPHeaderInjection(t *testing.T) {
	srv := startSMTP(t, &smtpServer{}, "")
	c := SMTPConfig{Host: "127.0.0.1", Port: srv.port(), From: "kinko@example.com", To: []string{"ops@example.org"}}
	f := testFinding()
	f.Rule = "rule\r\nBcc: rule@evil.example"
	f.Summary = "x\r\nBcc: victim@evil.example\r\n\r\nfake body\n.\r\nMAIL FROM:<a@b>"
	f.Subject.Path = "p\r\nX-Injected: 1"
	if err := testSMTP(t, c, nil).Send(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	msgs := srv.messages()
	if len(msgs) != 1 || len(msgs[0].to) != 1 {
		t.Fatalf("transactions %+v", msgs)
	}
	m, body := readMail(t, msgs[0].data)
	if len(m.Header["Bcc"]) != 0 || len(m.Header["X-Injected"]) != 0 {
		t.Fatalf("header injected: %v", m.Header)
	}
	if s := m.Header.Get("Subject"); !strings.Contains(s, "Bcc: victim@evil.example") {
		t.Fatalf("Subject = %q", s)
	}
	if strings.Contains(body, "\n.\n") || strings.Contains(body, "\nX-Injected") || strings.Contains(body, "\nMAIL") {
		t.Fatalf("body carries raw control lines:\n%s", body)
	}
}

func TestSMTPEvidenceCapped(t *testing.T) {
	f := testFinding()
	f.Evidence = nil
	for i := range 120 {
		f.Evidence = append(f.Evidence, "req-"+strconv.Itoa(i))
	}
	b := body(f)
	if !strings.Contains(b, "  - req-49\r\n") || strings.Contains(b, "req-50") || !strings.Contains(b, "… and 70 more") {
		t.Fatalf("body:\n%s", b)
	}
}

func TestSMTPContextCancelled(t *testing.T) {
	// A server that greets and then says nothing more.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = fmt.Fprintf(c, "220 hello\r\n")
			_, _ = bufio.NewReader(c).ReadString('\n')
			accepted <- c
		}
	}()
	c := SMTPConfig{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, From: "kinko@example.com", To: []string{"o@example.org"}}
	s := testSMTP(t, c, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { conn := <-accepted; cancel(); defer conn.Close() }()
	if err := s.Send(ctx, testFinding()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Send against a silent server = %v, want context.Canceled", err)
	}
}

func TestSubjectLine(t *testing.T) {
	tests := []struct {
		f    detect.Finding
		want string
	}{
		{detect.Finding{Severity: detect.SeverityCritical, Rule: "root_token", Summary: "root used"}, "[kinko] CRITICAL root_token: root used"},
		{detect.Finding{Rule: "r", Summary: "a\r\nb\tc"}, "[kinko] UNKNOWN r: a  b c"},
		{detect.Finding{Severity: "low", Rule: "r", Summary: strings.Repeat("x", 300)}, "[kinko] LOW r: " + strings.Repeat("x", 144) + "…"},
	}
	for _, tc := range tests {
		if got := subjectLine(tc.f); got != tc.want {
			t.Errorf("subjectLine = %q, want %q", got, tc.want)
		}
	}
}
