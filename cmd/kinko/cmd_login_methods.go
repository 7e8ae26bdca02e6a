package main

import (
	"strings"
)

// loginMethod knows how one auth method type logs in from the CLI, as the
// Vault CLI's per-method handlers do: which K=V parameters it takes and how
// they become the login request. Types without an entry post their
// parameters unchanged to auth/<path>/login.
type loginMethod struct {
	// help documents the method's login parameters, for "kinko auth help".
	help string
	// request turns the parsed K=V parameters into the login path below
	// the mount ("login", "login/alice") and the request body. It may
	// prompt for a missing secret.
	request func(c *cli, method string, data map[string]any) (string, map[string]any, error)
}

// loginMethods are the methods with their own CLI handling, by type name.
var loginMethods = map[string]*loginMethod{
	"token": {help: `Usage: kinko login TOKEN

  Authenticates with a token, which is checked with a lookup-self request
  before it is stored. Without TOKEN it is read without echo from the
  terminal, or as one line from standard input; "-" reads standard input.

    $ kinko login
    $ kinko login - < token.txt`},
	"userpass": {request: (*cli).userpassLogin, help: `Usage: kinko login -method=userpass username=NAME [password=PASSWORD]

  Authenticates with a username and password (POST auth/<path>/login/NAME).
  Without password=... the password is prompted for without echo (or read
  as one line from standard input); password=@FILE reads it from a file and
  password=- from standard input, without the trailing line break.

    $ kinko login -method=userpass username=alice
    $ kinko login -method=userpass -path=people username=alice password=@pw.txt`},
	"ldap": {request: (*cli).userpassLogin, help: `Usage: kinko login -method=ldap username=NAME [password=PASSWORD]

  Authenticates with a directory username and password, as -method=userpass
  does (POST auth/<path>/login/NAME); the password is prompted for when
  missing.

    $ kinko login -method=ldap username=alice`},
	"approle": {request: (*cli).approleLogin, help: `Usage: kinko login -method=approle role_id=ID [secret_id=SECRET]

  Authenticates an application with its role ID and, unless the role was
  created with bind_secret_id=false, a secret ID (POST auth/<path>/login).
  Both accept @FILE and - (standard input).

    $ kinko login -method=approle role_id=@role_id secret_id=@secret_id`},
	"jwt": {request: (*cli).jwtLogin, help: jwtHelp},
	"oidc": {request: (*cli).jwtLogin, help: jwtHelp + `

  With -method=oidc the same JWT login is sent to an oidc mount; the
  browser-based OIDC flow is not supported by this CLI.`},
	"cert": {request: (*cli).certLogin, help: `Usage: kinko -client-cert=CERT -client-key=KEY login -method=cert [name=ROLE]

  Authenticates with the TLS client certificate given by -client-cert and
  -client-key (or KINKO_CLIENT_CERT and KINKO_CLIENT_KEY); the server must
  be reached over TLS. name=ROLE picks the certificate role to check
  against; without it every role is tried (POST auth/<path>/login).

    $ kinko -client-cert=me.pem -client-key=me-key.pem login -method=cert
    $ kinko login -method=cert -client-cert=me.pem -client-key=me-key.pem name=web`},
}

const jwtHelp = `Usage: kinko login -method=jwt [role=ROLE] jwt=@FILE

  Authenticates with a signed JSON Web Token (POST auth/<path>/login),
  checked against the mount's keys or OIDC discovery. role=ROLE picks the
  role (default: the mount's default_role). Pass the token as jwt=@FILE or
  jwt=- (standard input) so it stays out of shell history.

    $ kinko login -method=jwt role=ci jwt=@$CI_JOB_JWT_FILE
    $ kinko login -method=jwt -path=gitlab role=deploy jwt=- < token.jwt`

func (c *cli) userpassLogin(method string, data map[string]any) (string, map[string]any, error) {
	user, _ := data["username"].(string)
	user = strings.TrimSpace(user)
	if user == "" {
		return "", nil, fail(exitLocal, "Missing username=... for -method=%s", method)
	}
	delete(data, "username")
	if pw, ok := data["password"].(string); ok {
		// A password file written with echo ends in a newline that is
		// not part of the password; other whitespace is kept.
		data["password"] = strings.TrimRight(pw, "\r\n")
	} else if _, ok := data["password"]; !ok {
		pw, err := c.readSecret("Password (will be hidden): ")
		if err != nil {
			return "", nil, fail(exitLocal, "Error reading the password: %s", err)
		}
		data["password"] = pw
	}
	return "login/" + user, data, nil
}

func (c *cli) approleLogin(method string, data map[string]any) (string, map[string]any, error) {
	if err := requireString(data, "role_id", method); err != nil {
		return "", nil, err
	}
	return "login", trimValues(data, "role_id", "secret_id"), nil
}

func (c *cli) jwtLogin(method string, data map[string]any) (string, map[string]any, error) {
	if err := requireString(data, "jwt", method); err != nil {
		if method == "oidc" {
			return "", nil, fail(exitLocal, "Missing jwt=... for -method=oidc: the browser-based OIDC "+
				"flow is not supported; pass an ID token as jwt=@FILE")
		}
		return "", nil, err
	}
	return "login", trimValues(data, "jwt", "role"), nil
}

func (c *cli) certLogin(method string, data map[string]any) (string, map[string]any, error) {
	if !c.hasClientCert {
		return "", nil, fail(exitLocal, "-method=%s needs a client certificate: set -client-cert and "+
			"-client-key (or KINKO_CLIENT_CERT and KINKO_CLIENT_KEY)", method)
	}
	return "login", data, nil
}

// requireString fails unless data[key] is a non-blank string.
func requireString(data map[string]any, key, method string) error {
	if s, ok := data[key].(string); !ok || strings.TrimSpace(s) == "" {
		return fail(exitLocal, "Missing %s=... for -method=%s", key, method)
	}
	return nil
}

// trimValues trims the whitespace (a trailing newline of key=@file) around
// the named string values.
func trimValues(data map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		if s, ok := data[k].(string); ok {
			data[k] = strings.TrimSpace(s)
		}
	}
	return data
}
