package approle

import (
	"context"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *backend) pathTidy() *logical.Path {
	return &logical.Path{
		Pattern:      "tidy/secret-id",
		Operations:   map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.tidy},
		HelpSynopsis: "Delete expired secret IDs and orphaned accessors.",
		HelpDescription: `Walks every secret ID of the mount, deleting the expired ones (and any
without an accessor), then deletes accessors whose secret ID is gone. It runs
synchronously and reports what it deleted.`,
	}
}

// tidyStats counts what one tidy run deleted.
type tidyStats struct {
	secretIDs int
	accessors int
}

func (b *backend) tidy(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	if !b.tidying.CompareAndSwap(false, true) {
		resp := &logical.Response{}
		resp.AddWarning("Tidy operation already in progress.")
		return resp, nil
	}
	defer b.tidying.Store(false)
	var st tidyStats
	for _, p := range [][2]string{{secretIDPrefix, accessorPrefix}, {secretIDLocalPrefix, accessorLocalPrefix}} {
		live, err := b.tidySecrets(ctx, req.Storage, p[0], p[1], &st)
		if err != nil {
			return nil, err
		}
		if err := b.tidyAccessors(ctx, req.Storage, p[1], live, &st); err != nil {
			return nil, err
		}
	}
	return &logical.Response{Data: map[string]any{
		"secret_ids_deleted": st.secretIDs,
		"accessors_deleted":  st.accessors,
	}}, nil
}

// tidySecrets deletes expired secret records (and records without an
// accessor) below prefix and returns the keys of the live ones.
func (b *backend) tidySecrets(ctx context.Context, s logical.Storage, prefix, accPrefix string, st *tidyStats) (map[string]bool, error) {
	live := map[string]bool{}
	dirs, err := s.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	for _, dir := range dirs {
		hmacs, err := s.List(ctx, prefix+dir)
		if err != nil {
			return nil, err
		}
		for _, h := range hmacs {
			key := prefix + dir + h
			kept, err := b.tidySecret(ctx, s, key, h, accPrefix, st)
			if err != nil {
				return nil, err
			}
			live[key] = kept
		}
	}
	return live, nil
}

// tidySecret checks one secret record under its lock; it reports whether
// the record was kept.
func (b *backend) tidySecret(ctx context.Context, s logical.Storage, key, h, accPrefix string, st *tidyStats) (bool, error) {
	lock := b.secretLock(h)
	lock.Lock()
	defer lock.Unlock()
	e, err := readSecret(ctx, s, key)
	if err != nil || e == nil {
		return false, err
	}
	accKey, err := b.saltedKey(ctx, s, accPrefix, e.Accessor)
	if err != nil {
		return false, err
	}
	acc, err := s.Get(ctx, accKey)
	if err != nil {
		return false, err
	}
	if acc != nil && !e.expired(b.now()) {
		return true, nil
	}
	st.secretIDs++
	if acc != nil {
		st.accessors++
	}
	return false, b.deleteSecretOps(ctx, s, accPrefix, key, e.Accessor)
}

// tidyAccessors deletes accessors below prefix whose secret record is gone.
// A secret created since tidySecrets listed is found by the re-check made
// under its lock.
func (b *backend) tidyAccessors(ctx context.Context, s logical.Storage, prefix string, live map[string]bool, st *tidyStats) error {
	keys, err := s.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, k := range keys {
		var acc accessorEntry
		found, err := logical.GetJSON(ctx, s, prefix+k, &acc)
		if err != nil {
			return err
		}
		if !found || live[acc.SecretKey] {
			continue
		}
		if err := b.dropOrphanAccessor(ctx, s, prefix+k, acc, st); err != nil {
			return err
		}
	}
	return nil
}

func (b *backend) dropOrphanAccessor(ctx context.Context, s logical.Storage, key string, acc accessorEntry, st *tidyStats) error {
	lock := b.secretLock(acc.SecretIDHMAC)
	lock.Lock()
	defer lock.Unlock()
	if acc.SecretKey != "" {
		if e, err := s.Get(ctx, acc.SecretKey); err != nil || e != nil {
			return err
		}
	}
	st.accessors++
	return s.Delete(ctx, key)
}
