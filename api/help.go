package api

import (
	"context"
	"net/http"
)

// Help is the help text of an API path.
type Help struct {
	Help    string   `json:"help"`
	SeeAlso []string `json:"see_also,omitempty"`
}

// Help reads the help of path (GET /v1/<path>?help=1), e.g. "auth/userpass"
// for an auth method's overview. It is never response-wrapped.
func (c *Client) Help(ctx context.Context, path string) (*Help, error) {
	var out Help
	r := &Request{Method: http.MethodGet, Path: trimSlashes(path), Query: map[string][]string{"help": {"1"}}}
	if err := c.WithoutWrapping().sendData(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
