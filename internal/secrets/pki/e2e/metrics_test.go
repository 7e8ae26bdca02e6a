package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestExpiringCertificatesMetric: /v1/sys/metrics reports, per PKI mount,
// the certificates expiring within 7 and 30 days.
func TestExpiringCertificatesMetric(t *testing.T) {
	e, _ := webEnv(t)
	for _, ttl := range []string{"48h", "72h", "480h", "700h"} { // 2, 3, 20, ~29 days
		e.issue("pki/issue/web", map[string]any{"common_name": "m.example.com", "ttl": ttl})
	}
	revoked := e.issue("pki/issue/web", map[string]any{"common_name": "r.example.com", "ttl": "24h"})
	e.write("pki/revoke", map[string]any{"serial_number": hexSerial(revoked.cert)})
	req, _ := http.NewRequest("GET", e.srv.Addr+"/v1/sys/metrics", nil)
	req.Header.Set("X-Vault-Token", e.srv.RootToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`kinko_pki_certificates_expiring{days="7",mount="pki/"} 2`,
		`kinko_pki_certificates_expiring{days="30",mount="pki/"} 4`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %s; got:\n%s", want, grepLines(b.String(), "kinko_pki"))
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
