package logical

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// OperationFunc handles one operation on a path.
type OperationFunc func(ctx context.Context, req *Request, d *FieldData) (*Response, error)

// ExistenceFunc reports whether the resource at a path exists.
type ExistenceFunc func(ctx context.Context, req *Request, d *FieldData) (bool, error)

// Path declares one route of a backend: a pattern (a regular expression,
// anchored, whose named groups become fields), typed fields and handlers.
type Path struct {
	Pattern         string
	Fields          map[string]*FieldSchema
	Operations      map[Operation]OperationFunc
	ExistenceCheck  ExistenceFunc
	HelpSynopsis    string
	HelpDescription string
	// TakesArbitraryInput turns off the unknown-field warning (e.g. KV v1).
	TakesArbitraryInput bool

	re *regexp.Regexp
}

// GenericNameRegex matches a name segment: letters, digits, '-', '_' and '.'.
func GenericNameRegex(name string) string {
	return fmt.Sprintf(`(?P<%s>\w(([\w.-]+)?\w)?)`, name)
}

// MatchAllRegex matches the rest of the path (may be empty).
func MatchAllRegex(name string) string {
	return fmt.Sprintf(`(?P<%s>.*)`, name)
}

// OptionalTrailingSlash accepts a trailing slash.
const OptionalTrailingSlash = `/?`

// Framework is a Backend built from declared paths. Embed or wrap it.
type Framework struct {
	PathList []*Path
	Help     string
	Special  *SpecialPaths
	// Clean is called on Cleanup, if set.
	Clean func(ctx context.Context)
	// AuthRenew, if set, answers core's renewal of a token this auth
	// method's login minted: a RenewOperation request with an empty Path,
	// req.Auth describing the token and an empty FieldData. It returns the
	// token's current bounds in resp.Auth (TTL, MaxTTL, Period) or an error
	// to refuse the renewal. Without it such renewals are refused.
	AuthRenew OperationFunc
	// Secrets are the kinds of lease this backend issues. A response that
	// carries a lease says its kind with SecretType.Response; core later
	// hands the lease back as a Renew or Revoke request with req.Secret
	// set, and the framework calls that kind's handler.
	Secrets []*SecretType
}

// SecretType is one kind of lease a backend issues (database credentials,
// say) with the handlers that renew and revoke it.
type SecretType struct {
	Type string
	// Renew answers a renewal with a response whose Secret holds the new
	// TTL (and MaxTTL); nil means such leases are not renewable.
	Renew OperationFunc
	// Revoke undoes what the lease granted; it must succeed when the
	// thing is already gone, so a retried revocation finishes.
	Revoke OperationFunc
}

// secretTypeKey is the InternalData key that names a lease's SecretType.
const secretTypeKey = "secret_type"

// Response builds a response that issues a lease of this kind: data goes
// to the caller, internal is kept with the lease and returned on renew
// and revoke, never shown.
func (t *SecretType) Response(data, internal map[string]any) *Response {
	in := make(map[string]any, len(internal)+1)
	for k, v := range internal {
		in[k] = v
	}
	in[secretTypeKey] = t.Type
	return &Response{Data: data, Secret: &Secret{InternalData: in, LeaseOptions: LeaseOptions{Renewable: t.Renew != nil}}}
}

var (
	_ Backend              = (*Framework)(nil)
	_ SpecialPathsProvider = (*Framework)(nil)
	_ ExistenceChecker     = (*Framework)(nil)
)

// Paths returns the declared paths.
func (f *Framework) Paths() []*Path { return f.PathList }

// SpecialPaths returns the backend's special paths.
func (f *Framework) SpecialPaths() *SpecialPaths { return f.Special }

// Cleanup calls Clean.
func (f *Framework) Cleanup(ctx context.Context) {
	if f.Clean != nil {
		f.Clean(ctx)
	}
}

func (p *Path) regexp() *regexp.Regexp {
	if p.re == nil {
		p.re = regexp.MustCompile("^" + p.Pattern + "$")
	}
	return p.re
}

// Compile compiles every pattern; call it once when the backend is built so
// concurrent requests only read. It panics on an invalid pattern, which is a
// programming error.
func (f *Framework) Compile() *Framework {
	for _, p := range f.PathList {
		p.regexp()
	}
	return f
}

// route finds the first path whose pattern matches and returns it with the
// captured named groups.
func (f *Framework) route(path string) (*Path, map[string]any) {
	for _, p := range f.PathList {
		re := p.regexp()
		m := re.FindStringSubmatch(path)
		if m == nil {
			continue
		}
		caps := map[string]any{}
		for i, name := range re.SubexpNames() {
			if name != "" {
				caps[name] = m[i]
			}
		}
		return p, caps
	}
	return nil, nil
}

