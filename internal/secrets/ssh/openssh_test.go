package ssh_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

const (
	sshdPath = "/usr/sbin/sshd"
	sshPath  = "/usr/bin/ssh"
	// privsepDir is the directory Debian's sshd needs when started as root.
	privsepDir = "/run/sshd"
)

// requireOpenSSH skips the test when sshd or ssh is missing, unless CI=true,
// where the job installs them and their absence is a failure.
func requireOpenSSH(t *testing.T) {
	t.Helper()
	for _, p := range []string{sshdPath, sshPath} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing (install openssh-server and openssh-client): %v", p, err)
			}
			t.Skipf("%s is missing; install openssh-server and openssh-client to run the OpenSSH test", p)
		}
	}
}

// lockedBuffer collects sshd's log lines from its processes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// sshd is a running OpenSSH server on a loopback port.
type sshd struct {
	port int
	logs *lockedBuffer
}

// writePrivateKey writes an ed25519 key in OpenSSH format, mode 0600.
func writePrivateKey(t *testing.T, path string, k ed25519.PrivateKey) {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(k, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
}

// ensurePrivsepDir creates sshd's privilege separation directory when the
// test runs as root and it is missing, and removes it afterwards.
func ensurePrivsepDir(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	if _, err := os.Stat(privsepDir); err == nil {
		return
	}
	if err := os.Mkdir(privsepDir, 0o755); err != nil {
		t.Fatalf("sshd run as root needs %s: %v", privsepDir, err)
	}
	t.Cleanup(func() { _ = os.Remove(privsepDir) })
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startSSHD runs sshd in the foreground with a config in dir that trusts
// the user CA file and presents the host key and certificate there. The
// free port is picked before sshd binds it, so a start that loses the port
// to another process is retried on a new one.
func startSSHD(t *testing.T, dir string) *sshd {
	t.Helper()
	ensurePrivsepDir(t)
	var err error
	for range 3 {
		s := &sshd{port: freePort(t), logs: &lockedBuffer{}}
		if err = s.start(t, dir); err == nil {
			return s
		}
	}
	t.Fatal(err)
	return nil
}

func (s *sshd) start(t *testing.T, dir string) error {
	conf := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %[2]s/host_key
HostCertificate %[2]s/host_key-cert.pub
PidFile %[2]s/sshd.pid
TrustedUserCAKeys %[2]s/user_ca.pub
AuthorizedKeysFile none
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
LogLevel VERBOSE
`, s.port, dir)
	confPath := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(sshdPath, "-D", "-e", "-f", confPath)
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start sshd: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := s.waitReady(exited); err != nil {
		return err
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.logs)
		}
	})
	return nil
}

// waitReady polls the port until sshd accepts connections; it reports
// sshd exiting first (with its log), and kills it after 15s.
func (s *sshd) waitReady(exited chan error) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.port), time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case werr := <-exited:
			exited <- werr
			return fmt.Errorf("sshd exited before listening (%v):\n%s", werr, s.logs)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sshd not listening on port %d after 15s:\n%s", s.port, s.logs)
		}
	}
}

// ssh runs the OpenSSH client against the server with the given options
// and remote command, and returns its standard output and error apart.
func (s *sshd) ssh(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base := []string{"-F", "/dev/null", "-p", strconv.Itoa(s.port),
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
		"-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no",
		"-o", "ConnectTimeout=10", "-o", "GlobalKnownHostsFile=/dev/null"}
	cmd := exec.CommandContext(ctx, sshPath, append(base, args...)...)
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// userKey writes a fresh key and kinko's certificate for it into dir and
// returns the client options that use them.
func userKey(t *testing.T, a *apiEnv, dir, name, role string, data map[string]any) ([]string, *ssh.Certificate) {
	t.Helper()
	signer, priv := newSigner(t)
	keyPath := filepath.Join(dir, name)
	writePrivateKey(t, keyPath, priv)
	in := map[string]any{"public_key": string(ssh.MarshalAuthorizedKey(signer.PublicKey()))}
	for k, v := range data {
		in[k] = v
	}
	line := str(t, a.write("sign/"+role, in), "signed_key")
	if err := os.WriteFile(keyPath+"-cert.pub", []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"-i", keyPath, "-o", "CertificateFile=" + keyPath + "-cert.pub"}, parseCertLine(t, line)
}

// fetchPublicKey reads a mount's CA key the way an sshd provisioning
// script would: GET /v1/<mount>/public_key, without a token.
func fetchPublicKey(t *testing.T, a *apiEnv) string {
	t.Helper()
	resp, err := http.Get(a.srv.Addr + "/v1/" + a.mount + "/public_key")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET public_key: %d %v", resp.StatusCode, err)
	}
	return string(body)
}

// openSSHEnv is a kinko server with a user CA and a host CA mount, and an
// sshd that trusts the user CA and presents a host certificate from the
// host CA for sshd.kinko.test.
type openSSHEnv struct {
	users, hosts   *apiEnv
	userCA, hostCA string
	login          string
	dir            string
	srv            *sshd
}

func newOpenSSHEnv(t *testing.T) *openSSHEnv {
	requireOpenSSH(t)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	users := newAPIEnv(t, "ssh-client-signer", "ssh-host-signer")
	e := &openSSHEnv{users: users, hosts: users.at(t, "ssh-host-signer"), login: me.Username, dir: t.TempDir()}
	e.users.genCA()
	e.hosts.genCA()
	e.userCA, e.hostCA = fetchPublicKey(t, e.users), fetchPublicKey(t, e.hosts)
	e.users.write("roles/login", map[string]any{"key_type": "ca", "allow_user_certificates": true,
		"allowed_users": e.login + ",somebody-else", "default_user": e.login, "ttl": "10m"})
	e.hosts.write("roles/host", map[string]any{"key_type": "ca", "allow_host_certificates": true,
		"allowed_domains": "kinko.test", "allow_subdomains": true})
	e.hosts.write("roles/any", map[string]any{"key_type": "ca", "allow_user_certificates": true, "allowed_users": "*"})

	hostSigner, hostPriv := newSigner(t)
	writePrivateKey(t, filepath.Join(e.dir, "host_key"), hostPriv)
	hostCert := str(t, e.hosts.write("sign/host", map[string]any{"cert_type": "host", "valid_principals": "sshd.kinko.test",
		"public_key": string(ssh.MarshalAuthorizedKey(hostSigner.PublicKey()))}), "signed_key")
	for name, content := range map[string]string{"host_key-cert.pub": hostCert, "user_ca.pub": e.userCA} {
		if err := os.WriteFile(filepath.Join(e.dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e.srv = startSSHD(t, e.dir)
	return e
}

// loginOpts are the options for a user login that does not check the host.
func (e *openSSHEnv) loginOpts(key []string) []string {
	return append(key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", e.login+"@127.0.0.1", "echo", "ok")
}

// refused checks that an ssh run failed to authenticate and that sshd
// logged why.
func (e *openSSHEnv) refused(t *testing.T, key []string, reason string) {
	t.Helper()
	before := len(e.srv.logs.String())
	out, errOut, err := e.srv.ssh(t, e.loginOpts(key)...)
	if err == nil || out != "" {
		t.Fatalf("ssh succeeded, want a refusal: %q", out)
	}
	if !strings.Contains(errOut, "Permission denied") {
		t.Fatalf("ssh failed for another reason: %v\n%s", err, errOut)
	}
	if logs := e.srv.logs.String()[before:]; !strings.Contains(logs, reason) {
		t.Fatalf("sshd did not log %q:\n%s", reason, logs)
	}
}

func TestOpenSSHUserCertificates(t *testing.T) {
	e := newOpenSSHEnv(t)

	t.Run("signed key logs in", func(t *testing.T) {
		key, cert := userKey(t, e.users, e.dir, "id_ok", "login", nil)
		if len(cert.ValidPrincipals) != 1 || cert.ValidPrincipals[0] != e.login {
			t.Fatalf("principals %q, want the default user %q", cert.ValidPrincipals, e.login)
		}
		out, errOut, err := e.srv.ssh(t, e.loginOpts(key)...)
		if err != nil || out != "ok\n" {
			t.Fatalf("ssh: %v\nstdout %q\n%s", err, out, errOut)
		}
	})

	t.Run("wrong principal refused", func(t *testing.T) {
		key, _ := userKey(t, e.users, e.dir, "id_other", "login", map[string]any{"valid_principals": "somebody-else"})
		e.refused(t, key, "Certificate invalid: name is not a listed principal")
	})

	t.Run("other CA refused", func(t *testing.T) {
		key, _ := userKey(t, e.hosts, e.dir, "id_foreign", "any", map[string]any{"valid_principals": e.login})
		// sshd names the CA of a certificate it does not trust.
		e.refused(t, key, "CA ED25519 "+ssh.FingerprintSHA256(parseKey(t, e.hostCA)))
	})

	t.Run("expired certificate refused", func(t *testing.T) {
		key, cert := userKey(t, e.users, e.dir, "id_expired", "login", map[string]any{"ttl": "1s"})
		// OpenSSH refuses a certificate once now >= valid_before; poll the
		// clock rather than sleeping a guessed time.
		expiry := time.Unix(int64(cert.ValidBefore), 0)
		for !time.Now().After(expiry) {
			time.Sleep(20 * time.Millisecond)
		}
		e.refused(t, key, "Certificate invalid: expired")
	})
}

func TestOpenSSHHostCertificate(t *testing.T) {
	e := newOpenSSHEnv(t)
	key, _ := userKey(t, e.users, e.dir, "id_host_test", "login", nil)
	for _, tc := range []struct {
		name, knownCA, alias string
		ok                   bool
	}{
		{"trusted host CA", e.hostCA, "sshd.kinko.test", true},
		{"user CA is not the host CA", e.userCA, "sshd.kinko.test", false},
		{"name not in the certificate", e.hostCA, "other.kinko.test", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			known := filepath.Join(t.TempDir(), "known_hosts")
			line := "@cert-authority *.kinko.test " + tc.knownCA
			if err := os.WriteFile(known, []byte(line), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append(append([]string{}, key...), "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile="+known,
				"-o", "HostKeyAlias="+tc.alias, e.login+"@127.0.0.1", "echo", "ok")
			out, errOut, err := e.srv.ssh(t, args...)
			switch {
			case tc.ok && (err != nil || out != "ok\n"):
				t.Fatalf("ssh with host CA checking: %v\nstdout %q\n%s", err, out, errOut)
			case !tc.ok && (err == nil || out != ""):
				t.Fatalf("ssh accepted the host: %q", out)
			case !tc.ok && !strings.Contains(errOut, "Host key verification failed"):
				t.Fatalf("ssh failed for another reason (%v):\n%s", err, errOut)
			}
		})
	}
}
