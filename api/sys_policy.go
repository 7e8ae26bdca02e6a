package api

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
)

// ListPolicies returns the names of the ACL policies, sorted
// (LIST sys/policies/acl).
func (c *Client) ListPolicies(ctx context.Context) ([]string, error) {
	s, err := c.List(ctx, "sys/policies/acl")
	if err != nil || s == nil {
		return nil, err
	}
	names := dataStrings(s.Data, "keys")
	sort.Strings(names)
	return names, nil
}

// GetPolicy returns the HCL rules of the named ACL policy, or "" and nil
// when no such policy exists (GET sys/policies/acl/<name>).
func (c *Client) GetPolicy(ctx context.Context, name string) (string, error) {
	if err := checkPolicyName(name); err != nil {
		return "", err
	}
	s, err := c.Read(ctx, "sys/policies/acl/"+name, nil)
	if err != nil || s == nil {
		return "", err
	}
	return dataString(s.Data, "policy"), nil
}

// PutPolicy creates or replaces the named ACL policy.
func (c *Client) PutPolicy(ctx context.Context, name, rules string) error {
	if err := checkPolicyName(name); err != nil {
		return err
	}
	r := &Request{Method: http.MethodPut, Path: "sys/policies/acl/" + name,
		Body: map[string]any{"policy": rules}}
	return c.sendJSON(ctx, r, nil)
}

// DeletePolicy deletes the named ACL policy; deleting a missing policy is
// not an error.
func (c *Client) DeletePolicy(ctx context.Context, name string) error {
	if err := checkPolicyName(name); err != nil {
		return err
	}
	r := &Request{Method: http.MethodDelete, Path: "sys/policies/acl/" + name}
	return c.sendJSON(ctx, r, nil)
}

func checkPolicyName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/?#") {
		return errors.New("api: policy name must be non-empty and contain no '/', '?' or '#'")
	}
	return nil
}
