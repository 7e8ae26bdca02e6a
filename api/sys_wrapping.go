package api

import (
	"context"
	"net/http"
	"strings"
)

// Unwrap returns the response guarded by a wrapping token and spends the
// token (PUT sys/wrapping/unwrap). It follows Vault's client: with an empty
// wrappingToken, or one equal to the client's own token, the client's token
// is the wrapping token; a client without a token authenticates with the
// wrapping token itself; otherwise the wrapping token travels in the body
// and the client's token authenticates the call. A client with a wrap TTL
// gets the unwrapped response wrapped again in a new token.
func (c *Client) Unwrap(ctx context.Context, wrappingToken string) (*Secret, error) {
	wt := strings.TrimSpace(wrappingToken)
	client := c
	var body map[string]any
	switch own := c.Token(); {
	case wt == "" || wt == own:
	case own == "":
		client = c.WithToken(wt)
	default:
		body = map[string]any{"token": wt}
	}
	return client.send(ctx, &Request{Method: http.MethodPut, Path: "sys/wrapping/unwrap", Body: bodyOf(body)})
}

// WrapLookup shows a wrapping token's creation path, time and TTL without
// spending it (PUT sys/wrapping/lookup). It is never response-wrapped.
func (c *Client) WrapLookup(ctx context.Context, wrappingToken string) (*Secret, error) {
	body := map[string]any{"token": strings.TrimSpace(wrappingToken)}
	return c.WithoutWrapping().send(ctx, &Request{Method: http.MethodPut, Path: "sys/wrapping/lookup", Body: body})
}
