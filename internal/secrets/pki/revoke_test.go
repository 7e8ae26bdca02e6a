package pki

import (
	"crypto/x509"
	"net/http"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/kinko-dev/kinko/internal/logical"
)

// leafEnv is a direct backend with an EC root and an any-name role.
func leafEnv(t *testing.T) (*direct, *x509.Certificate) {
	d := newDirect(t)
	resp := d.ok(logical.UpdateOperation, "root/generate/internal", map[string]any{"common_name": "Root", "key_type": "ec", "ttl": "87600h"})
	d.ok(logical.UpdateOperation, "roles/any", map[string]any{"allow_any_name": true, "key_type": "ec"})
	return d, mustCert(t, resp.Data["certificate"].(string))
}

func (d *direct) issueCert(cn, ttl string) *x509.Certificate {
	d.t.Helper()
	resp := d.ok(logical.UpdateOperation, "issue/any", map[string]any{"common_name": cn, "ttl": ttl})
	return mustCert(d.t, resp.Data["certificate"].(string))
}

// TestOCSPPostBody covers the POST form as the HTTP layer is to deliver it:
// the DER body under RawBodyKey.
func TestOCSPPostBody(t *testing.T) {
	d, root := leafEnv(t)
	c := d.issueCert("post.test", "1h")
	der, err := ocsp.CreateRequest(c, root, &ocsp.RequestOptions{Hash: 0})
	if err != nil {
		t.Fatal(err)
	}
	before := d.ok(logical.UpdateOperation, "ocsp", map[string]any{RawBodyKey: der})
	if r, err := ocsp.ParseResponse(before.Raw, root); err != nil || r.Status != ocsp.Good {
		t.Fatalf("before revocation: %+v %v", r, err)
	}
	// The signed "good" answer is cached; a revocation must still show at once.
	d.ok(logical.UpdateOperation, "revoke", map[string]any{"serial_number": formatSerial(c.SerialNumber)})
	resp := d.ok(logical.UpdateOperation, "ocsp", map[string]any{RawBodyKey: der})
	if resp.RawStatus != http.StatusOK || resp.RawContentType != ocspContentType {
		t.Fatalf("status %d, type %q", resp.RawStatus, resp.RawContentType)
	}
	r, err := ocsp.ParseResponse(resp.Raw, root)
	if err != nil || r.Status != ocsp.Revoked {
		t.Fatalf("%+v %v", r, err)
	}
	for _, body := range []any{nil, []byte{}, []byte("junk"), make([]byte, maxOCSPRequest+1), 42} {
		resp := d.ok(logical.UpdateOperation, "ocsp", map[string]any{RawBodyKey: body})
		if resp.RawStatus != http.StatusBadRequest {
			t.Errorf("body %T of %v: status %d", body, body, resp.RawStatus)
		}
	}
}

func TestTidyAndExpiring(t *testing.T) {
	d, _ := leafEnv(t)
	short := d.issueCert("short.test", "24h")
	revoked := d.issueCert("revoked.test", "24h")
	long := d.issueCert("long.test", "2000h")
	d.ok(logical.UpdateOperation, "revoke", map[string]any{"serial_number": formatSerial(revoked.SerialNumber)})

	exp := d.ok(logical.ReadOperation, "certs/expiring", map[string]any{"days": "2"})
	if exp.Data["count"] != 1 || exp.Data["keys"].([]string)[0] != formatSerial(short.SerialNumber) {
		t.Fatalf("expiring within 2 days: %v", exp.Data)
	}
	if n, err := d.b.ExpiringWithin(t.Context(), 100*24*time.Hour); err != nil || n != 2 {
		t.Errorf("ExpiringWithin(100d) = %d, %v; want short and long", n, err)
	}
	d.fails(logical.UpdateOperation, "tidy", map[string]any{}, "at least one of")

	d.clock.Advance(48 * time.Hour) // expired, but within the 72h safety buffer
	tidy := d.ok(logical.UpdateOperation, "tidy", map[string]any{"tidy_cert_store": true, "tidy_revoked_certs": true})
	if tidy.Data["cert_store_deleted_count"] != 0 || tidy.Data["revoked_cert_deleted_count"] != 0 {
		t.Fatalf("tidy inside the safety buffer: %v", tidy.Data)
	}
	d.clock.Advance(49 * time.Hour)
	tidy = d.ok(logical.UpdateOperation, "tidy", map[string]any{"tidy_cert_store": true, "tidy_revoked_certs": true})
	if tidy.Data["cert_store_deleted_count"] != 1 || tidy.Data["revoked_cert_deleted_count"] != 1 {
		t.Fatalf("tidy: %v", tidy.Data)
	}
	for _, c := range []*x509.Certificate{short, revoked} {
		if resp, err := d.do(logical.ReadOperation, "cert/"+formatSerial(c.SerialNumber), nil); err != nil || resp != nil {
			t.Errorf("%s still stored: %v %v", c.Subject.CommonName, resp, err)
		}
	}
	if resp := d.ok(logical.ReadOperation, "cert/"+formatSerial(long.SerialNumber), nil); resp == nil {
		t.Error("tidy removed a valid certificate")
	}
	crlDER := d.ok(logical.ReadOperation, "crl", nil).Raw
	crl, err := x509.ParseRevocationList(crlDER)
	if err != nil || len(crl.RevokedCertificateEntries) != 0 {
		t.Errorf("CRL after tidying the revocation: %v %v", crl, err)
	}
}

// TestStaleCRLRebuiltOnRead checks that a CRL read after its nextUpdate
// is rebuilt rather than served expired.
func TestStaleCRLRebuiltOnRead(t *testing.T) {
	d, root := leafEnv(t)
	first, err := x509.ParseRevocationList(d.ok(logical.ReadOperation, "crl", nil).Raw)
	if err != nil {
		t.Fatal(err)
	}
	d.clock.Advance(73 * time.Hour)
	second, err := x509.ParseRevocationList(d.ok(logical.ReadOperation, "crl", nil).Raw)
	if err != nil || second.CheckSignatureFrom(root) != nil {
		t.Fatal(err)
	}
	if second.Number.Cmp(first.Number) <= 0 || !second.NextUpdate.After(d.clock.Now()) {
		t.Errorf("stale CRL served: number %v → %v, next update %v", first.Number, second.Number, second.NextUpdate)
	}
}
