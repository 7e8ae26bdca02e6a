package cert

import (
	"errors"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

// FuzzCertificateInput: any certificate field is stored (and read back
// unchanged) or refused with a 400, never a panic or an internal error;
// a stored role never breaks a login.
func FuzzCertificateInput(f *testing.F) {
	ca := NewTestCA(f, "ca")
	leaf := SelfSigned(f, CertOptions{CommonName: "leaf"})
	client := ca.Issue(f, CertOptions{CommonName: "c"})
	for _, s := range []string{ca.PEM, leaf.CertPEM, ca.PEM + leaf.CertPEM, "", "garbage",
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\n" + ca.PEM[28:],
		ca.PEM[:len(ca.PEM)/2]} {
		f.Add(s)
	}
	shared := newEnv(f)
	f.Fuzz(func(t *testing.T, pemText string) {
		e := *shared // same backend and storage, this input's t
		e.t = t
		resp, err := e.do(logical.UpdateOperation, "certs/f", map[string]any{"certificate": pemText}, nil)
		if err != nil {
			if !errors.Is(err, logical.ErrInvalidRequest) {
				t.Fatalf("non-user error: %v", err)
			}
			return
		}
		if resp != nil && resp.Auth != nil {
			t.Fatal("write returned an Auth")
		}
		got := e.ok(logical.ReadOperation, "certs/f", nil).Data["certificate"]
		if got != pemText {
			t.Fatalf("read back %q, wrote %q", got, pemText)
		}
		if _, err := e.login("f", client.ConnState()); err != nil && !errors.Is(err, logical.ErrInvalidRequest) {
			t.Fatalf("login after storing %q: non-user error %v", pemText, err)
		}
		e.ok(logical.DeleteOperation, "certs/f", nil)
	})
}
