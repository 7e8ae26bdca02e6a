package transit

import (
	"context"
	"errors"
	"sort"
	"sync"

	"github.com/kinko-dev/kinko/internal/logical"
)

// keyring caches the named keys of one mount. Reads take no lock: the
// cache maps a name to an immutable *keyPolicy. Every change to a key
// (create, rotate, config, trim, import, restore, delete) holds the key's
// lock stripe, reads the current policy, changes a clone, persists it and
// only then publishes the clone; a failed write leaves cache and storage
// as they were. A cache miss loads from storage under the stripe, so a
// load never races a writer into publishing a stale policy.
type keyring struct {
	cache sync.Map // name -> *keyPolicy
	locks [256]sync.Mutex
}

// lock takes the stripe of name and returns its unlock.
func (k *keyring) lock(name string) func() {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= 16777619
	}
	m := &k.locks[h%uint32(len(k.locks))]
	m.Lock()
	return m.Unlock
}

// get returns the key named name, or nil when there is none.
func (k *keyring) get(ctx context.Context, s logical.Storage, name string) (*keyPolicy, error) {
	if p, ok := k.cache.Load(name); ok {
		return p.(*keyPolicy), nil
	}
	defer k.lock(name)()
	return k.getLocked(ctx, s, name)
}

// getLocked is get for a caller that holds name's stripe.
func (k *keyring) getLocked(ctx context.Context, s logical.Storage, name string) (*keyPolicy, error) {
	if p, ok := k.cache.Load(name); ok {
		return p.(*keyPolicy), nil
	}
	p, err := loadPolicy(ctx, s, name)
	if err != nil || p == nil {
		return nil, err
	}
	k.cache.Store(name, p)
	return p, nil
}

// update applies change to a clone of the key and, when change succeeds,
// persists and publishes the clone. It returns nil, nil when the key does
// not exist. A change that returns errNoChange publishes nothing and
// returns the current policy.
func (k *keyring) update(ctx context.Context, s logical.Storage, name string, change func(p *keyPolicy) error) (*keyPolicy, error) {
	defer k.lock(name)()
	cur, err := k.getLocked(ctx, s, name)
	if err != nil || cur == nil {
		return nil, err
	}
	next := cur.clone()
	if err := change(next); err != nil {
		if errors.Is(err, errNoChange) {
			return cur, nil
		}
		return nil, err
	}
	if err := next.persist(ctx, s); err != nil {
		return nil, err
	}
	k.cache.Store(name, next)
	return next, nil
}

// errNoChange tells update that nothing needs to be written.
var errNoChange = errors.New("transit: no change")

// upsert returns the key named name, creating it with build when it does
// not exist; created reports which happened.
func (k *keyring) upsert(ctx context.Context, s logical.Storage, name string, build func() (*keyPolicy, error)) (p *keyPolicy, created bool, err error) {
	defer k.lock(name)()
	if p, err = k.getLocked(ctx, s, name); err != nil || p != nil {
		return p, false, err
	}
	if p, err = build(); err != nil {
		return nil, false, err
	}
	if err := p.persist(ctx, s); err != nil {
		return nil, false, err
	}
	k.cache.Store(name, p)
	return p, true, nil
}

// replace stores p under its name (restore), refusing to overwrite an
// existing key unless force is set.
func (k *keyring) replace(ctx context.Context, s logical.Storage, p *keyPolicy, force bool) error {
	defer k.lock(p.Name)()
	cur, err := k.getLocked(ctx, s, p.Name)
	if err != nil {
		return err
	}
	if cur != nil && !force {
		return logical.InvalidRequest("key %q already exists", p.Name)
	}
	if err := p.persist(ctx, s); err != nil {
		return err
	}
	k.cache.Store(p.Name, p)
	return nil
}

// remove deletes the key after allow approves it; it returns false when
// there was no such key.
func (k *keyring) remove(ctx context.Context, s logical.Storage, name string, allow func(p *keyPolicy) error) (bool, error) {
	defer k.lock(name)()
	cur, err := k.getLocked(ctx, s, name)
	if err != nil || cur == nil {
		return false, err
	}
	if err := allow(cur); err != nil {
		return true, err
	}
	if err := s.Delete(ctx, policyPrefix+name); err != nil {
		return true, err
	}
	k.cache.Delete(name)
	return true, nil
}

// reset forgets every cached key (the mount is going away).
func (k *keyring) reset() {
	k.cache.Clear()
}

// names lists the stored keys, sorted.
func names(ctx context.Context, s logical.Storage) ([]string, error) {
	keys, err := s.List(ctx, policyPrefix)
	if err != nil {
		return nil, err
	}
	out := keys[:0]
	for _, n := range keys {
		if n != "" && n[len(n)-1] != '/' {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}