func fieldData(p *Path, req *Request, caps map[string]any) *FieldData {
	raw := make(map[string]any, len(req.Data)+len(caps))
	for k, v := range req.Data {
		raw[k] = v
	}
	for k, v := range caps {
		raw[k] = v
	}
	return &FieldData{Raw: raw, Schema: p.Fields}
}

// HandleRequest routes req to its path and operation handler.
func (f *Framework) HandleRequest(ctx context.Context, req *Request) (*Response, error) {
	if req.Operation == RenewOperation && req.Path == "" && req.Auth != nil && req.Secret == nil {
		return f.handleAuthRenew(ctx, req)
	}
	if (req.Operation == RenewOperation || req.Operation == RevokeOperation) && req.Secret != nil && len(f.Secrets) > 0 {
		return f.handleSecret(ctx, req)
	}
	p, caps := f.route(req.Path)
	if p == nil {
		if req.Operation == HelpOperation {
			return f.help(nil), nil
		}
		return nil, Errorf(ErrUnsupportedPath, "unsupported path")
	}
	if req.Operation == HelpOperation {
		return f.help(p), nil
	}
	op := req.Operation
	h, ok := p.Operations[op]
	if !ok && op == CreateOperation {
		h, ok = p.Operations[UpdateOperation]
	}
	if !ok {
		return nil, Errorf(ErrUnsupportedOp, "unsupported operation")
	}
	d := fieldData(p, req, caps)
	if err := d.Validate(op); err != nil {
		return nil, err
	}
	resp, err := h(ctx, req, d)
	if err != nil {
		return resp, err
	}
	if !p.TakesArbitraryInput && (op == UpdateOperation || op == CreateOperation) {
		if unknown := d.Unknown(); len(unknown) > 0 {
			if resp == nil {
				resp = &Response{}
			}
			resp.AddWarning("Endpoint ignored these unrecognized parameters: [" + strings.Join(unknown, " ") + "]")
		}
	}
	return resp, nil
}

// errAuthRenewUnsupported refuses renewing a token of a method without
// AuthRenew (Vault's wording).
var errAuthRenewUnsupported = Errorf(ErrInvalidRequest, "this auth type doesn't support renew")

func (f *Framework) handleAuthRenew(ctx context.Context, req *Request) (*Response, error) {
	if f.AuthRenew == nil {
		return nil, errAuthRenewUnsupported
	}
	return f.AuthRenew(ctx, req, &FieldData{Raw: map[string]any{}})
}

func (f *Framework) handleSecret(ctx context.Context, req *Request) (*Response, error) {
	name, _ := req.Secret.InternalData[secretTypeKey].(string)
	for _, t := range f.Secrets {
		if t.Type != name {
			continue
		}
		h := t.Revoke
		if req.Operation == RenewOperation {
			h = t.Renew
		}
		if h == nil {
			return nil, Errorf(ErrInvalidRequest, "lease is not renewable")
		}
		return h(ctx, req, &FieldData{Raw: map[string]any{}})
	}
	return nil, Errorf(ErrInvalidRequest, "this backend issues no secret of type %q", name)
}

// HandleExistenceCheck runs the path's existence check, if any.
func (f *Framework) HandleExistenceCheck(ctx context.Context, req *Request) (bool, bool, error) {
	p, caps := f.route(req.Path)
	if p == nil || p.ExistenceCheck == nil {
		return false, false, nil
	}
	d := fieldData(p, req, caps)
	exists, err := p.ExistenceCheck(ctx, req, d)
	return true, exists, err
}

func (f *Framework) help(p *Path) *Response {
	if p == nil {
		var pats []string
		for _, x := range f.PathList {
			pats = append(pats, x.Pattern)
		}
		return DataResponse(map[string]any{"help": f.Help, "paths": pats})
	}
	fields := map[string]any{}
	names := make([]string, 0, len(p.Fields))
	for n := range p.Fields {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n%s\n", p.HelpSynopsis, p.HelpDescription)
	for _, n := range names {
		s := p.Fields[n]
		fields[n] = map[string]any{"type": s.Type.String(), "description": s.Description, "required": s.Required}
		fmt.Fprintf(&b, "\n  %s (%s)\n      %s\n", n, s.Type, s.Description)
	}
	ops := make([]string, 0, len(p.Operations))
	for op := range p.Operations {
		ops = append(ops, string(op))
	}
	sort.Strings(ops)
	return DataResponse(map[string]any{"help": b.String(), "pattern": p.Pattern, "fields": fields, "operations": ops})
}

// IssuesLease reports whether a response's Secret asks for a lease (it
// was built by SecretType.Response), as opposed to a Secret that only
// carries a TTL hint (KV v1 reads).
func (s *Secret) IssuesLease() bool {
	if s == nil {
		return false
	}
	_, ok := s.InternalData[secretTypeKey]
	return ok
}
