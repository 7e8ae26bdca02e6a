package template

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// PKICert is what pkiCert returns: the issued certificate, its private
// key and its CA, as consul-template's pkiCert gives them (.Data.Cert,
// .Data.Key, .Data.CA, .Data.CAChain; also at the top level).
type PKICert struct {
	Cert, Key, CA string
	CAChain       []string
	Data          map[string]any
}

// pkiCache keeps each template's issued certificates between renders, so
// a certificate is issued again only when a third of its validity is
// left, not at every render (consul-template's pkiCert).
type pkiCache struct {
	mu    sync.Mutex
	certs map[string]*issued
}

type issued struct {
	cert      *PKICert
	notBefore time.Time
	notAfter  time.Time
}

// renewAt is when a certificate is issued again: at two thirds of its
// validity.
func (i *issued) renewAt() time.Time {
	return i.notBefore.Add(i.notAfter.Sub(i.notBefore) * 2 / 3)
}

// pkiCert issues (writes path with args, e.g. "pki/issue/web"
// "common_name=web.example") or returns the certificate issued before
// while it is not due for renewal.
func (r *renderCtx) pkiCert(path string, args ...string) (*PKICert, error) {
	path = strings.Trim(path, "/")
	if len(args) == 0 {
		return nil, fmt.Errorf("pkiCert %s: needs key=value arguments such as common_name=...", path)
	}
	data, key, err := writeArgs(path, args)
	if err != nil {
		return nil, fmt.Errorf("pkiCert %s: %w", path, err)
	}
	c := r.pki
	c.mu.Lock()
	defer c.mu.Unlock()
	if got, ok := c.certs[key]; ok && r.now().Before(got.renewAt()) {
		return got.cert, nil
	}
	s, err := r.src.Write(r.ctx, path, data)
	if err != nil {
		return nil, fmt.Errorf("pkiCert %s: %w", path, err)
	}
	if s == nil {
		return nil, fmt.Errorf("pkiCert %s: %w", path, ErrMissing)
	}
	is, err := toIssued(s.Data)
	if err != nil {
		return nil, fmt.Errorf("pkiCert %s: %w", path, err)
	}
	if c.certs == nil {
		c.certs = map[string]*issued{}
	}
	c.certs[key] = is
	return is.cert, nil
}

// toIssued reads an issue answer: certificate, private_key, issuing_ca,
// ca_chain.
func toIssued(d map[string]any) (*issued, error) {
	str := func(k string) string { v, _ := d[k].(string); return v }
	certPEM := str("certificate")
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("the answer holds no PEM certificate")
	}
	x, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, errors.New("the answer's certificate cannot be parsed")
	}
	var chain []string
	if list, ok := d["ca_chain"].([]any); ok {
		for _, v := range list {
			if s, ok := v.(string); ok {
				chain = append(chain, s)
			}
		}
	}
	pc := &PKICert{Cert: certPEM, Key: str("private_key"), CA: str("issuing_ca"), CAChain: chain}
	pc.Data = map[string]any{"Cert": pc.Cert, "Key": pc.Key, "CA": pc.CA, "CAChain": pc.CAChain}
	for k, v := range d {
		pc.Data[k] = v
	}
	return &issued{cert: pc, notBefore: x.NotBefore, notAfter: x.NotAfter}, nil
}
