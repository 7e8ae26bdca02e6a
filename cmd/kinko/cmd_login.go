package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/kinko-dev/kinko/api"
)

type loginFlags struct {
	method    string
	path      string
	noStore   bool
	noPrint   bool
	tokenOnly bool
	field     string
}

func newLoginCmd(c *cli) *cobra.Command {
	var f loginFlags
	cmd := &cobra.Command{
		Use:   "login [flags] [TOKEN | -] [K=V...]",
		Short: "Authenticate locally",
		Long: `Authenticates to the server and stores the resulting token in
~/.kinko-token (mode 0600), so later commands use it automatically.

With the default -method=token, the token is checked with a lookup-self
request before it is stored. When TOKEN is omitted it is read without echo
from the terminal (or as one line from standard input); "-" reads it from
standard input too.

Other methods take K=V parameters (key=@file and key=- read a file or
standard input) and log in at auth/<path>/login, -path defaulting to the
method name:
  userpass   username=NAME, password=... (prompted without echo if missing)
  approle    role_id=ID, secret_id=SECRET
  jwt, oidc  role=ROLE, jwt=@FILE or jwt=- (a signed JWT)
  cert       name=ROLE (optional); the certificate comes from the global
             -client-cert and -client-key flags
Any other method posts its K=V parameters unchanged. "kinko auth help TYPE"
shows a method's parameters.

With -wrap-ttl the login response is wrapped: it is unwrapped and stored,
unless -no-store or -token-only is given, which print the wrapping token.`,
		Example: `  $ kinko login
  $ kinko login - < token.txt
  $ kinko login -no-store -field=token_accessor
  $ kinko login -method=userpass username=alice
  $ kinko login -method=approle role_id=@role_id secret_id=@secret_id
  $ kinko login -method=jwt role=ci jwt=@token.jwt
  $ kinko login -method=cert -client-cert=me.pem -client-key=me-key.pem`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runLogin(cmd, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.method, "method", "token", "Auth method type: token, userpass, approle, jwt, oidc, cert, or any method with a login endpoint")
	fl.StringVar(&f.path, "path", "", "Path where the auth method is mounted (default: the method type)")
	fl.BoolVar(&f.noStore, "no-store", false, "Do not store the token in ~/.kinko-token; only print it")
	fl.BoolVar(&f.noPrint, "no-print", false, "Do not print the token; only store it")
	fl.BoolVar(&f.tokenOnly, "token-only", false, "Print only the token and do not store it (shortcut for -field=token -no-store)")
	addFieldFlag(cmd, &f.field)
	return cmd
}

func (c *cli) runLogin(cmd *cobra.Command, f *loginFlags, args []string) error {
	if f.tokenOnly {
		f.noStore, f.field = true, "token"
	}
	if f.noStore && f.noPrint {
		return fail(exitLocal, "-no-store and -no-print cannot be used together")
	}
	client, err := c.apiClient()
	if err != nil {
		return err
	}
	ctx := cmdCtx(cmd)
	var secret *api.Secret
	if f.method == "token" {
		secret, err = c.tokenLogin(ctx, client, args)
	} else {
		secret, err = c.methodLogin(ctx, client, f, args)
	}
	if err != nil {
		return err
	}
	if secret.WrapInfo != nil {
		if f.noStore {
			return c.printWrappedLogin(secret, f)
		}
		// Store the token itself, not the wrapping token.
		secret, err = client.WithToken(secret.WrapInfo.Token).WithoutWrapping().Unwrap(ctx, "")
		if err != nil {
			return fail(exitAPI, "Error unwrapping the login response: %s", err)
		}
	}
	if secret == nil || secret.Auth == nil || secret.Auth.ClientToken == "" {
		return fail(exitAPI, "Error authenticating: the response holds no token")
	}
	return c.finishLogin(secret, f)
}

// printWrappedLogin prints a wrapped login response that is not stored:
// the wrapping token for -token-only, else the wrap information.
func (c *cli) printWrappedLogin(secret *api.Secret, f *loginFlags) error {
	if f.noPrint {
		return nil
	}
	switch {
	case f.tokenOnly:
		return c.printField(secret.WrapInfo.Token, "wrapping_token")
	case f.field != "":
		return c.printField(secretField(secret, f.field), f.field)
	}
	return c.outputSecret(secret)
}

// finishLogin stores the token of a successful login and prints it.
func (c *cli) finishLogin(secret *api.Secret, f *loginFlags) error {
	if !f.noStore {
		if err := c.storeToken(secret.Auth.ClientToken); err != nil {
			return fail(exitLocal, "Error storing token: %s", err)
		}
		c.warnTokenEnv()
	} else if !f.tokenOnly {
		c.warn(wrapAtLength("The token was not stored in the token helper. Set the KINKO_TOKEN "+
			"environment variable or pass the token below with each request.", 0) + "\n")
	}
	if f.noPrint {
		return nil
	}
	if f.field != "" {
		return c.printField(secretField(secret, f.field), f.field)
	}
	if !c.isJSON() {
		msg := "Success! You are now authenticated."
		if !f.noStore {
			msg += " The token information displayed below is already stored in the token " +
				"helper. You do NOT need to run \"kinko login\" again. Future requests will " +
				"automatically use this token."
		}
		c.println(wrapAtLength(msg, 0) + "\n")
	}
	return c.outputSecret(secret)
}

// tokenLogin validates a token with lookup-self and returns it as an auth
// response. The lookup is never wrapped: its answer is needed here.
func (c *cli) tokenLogin(ctx context.Context, client *api.Client, args []string) (*api.Secret, error) {
	if len(args) > 1 {
		return nil, fail(exitLocal, "Too many arguments (expected at most 1, got %d)", len(args))
	}
	token, err := c.secretArg(args, "Token (will be hidden): ")
	if err != nil {
		return nil, fail(exitLocal, "Error reading the token: %s", err)
	}
	lookup, err := client.WithToken(token).WithoutWrapping().Read(ctx, "auth/token/lookup-self", nil)
	if err != nil {
		return nil, fail(exitAPI, "Error authenticating: %s", err)
	}
	if lookup == nil {
		return nil, fail(exitAPI, "Error authenticating: empty response from token lookup")
	}
	policies := lookup.TokenPolicies()
	identity := stringList(lookup.Data["identity_policies"])
	return &api.Secret{Auth: &api.SecretAuth{
		ClientToken:      token,
		Accessor:         lookup.TokenAccessor(),
		TokenPolicies:    policies,
		IdentityPolicies: identity,
		Policies:         unionSorted(policies, identity),
		Metadata:         lookup.TokenMetadata(),
		LeaseDuration:    int(lookup.TokenTTL().Seconds()),
		Renewable:        lookup.TokenIsRenewable(),
	}}, nil
}

// methodLogin logs in with an auth method: K=V parameters go, through the
// method's handler if it has one, to auth/<path>/login. The response may be
// wrapped (-wrap-ttl); the caller checks it holds a token.
func (c *cli) methodLogin(ctx context.Context, client *api.Client, f *loginFlags, args []string) (*api.Secret, error) {
	data, err := newDataParser(c.stdin).parse(args)
	if err != nil {
		return nil, fail(exitLocal, "Error parsing configuration: %s", err)
	}
	mount := sanitizePath(f.path)
	if mount == "" {
		mount = f.method
	}
	sub := "login"
	if m := loginMethods[f.method]; m != nil && m.request != nil {
		if sub, data, err = m.request(c, f.method, data); err != nil {
			return nil, err
		}
	}
	secret, err := client.WithToken("").Write(ctx, "auth/"+mount+"/"+sub, data)
	if err != nil {
		return nil, fail(exitAPI, "Error authenticating: %s", err)
	}
	if secret == nil {
		return nil, fail(exitAPI, "Error authenticating: the response holds no token")
	}
	return secret, nil
}

// secretArg returns args[0], reads stdin for "-", or prompts when args is
// empty.
func (c *cli) secretArg(args []string, prompt string) (string, error) {
	if len(args) == 0 || args[0] == "-" {
		return c.readSecret(prompt)
	}
	if args[0] == "" {
		return "", errors.New("empty value")
	}
	return args[0], nil
}

func (c *cli) warnTokenEnv() {
	for _, name := range []string{api.EnvToken, api.EnvVaultToken} {
		if c.getenv(name) != "" {
			c.warn(wrapAtLength(fmt.Sprintf("WARNING! The %s environment variable is set! Its value "+
				"takes precedence over the stored token; if this is unwanted, unset %s.", name, name), 0) + "\n")
		}
	}
}

func stringList(v any) []string {
	raw, _ := v.([]any)
	out := make([]string, 0, len(raw))
	for _, x := range raw {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func unionSorted(a, b []string) []string {
	set := map[string]bool{}
	for _, s := range append(slices.Clone(a), b...) {
		set[s] = true
	}
	return slices.Sorted(maps.Keys(set))
}
