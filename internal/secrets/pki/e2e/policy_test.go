package e2e

import (
	"testing"
)

// policyRoles are the roles TestDomainPolicy issues under.
var policyRoles = map[string]map[string]any{
	"sub":   {"allowed_domains": "example.com", "allow_subdomains": true},
	"bare":  {"allowed_domains": "example.com,example.org", "allow_bare_domains": true},
	"both":  {"allowed_domains": "example.com", "allow_bare_domains": true, "allow_subdomains": true},
	"glob":  {"allowed_domains": "*.svc.cluster.local,db-*.example.net", "allow_glob_domains": true},
	"any":   {"allow_any_name": true},
	"anyno": {"allow_any_name": true, "enforce_hostnames": false},
	"noip":  {"allowed_domains": "example.com", "allow_subdomains": true, "allow_ip_sans": false},
	"nowc":  {"allowed_domains": "example.com", "allow_subdomains": true, "allow_wildcard_certificates": false},
	"nolh":  {"allowed_domains": "example.com", "allow_localhost": false},
	"nocn":  {"allowed_domains": "example.com", "allow_subdomains": true, "require_cn": false},
}

// policyCases are issue requests and whether each role allows them.
var policyCases = []struct {
	role string
	body map[string]any
	ok   bool
	msg  string
}{
	{"sub", map[string]any{"common_name": "www.example.com"}, true, ""},
	{"sub", map[string]any{"common_name": "a.b.example.com"}, true, ""},
	{"sub", map[string]any{"common_name": "*.example.com"}, true, ""},
	{"sub", map[string]any{"common_name": "WWW.EXAMPLE.COM"}, true, ""},
	{"sub", map[string]any{"common_name": "example.com"}, false, "common name example.com not allowed"},
	{"sub", map[string]any{"common_name": "evilexample.com"}, false, "not allowed"},
	{"sub", map[string]any{"common_name": "example.com.evil.org"}, false, "not allowed"},
	{"sub", map[string]any{"common_name": "www.example.com", "alt_names": "www.evil.org"}, false, "subject alternate name www.evil.org"},
	{"sub", map[string]any{"common_name": "localhost"}, true, ""},
	{"sub", map[string]any{"common_name": "a.example.com", "ip_sans": "10.0.0.1,::1"}, true, ""},
	{"sub", map[string]any{"common_name": "a.example.com", "ip_sans": "10.0.0"}, false, "not a valid IP address"},
	{"sub", map[string]any{"common_name": "bad_name.example.com"}, false, "not allowed"},
	{"sub", map[string]any{"common_name": "a.*.example.com"}, false, "not allowed"},
	{"sub", map[string]any{}, false, "common_name field is required"},
	{"bare", map[string]any{"common_name": "example.org"}, true, ""},
	{"bare", map[string]any{"common_name": "www.example.org"}, false, "not allowed"},
	{"bare", map[string]any{"common_name": "*.example.com"}, false, "not allowed"},
	{"both", map[string]any{"common_name": "example.com", "alt_names": "x.example.com"}, true, ""},
	{"glob", map[string]any{"common_name": "api.default.svc.cluster.local"}, true, ""},
	{"glob", map[string]any{"common_name": "db-7.example.net"}, true, ""},
	{"glob", map[string]any{"common_name": "web-7.example.net"}, false, "not allowed"},
	{"glob", map[string]any{"common_name": "svc.cluster.local"}, false, "not allowed"},
	{"any", map[string]any{"common_name": "anything.at.all"}, true, ""},
	{"any", map[string]any{"common_name": "not a hostname"}, false, "not allowed"},
	{"anyno", map[string]any{"common_name": "Not A Hostname"}, true, ""},
	{"noip", map[string]any{"common_name": "a.example.com", "ip_sans": "10.0.0.1"}, false, "IP Subject Alternative Names are not allowed"},
	{"noip", map[string]any{"common_name": "a.example.com"}, true, ""},
	{"nowc", map[string]any{"common_name": "*.example.com"}, false, "not allowed"},
	{"nowc", map[string]any{"common_name": "w.example.com"}, true, ""},
	{"nolh", map[string]any{"common_name": "localhost"}, false, "not allowed"},
	{"nocn", map[string]any{"alt_names": "x.example.com"}, true, ""},
}

// TestDomainPolicy issues through the server under roles with different
// name policies and checks what is allowed and what is refused.
func TestDomainPolicy(t *testing.T) {
	e := newServer(t)
	e.mount("pki")
	e.genRoot("pki", nil)
	for name, data := range policyRoles {
		data["key_type"] = "ec"
		e.write("pki/roles/"+name, data)
	}
	for _, tt := range policyCases {
		t.Run(tt.role+"/"+str(tt.body["common_name"])+str(tt.body["alt_names"])+str(tt.body["ip_sans"]), func(t *testing.T) {
			if tt.ok {
				got := e.issue("pki/issue/"+tt.role, tt.body)
				if cn := str(tt.body["common_name"]); got.cert.Subject.CommonName != cn {
					t.Errorf("CN %q, want %q", got.cert.Subject.CommonName, cn)
				}
				return
			}
			e.writeFails("pki/issue/"+tt.role, tt.body, tt.msg)
		})
	}
}
