package passwordpolicy

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"sync"

	"github.com/kinko-dev/kinko/internal/logical"
)

const storagePrefix = "password_policy/"

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

type record struct {
	Policy string `json:"policy"`
}

// Store keeps named policies in a storage view, with a cache of parsed
// ones. Safe for concurrent use.
type Store struct {
	view  logical.Storage
	mu    sync.RWMutex
	cache map[string]*Policy
	def   *Policy
}

// NewStore returns a store over view.
func NewStore(view logical.Storage) *Store {
	return &Store{view: view, cache: map[string]*Policy{}, def: Default()}
}

func checkName(name string) error {
	if !nameRE.MatchString(name) {
		return logical.InvalidRequest("password policy name %q is invalid: use 1 to 128 letters, digits, '-' or '_'", name)
	}
	return nil
}

// Get returns the named policy, or nil when there is none.
func (s *Store) Get(ctx context.Context, name string) (*Policy, error) {
	s.mu.RLock()
	p, ok := s.cache[name]
	s.mu.RUnlock()
	if ok {
		return p, nil
	}
	var rec record
	found, err := logical.GetJSON(ctx, s.view, storagePrefix+name, &rec)
	if err != nil || !found {
		return nil, err
	}
	if p, err = Parse(rec.Policy); err != nil {
		return nil, fmt.Errorf("stored password policy %q: %w", name, err)
	}
	s.mu.Lock()
	s.cache[name] = p
	s.mu.Unlock()
	return p, nil
}

// Generate makes a password from the named policy, or from Default when
// name is "". An unknown name is an ErrInvalidRequest.
func (s *Store) Generate(ctx context.Context, name string) (string, error) {
	p := s.def
	if name != "" {
		if err := checkName(name); err != nil {
			return "", err
		}
		var err error
		if p, err = s.Get(ctx, name); err != nil {
			return "", err
		}
		if p == nil {
			return "", logical.InvalidRequest("password policy %q does not exist", name)
		}
	}
	return p.Generate(nil)
}

// Paths are served by the sys backend (patterns relative to sys/).
func (s *Store) Paths() []*logical.Path {
	name := map[string]*logical.FieldSchema{
		"name":   {Type: logical.TypeString, Description: "The password policy's name."},
		"policy": {Type: logical.TypeString, Description: "The policy in HCL (or base64 of it)."},
	}
	return []*logical.Path{
		{Pattern: "policies/password/?", Operations: map[logical.Operation]logical.OperationFunc{
			logical.ListOperation: s.handleList}, HelpSynopsis: "List password policies."},
		{Pattern: `policies/password/(?P<name>[^/]+)/generate`, Fields: name, Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation: s.handleGenerate}, HelpSynopsis: "Generate a password from the policy."},
		{Pattern: `policies/password/(?P<name>[^/]+)`, Fields: name, Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation: s.handleRead, logical.UpdateOperation: s.handleWrite, logical.DeleteOperation: s.handleDelete},
			HelpSynopsis: "Read, write or delete a password policy (length and charset rules)."},
	}
}

func (s *Store) handleList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	keys, err := s.view.List(ctx, storagePrefix)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(keys), nil
}

func (s *Store) handleRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	n := d.Get("name").(string)
	if err := checkName(n); err != nil {
		return nil, err
	}
	var rec record
	found, err := logical.GetJSON(ctx, s.view, storagePrefix+n, &rec)
	if err != nil || !found {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"policy": rec.Policy}), nil
}

func (s *Store) handleWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	n := d.Get("name").(string)
	if err := checkName(n); err != nil {
		return nil, err
	}
	text := d.Get("policy").(string)
	if text == "" {
		return nil, logical.InvalidRequest("missing policy")
	}
	if dec, err := base64.StdEncoding.DecodeString(text); err == nil {
		text = string(dec) // Vault accepts the policy base64-encoded too
	}
	p, err := Parse(text)
	if err != nil {
		return nil, logical.InvalidRequest("invalid password policy: %s", err)
	}
	if pw, err := p.Generate(nil); err != nil || !p.Satisfied(pw) {
		return nil, logical.InvalidRequest("the password policy cannot generate a password that satisfies it")
	}
	if err := logical.PutJSON(ctx, s.view, storagePrefix+n, record{Policy: text}); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.cache[n] = p
	s.mu.Unlock()
	return nil, nil
}

func (s *Store) handleDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	n := d.Get("name").(string)
	if err := checkName(n); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cache, n)
	return nil, s.view.Delete(ctx, storagePrefix+n)
}

func (s *Store) handleGenerate(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	n := d.Get("name").(string)
	if err := checkName(n); err != nil {
		return nil, err
	}
	p, err := s.Get(ctx, n)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, logical.InvalidRequest("password policy %q does not exist", n)
	}
	pw, err := p.Generate(nil)
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"password": pw}), nil
}
