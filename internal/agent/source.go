package agent

import (
	"context"
	"net/url"

	"github.com/kinko-dev/kinko/api"
	"github.com/kinko-dev/kinko/internal/agent/autoauth"
	"github.com/kinko-dev/kinko/internal/agent/template"
)

// Source reads and writes secrets with the agent's current token,
// waiting for the first login: what templates render from.
type Source struct {
	client *api.Client
	auth   *autoauth.Manager
}

var _ template.Source = (*Source)(nil)

// Source returns a Source bound to this agent's token.
func (a *Agent) Source() *Source { return &Source{client: a.client, auth: a.Auth} }

// Read implements template.Source.
func (s *Source) Read(ctx context.Context, path string, query url.Values) (*api.Secret, error) {
	tok, err := s.auth.WaitToken(ctx)
	if err != nil {
		return nil, err
	}
	sec, err := s.client.WithToken(tok).Read(ctx, path, query)
	return sec, s.auth.CheckRefused(tok, err)
}

// Write implements template.Source.
func (s *Source) Write(ctx context.Context, path string, data map[string]any) (*api.Secret, error) {
	tok, err := s.auth.WaitToken(ctx)
	if err != nil {
		return nil, err
	}
	sec, err := s.client.WithToken(tok).Write(ctx, path, data)
	return sec, s.auth.CheckRefused(tok, err)
}
