package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// Read sends GET /v1/<path>. It returns nil, nil when nothing exists at the
// path (a 404 without data or warnings), like Vault's client; a 404 that
// carries data, such as KV v2 metadata of a deleted version, is returned as
// a Secret.
func (c *Client) Read(ctx context.Context, path string, query url.Values) (*Secret, error) {
	return c.readLike(ctx, http.MethodGet, path, query)
}

// List sends LIST /v1/<path>; the keys are in Data["keys"]. It returns
// nil, nil when there is nothing to list.
func (c *Client) List(ctx context.Context, path string) (*Secret, error) {
	return c.readLike(ctx, "LIST", path, nil)
}

// Write sends PUT /v1/<path> with data as the JSON body. The Secret is nil
// when the server answers 204 No Content.
func (c *Client) Write(ctx context.Context, path string, data map[string]any) (*Secret, error) {
	return c.send(ctx, &Request{Method: http.MethodPut, Path: path, Body: bodyOf(data)})
}

// Patch sends PATCH /v1/<path> with data as a JSON merge patch
// (Content-Type: application/merge-patch+json).
func (c *Client) Patch(ctx context.Context, path string, data map[string]any) (*Secret, error) {
	h := http.Header{"Content-Type": []string{"application/merge-patch+json"}}
	return c.send(ctx, &Request{Method: http.MethodPatch, Path: path, Body: bodyOf(data), Header: h})
}

// Delete sends DELETE /v1/<path>.
func (c *Client) Delete(ctx context.Context, path string) (*Secret, error) {
	return c.send(ctx, &Request{Method: http.MethodDelete, Path: path})
}

// bodyOf keeps a nil map from being sent as the JSON literal null.
func bodyOf(data map[string]any) any {
	if data == nil {
		return nil
	}
	return data
}

func (c *Client) readLike(ctx context.Context, method, path string, query url.Values) (*Secret, error) {
	resp, err := c.RawRequest(ctx, &Request{Method: method, Path: path, Query: query})
	if resp != nil {
		defer resp.Body.Close()
	}
	var re *ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		body, _ := io.ReadAll(resp.Body)
		s, perr := ParseSecret(bytes.NewReader(body))
		if perr == nil && s != nil && (len(s.Data) > 0 || len(s.Warnings) > 0) {
			return s, nil
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseSecret(resp.Body)
}

// send performs r and decodes the envelope of a successful response.
func (c *Client) send(ctx context.Context, r *Request) (*Secret, error) {
	resp, err := c.RawRequest(ctx, r)
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	return ParseSecret(resp.Body)
}

// sendJSON performs r and decodes the raw (non-envelope) JSON response into
// out, which may be nil to discard the body.
func (c *Client) sendJSON(ctx context.Context, r *Request, out any) error {
	resp, err := c.RawRequest(ctx, r)
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		return err
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("api: decoding %s response: %w", r.Path, err)
	}
	return nil
}

// sendData performs r and decodes the response's "data" object into out; a
// server that returns the fields at the top level (as Vault also does for
// many sys endpoints) is accepted too.
func (c *Client) sendData(ctx context.Context, r *Request, out any) error {
	var raw json.RawMessage
	if err := c.sendJSON(ctx, r, &raw); err != nil {
		return err
	}
	return decodeDataOrTop(raw, out)
}

func decodeDataOrTop(raw []byte, out any) error {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("api: decoding response: %w", err)
	}
	src := raw
	if len(env.Data) > 0 && !bytes.Equal(env.Data, []byte("null")) {
		src = env.Data
	}
	if err := json.Unmarshal(src, out); err != nil {
		return fmt.Errorf("api: decoding response: %w", err)
	}
	return nil
}
