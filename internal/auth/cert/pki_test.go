package cert

// A small test PKI (ECDSA P-256) shared by the unit tests and, through its
// exported names, by the end-to-end tests of package cert_test.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"testing"
	"time"
)

// TestCA is a certificate authority that issues test certificates.
type TestCA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	PEM  string
	// chain is the CA's own certificates below the root (intermediates),
	// presented by the leaves it issues.
	chain []*x509.Certificate
}

// TestCert is an issued certificate with its key.
type TestCert struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM string
	KeyPEM  string
	// Chain is what a client presents: the leaf, then intermediates.
	Chain []*x509.Certificate
}

// CertOptions describe a certificate to issue. Zero values give a client
// certificate valid from an hour ago to a day from now.
type CertOptions struct {
	CommonName     string
	DNSNames       []string
	EmailAddresses []string
	URIs           []string
	OUs            []string
	IPAddresses    []net.IP
	// ExtKeyUsage nil means client auth; use an empty non-nil slice for
	// none.
	ExtKeyUsage []x509.ExtKeyUsage
	NotBefore   time.Time
	NotAfter    time.Time
	Extensions  []pkix.Extension
	IsCA        bool
	Serial      int64 // 0: random
}

// NewTestCA creates a self-signed root CA.
func NewTestCA(t testing.TB, cn string) *TestCA {
	t.Helper()
	c := issue(t, nil, CertOptions{CommonName: cn, IsCA: true})
	return &TestCA{Cert: c.Cert, Key: c.Key, PEM: c.CertPEM}
}

// Intermediate issues an intermediate CA below ca.
func (ca *TestCA) Intermediate(t testing.TB, cn string) *TestCA {
	t.Helper()
	c := ca.Issue(t, CertOptions{CommonName: cn, IsCA: true})
	return &TestCA{Cert: c.Cert, Key: c.Key, PEM: c.CertPEM, chain: c.Chain}
}

// Issue signs a certificate with ca.
func (ca *TestCA) Issue(t testing.TB, o CertOptions) *TestCert {
	t.Helper()
	return issue(t, ca, o)
}

// SelfSigned creates a self-signed (non-CA unless o.IsCA) certificate.
func SelfSigned(t testing.TB, o CertOptions) *TestCert {
	t.Helper()
	return issue(t, nil, o)
}

// ConnState is the TLS state of a connection presenting c.
func (c *TestCert) ConnState() *tls.ConnectionState {
	return &tls.ConnectionState{PeerCertificates: c.Chain, HandshakeComplete: true}
}

// TLSCertificate is c as a crypto/tls client or server certificate.
func (c *TestCert) TLSCertificate() tls.Certificate {
	tc := tls.Certificate{PrivateKey: c.Key, Leaf: c.Cert}
	for _, x := range c.Chain {
		tc.Certificate = append(tc.Certificate, x.Raw)
	}
	return tc
}

func issue(t testing.TB, ca *TestCA, o CertOptions) *TestCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := template(t, o)
	skid := sha1.Sum(elliptic.MarshalCompressed(elliptic.P256(), key.X, key.Y))
	tmpl.SubjectKeyId = skid[:]
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.Cert, ca.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	out := &TestCert{Cert: cert, Key: key, Chain: []*x509.Certificate{cert},
		CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		KeyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))}
	if ca != nil {
		out.Chain = append(out.Chain, ca.chain...)
	}
	return out
}

func template(t testing.TB, o CertOptions) *x509.Certificate {
	t.Helper()
	serial := big.NewInt(o.Serial)
	if o.Serial == 0 {
		var err error
		if serial, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62)); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:    serial,
		Subject:         pkix.Name{CommonName: o.CommonName, OrganizationalUnit: o.OUs},
		NotBefore:       orTime(o.NotBefore, now.Add(-time.Hour)),
		NotAfter:        orTime(o.NotAfter, now.Add(24*time.Hour)),
		DNSNames:        o.DNSNames,
		EmailAddresses:  o.EmailAddresses,
		IPAddresses:     o.IPAddresses,
		ExtraExtensions: o.Extensions,
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     o.ExtKeyUsage,
	}
	if o.ExtKeyUsage == nil && !o.IsCA {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	for _, u := range o.URIs {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, pu)
	}
	if o.IsCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	}
	return tmpl
}

func orTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

// CRL returns a PEM CRL issued by ca revoking the given certificates.
func (ca *TestCA) CRL(t testing.TB, revoked ...*x509.Certificate) string {
	t.Helper()
	rl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(time.Hour)}
	for _, c := range revoked {
		rl.RevokedCertificateEntries = append(rl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, rl, ca.Cert, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}))
}
