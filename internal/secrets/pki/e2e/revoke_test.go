package e2e

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// fetchCRL reads the unauthenticated DER CRL and checks its signature.
func fetchCRL(t *testing.T, e *srvEnv, mount string, root *x509.Certificate) *x509.RevocationList {
	t.Helper()
	status, ct, body := e.raw(http.MethodGet, mount+"/crl", "", nil)
	if status != http.StatusOK || ct != "application/pkix-crl" {
		t.Fatalf("GET crl: %d %s", status, ct)
	}
	crl, err := x509.ParseRevocationList(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(root); err != nil {
		t.Fatalf("CRL signature: %v", err)
	}
	return crl
}

func crlHas(crl *x509.RevocationList, c *x509.Certificate) bool {
	for _, r := range crl.RevokedCertificateEntries {
		if r.SerialNumber.Cmp(c.SerialNumber) == 0 {
			return true
		}
	}
	return false
}

// ocspGet asks the responder about c with a GET request.
func ocspGet(t *testing.T, e *srvEnv, c, issuer *x509.Certificate) (*ocsp.Response, error) {
	t.Helper()
	der, err := ocsp.CreateRequest(c, issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(der)
	if strings.Contains(b64, "//") {
		// An empty path segment is refused by the HTTP layer; the engine
		// also accepts the URL-safe alphabet, which has no '/'.
		b64 = base64.URLEncoding.EncodeToString(der)
	}
	status, ct, body := e.raw(http.MethodGet, "pki/ocsp/"+url.PathEscape(b64), "", nil)
	if status != http.StatusOK || ct != "application/ocsp-response" {
		t.Fatalf("OCSP GET: %d %s %q", status, ct, body)
	}
	return ocsp.ParseResponse(body, issuer)
}

func TestRevokeCRLAndOCSP(t *testing.T) {
	e, root := webEnv(t)
	good := e.issue("pki/issue/web", map[string]any{"common_name": "good.example.com"})
	bad := e.issue("pki/issue/web", map[string]any{"common_name": "bad.example.com"})
	before := fetchCRL(t, e, "pki", root)
	if crlHas(before, bad.cert) {
		t.Fatal("certificate in the CRL before revocation")
	}

	rev := e.write("pki/revoke", map[string]any{"serial_number": bad.serial})
	revTime, _ := rev.Data["revocation_time"].(json.Number).Int64()
	if rev.Data["state"] != "revoked" || revTime == 0 {
		t.Fatalf("revoke response %v", rev.Data)
	}
	again := e.write("pki/revoke", map[string]any{"serial_number": strings.ReplaceAll(bad.serial, ":", "-")})
	if again.Data["revocation_time"] != rev.Data["revocation_time"] {
		t.Errorf("second revoke changed the time: %v", again.Data)
	}

	crl := fetchCRL(t, e, "pki", root)
	if !crlHas(crl, bad.cert) || crlHas(crl, good.cert) || crl.Number.Cmp(before.Number) <= 0 {
		t.Fatalf("CRL after revoke: %d entries, number %v (before %v)", len(crl.RevokedCertificateEntries), crl.Number, before.Number)
	}
	_, _, pemBody := e.raw(http.MethodGet, "pki/crl/pem", "", nil)
	if block, _ := pem.Decode(pemBody); block == nil || block.Type != "X509 CRL" {
		t.Errorf("crl/pem: %q", pemBody)
	}
	if !strings.HasPrefix(str(e.read("pki/cert/crl").Data["certificate"]), "-----BEGIN X509 CRL-----") {
		t.Error("cert/crl is not a PEM CRL")
	}

	resp, err := ocspGet(t, e, bad.cert, root)
	if err != nil || resp.Status != ocsp.Revoked || resp.RevokedAt.Unix() != revTime || resp.SerialNumber.Cmp(bad.cert.SerialNumber) != 0 {
		t.Fatalf("OCSP for the revoked certificate: %+v, %v", resp, err)
	}
	resp, err = ocspGet(t, e, good.cert, root)
	if err != nil || resp.Status != ocsp.Good || resp.NextUpdate.Sub(resp.ThisUpdate) != 12*time.Hour {
		t.Fatalf("OCSP for the good certificate: %+v, %v", resp, err)
	}
}

func TestOCSPPost(t *testing.T) {
	e, root := webEnv(t)
	c := e.issue("pki/issue/web", map[string]any{"common_name": "p.example.com"})
	der, err := ocsp.CreateRequest(c.cert, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	status, ct, body := e.raw(http.MethodPost, "pki/ocsp", "application/ocsp-request", der)
	if ct != "application/ocsp-response" {
		t.Fatalf("OCSP POST answered %d %s %s", status, ct, body)
	}
	resp, err := ocsp.ParseResponse(body, root)
	if status != http.StatusOK || err != nil || resp.Status != ocsp.Good {
		t.Fatalf("OCSP POST: %d %v %+v", status, err, resp)
	}
}

func TestOCSPErrors(t *testing.T) {
	e, root := webEnv(t)
	status, ct, body := e.raw(http.MethodGet, "pki/ocsp/bm90IGFuIG9jc3AgcmVxdWVzdA==", "", nil)
	if status != http.StatusBadRequest || ct != "application/ocsp-response" {
		t.Fatalf("malformed: %d %s", status, ct)
	}
	if _, err := ocsp.ParseResponse(body, nil); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("malformed request answered %v", err)
	}
	// A certificate of another CA: unknown, signed by the default issuer.
	e.mount("other")
	otherRoot := e.genRoot("other", nil)
	e.write("other/roles/any", map[string]any{"allow_any_name": true, "key_type": "ec"})
	foreign := e.issue("other/issue/any", map[string]any{"common_name": "f.test"})
	der, _ := ocsp.CreateRequest(foreign.cert, otherRoot, nil)
	_, _, body = e.raw(http.MethodGet, "pki/ocsp/"+base64.URLEncoding.EncodeToString(der), "", nil)
	resp, err := ocsp.ParseResponse(body, root)
	if err != nil || resp.Status != ocsp.Unknown {
		t.Errorf("foreign certificate: %+v %v", resp, err)
	}
	e.write("pki/config/crl", map[string]any{"ocsp_disable": true})
	good := e.issue("pki/issue/web", map[string]any{"common_name": "g.example.com"})
	der, _ = ocsp.CreateRequest(good.cert, root, nil)
	if status, _, _ := e.raw(http.MethodGet, "pki/ocsp/"+base64.URLEncoding.EncodeToString(der), "", nil); status != http.StatusUnauthorized {
		t.Errorf("ocsp_disable: status %d", status)
	}
}

func TestRevokeByCertificateAndErrors(t *testing.T) {
	e, root := webEnv(t)
	e.write("pki/roles/nostore", map[string]any{"allow_any_name": true, "key_type": "ec", "no_store": true})
	ns := e.issue("pki/issue/nostore", map[string]any{"common_name": "ns.test"})
	certPEM := str(ns.secret.Data["certificate"])
	e.write("pki/revoke", map[string]any{"certificate": certPEM})
	if !crlHas(fetchCRL(t, e, "pki", root), ns.cert) {
		t.Error("certificate revoked by PEM is not in the CRL")
	}
	e.writeFails("pki/revoke", map[string]any{"serial_number": "01:02:03"}, "not found")
	e.writeFails("pki/revoke", map[string]any{}, "must be provided")
	e.writeFails("pki/revoke", map[string]any{"serial_number": "zz"}, "invalid serial number")
	e.writeFails("pki/revoke", map[string]any{"serial_number": hexSerial(root)}, "its own CRL")
	e.mount("other")
	e.genRoot("other", nil)
	e.write("other/roles/any", map[string]any{"allow_any_name": true, "key_type": "ec"})
	foreign := e.issue("other/issue/any", map[string]any{"common_name": "f.test"})
	e.writeFails("pki/revoke", map[string]any{"certificate": str(foreign.secret.Data["certificate"])}, "not issued by any issuer")

	before := fetchCRL(t, e, "pki", root)
	if s := e.read("pki/crl/rotate"); s.Data["success"] != true {
		t.Fatalf("crl/rotate: %v", s.Data)
	}
	if after := fetchCRL(t, e, "pki", root); after.Number.Cmp(before.Number) <= 0 {
		t.Errorf("crl/rotate did not advance the CRL number: %v → %v", before.Number, after.Number)
	}
}
