package core

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/barrier"
	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/randstr"
	"github.com/kinko-dev/kinko/internal/token"
)

// An access key (for the AWS-compatible front end) is an ID and a secret
// that stand for one kinko token: requests signed with the key run as
// that token, with its policies, entity, limits and life. Revoking or
// outliving the token ends the key. Keys are kept below the barrier at
// sys/awskeys/<id> (the secret must be readable: SigV4 signs with it)
// and cached in memory for the front end's hot path.
type accessKey struct {
	ID           string    `json:"access_key_id"`
	Secret       string    `json:"secret_access_key"`
	TokenHash    string    `json:"token_hash"`
	CreationTime time.Time `json:"creation_time"`
}

// accessKeys is the in-memory cache of keys (by ID), filled on demand.
type accessKeys struct {
	mu    sync.RWMutex
	byID  map[string]*accessKey
	store logical.Storage
}

const (
	akidPrefix    = "KNKO"
	akidChars     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretChars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	akidLength    = 20
	secretLength  = 40
	accessKeyPath = "key/"
)

func newAccessKeys(c *Core) *accessKeys {
	return &accessKeys{byID: map[string]*accessKey{}, store: barrier.NewView(c.barrier, "sys/awskeys/")}
}

// create makes a key for the token whose hash is tokenHash.
func (k *accessKeys) create(ctx context.Context, tokenHash string, now time.Time) (*accessKey, error) {
	id, err := randstr.From(akidChars, akidLength-len(akidPrefix))
	if err != nil {
		return nil, err
	}
	secret, err := randstr.From(secretChars, secretLength)
	if err != nil {
		return nil, err
	}
	ak := &accessKey{ID: akidPrefix + id, Secret: secret, TokenHash: tokenHash, CreationTime: now}
	if err := logical.PutJSON(ctx, k.store, accessKeyPath+ak.ID, ak); err != nil {
		return nil, fmt.Errorf("store access key: %w", err)
	}
	k.mu.Lock()
	k.byID[ak.ID] = ak
	k.mu.Unlock()
	return ak, nil
}

// get returns a key, or nil.
func (k *accessKeys) get(ctx context.Context, id string) (*accessKey, error) {
	if len(id) != akidLength {
		return nil, nil
	}
	k.mu.RLock()
	ak := k.byID[id]
	k.mu.RUnlock()
	if ak != nil {
		return ak, nil
	}
	var stored accessKey
	ok, err := logical.GetJSON(ctx, k.store, accessKeyPath+id, &stored)
	if err != nil || !ok {
		return nil, err
	}
	k.mu.Lock()
	k.byID[id] = &stored
	k.mu.Unlock()
	return &stored, nil
}

func (k *accessKeys) delete(ctx context.Context, id string) error {
	k.mu.Lock()
	delete(k.byID, id)
	k.mu.Unlock()
	return k.store.Delete(ctx, accessKeyPath+id)
}

// AccessKeySecret returns the secret of a live access key, for the
// front end to verify a signature with; ok is false for an unknown key
// or one whose token is gone.
func (c *Core) AccessKeySecret(ctx context.Context, id string) (secret string, ok bool, err error) {
	st, err := c.unsealed()
	if err != nil {
		return "", false, err
	}
	ak, err := st.accessKeys.get(ctx, id)
	if err != nil || ak == nil {
		return "", false, err
	}
	te, err := st.tokens.LookupHash(ctx, ak.TokenHash)
	if err != nil || te == nil {
		return "", false, err
	}
	return ak.Secret, true, nil
}

// accessKeyToken is the live token behind an access key.
func (c *Core) accessKeyToken(ctx context.Context, st *unsealedState, id string) (*token.Entry, error) {
	ak, err := st.accessKeys.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if ak == nil {
		return nil, logical.Errorf(logical.ErrPermissionDenied, "permission denied: unknown access key")
	}
	te, err := st.tokens.LookupHash(ctx, ak.TokenHash)
	if err != nil {
		return nil, err
	}
	if te == nil {
		return nil, logical.Errorf(logical.ErrPermissionDenied, "permission denied: the access key's token is no longer valid")
	}
	return te, nil
}

// accessKeyPaths serve sys/aws/access-keys: a caller makes a key for its
// own token (to give a key narrower rights, create a token with them and
// make the key with that token); the secret is shown once.
func (b *systemBackend) accessKeyPaths() []*logical.Path {
	id := map[string]*logical.FieldSchema{"id": {Type: logical.TypeString, Description: "The access key ID."}}
	return []*logical.Path{
		{Pattern: "aws/access-keys/?", Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.UpdateOperation: b.handleAccessKeyCreate, logical.ListOperation: b.handleAccessKeyList}),
			HelpSynopsis: "Create an AWS-style access key for the calling token (update), or list keys (list, sudo)."},
		{Pattern: "aws/access-keys/(?P<id>[A-Z0-9]+)", Fields: id, Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation: b.handleAccessKeyRead, logical.DeleteOperation: b.handleAccessKeyDelete}),
			HelpSynopsis: "Show an access key (never its secret) or delete it."},
	}
}

func (b *systemBackend) handleAccessKeyCreate(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	if req.ClientToken == "" {
		return nil, logical.InvalidRequest("an access key is made for the calling token: call with a token")
	}
	te, err := st.tokens.Lookup(ctx, req.ClientToken)
	if err != nil || te == nil {
		return nil, logical.Errorf(logical.ErrPermissionDenied, "permission denied")
	}
	ak, err := st.accessKeys.create(ctx, te.Hash, b.c.conf.Now())
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"access_key_id": ak.ID, "secret_access_key": ak.Secret,
		"token_accessor": te.Accessor, "policies": te.Policies}), nil
}

func (b *systemBackend) handleAccessKeyList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	keys, err := st.accessKeys.store.List(ctx, accessKeyPath)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(keys), nil
}

func (b *systemBackend) handleAccessKeyRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	ak, err := st.accessKeys.get(ctx, d.Get("id").(string))
	if err != nil || ak == nil {
		return nil, err
	}
	data := map[string]any{"access_key_id": ak.ID, "creation_time": ak.CreationTime.Format(time.RFC3339Nano), "valid": false}
	if te, _ := st.tokens.LookupHash(ctx, ak.TokenHash); te != nil {
		data["valid"], data["token_accessor"], data["policies"] = true, te.Accessor, te.Policies
	}
	return logical.DataResponse(data), nil
}

func (b *systemBackend) handleAccessKeyDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	return nil, st.accessKeys.delete(ctx, d.Get("id").(string))
}
