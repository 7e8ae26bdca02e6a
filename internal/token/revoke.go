package token

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage"
)

// Revoke revokes a raw token and its whole subtree. Revoking an unknown
// token is not an error.
func (s *Store) Revoke(ctx context.Context, raw string) error {
	if raw == "" || len(raw) > maxTokenLen {
		return nil
	}
	k := s.hashToken(raw)
	_, err := s.revokeTree(ctx, hex.EncodeToString(k[:]), "")
	return err
}

// RevokeTree revokes the token with the given Hash and its whole subtree,
// for callers that hold an Entry rather than the raw token.
func (s *Store) RevokeTree(ctx context.Context, hash string) error {
	_, err := s.revokeTree(ctx, hash, "")
	return err
}

// RevokeAccessor revokes the token an accessor belongs to, and its
// subtree. An unknown accessor gives ErrInvalidAccessor.
func (s *Store) RevokeAccessor(ctx context.Context, accessor string) error {
	h, err := s.tokenHashForAccessor(ctx, accessor)
	if err != nil {
		return err
	}
	if h == "" {
		return ErrInvalidAccessor
	}
	_, err = s.revokeTree(ctx, h, "")
	return err
}

// RevokeOrphan revokes only the raw token; its children become orphans.
func (s *Store) RevokeOrphan(ctx context.Context, raw string) error {
	if raw == "" || len(raw) > maxTokenLen {
		return nil
	}
	k := s.hashToken(raw)
	h := hex.EncodeToString(k[:])
	e, _, err := s.markPending(ctx, h, "")
	if err != nil || e == nil {
		return err
	}
	children, err := s.children(ctx, h)
	if err != nil {
		return err
	}
	for _, c := range children {
		if err := s.orphan(ctx, c, h); err != nil {
			return err
		}
	}
	return s.finish(ctx, &node{hash: h, parent: e.Parent, entry: e})
}

// node is one token on the revocation stack.
type node struct {
	hash, parent string
	entry        *Entry
	marked       bool
}

// revokeTree revokes hash and every descendant, children before parents.
// Each token is first marked pending (so it stops authenticating at once,
// including for creating more children), then its children are revoked,
// then it is deleted. It returns how many stored tokens it removed.
func (s *Store) revokeTree(ctx context.Context, hash, parentHint string) (int, error) {
	if _, ok := decodeHash(hash); !ok {
		return 0, nil
	}
	stack := []*node{{hash: hash, parent: parentHint}}
	seen := map[string]bool{hash: true}
	removed := 0
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		top := stack[len(stack)-1]
		if top.marked {
			if err := s.finish(ctx, top); err != nil {
				return removed, err
			}
			if top.entry != nil {
				removed++
			}
			stack = stack[:len(stack)-1]
			continue
		}
		e, stale, err := s.markPending(ctx, top.hash, top.parent)
		if err != nil {
			return removed, err
		}
		if stale { // the child was re-parented (orphaned): only drop the edge
			if err := s.view.Delete(ctx, parentPrefix+top.parent+"/"+top.hash); err != nil {
				return removed, err
			}
			stack = stack[:len(stack)-1]
			continue
		}
		top.entry, top.marked = e, true
		children, err := s.children(ctx, top.hash)
		if err != nil {
			return removed, err
		}
		for _, c := range children {
			if seen[c] { // a cycle in a corrupted index: drop the edge
				if err := s.view.Delete(ctx, parentPrefix+top.hash+"/"+c); err != nil {
					return removed, err
				}
				continue
			}
			seen[c] = true
			stack = append(stack, &node{hash: c, parent: top.hash})
		}
	}
	return removed, nil
}

// children lists the child hashes recorded for a token.
func (s *Store) children(ctx context.Context, hash string) ([]string, error) {
	keys, err := s.view.List(ctx, parentPrefix+hash+"/")
	if err != nil {
		return nil, fmt.Errorf("token: list children: %w", err)
	}
	out := keys[:0]
	for _, k := range keys {
		if k = strings.TrimSuffix(k, "/"); k != "" {
			out = append(out, k)
		}
	}
	return out, nil
}

// markPending makes a token stop authenticating (persisted, so it survives
// a crash) and drops it from the cache. It returns the entry as it was, or
// nil when there is none. When parent is set and the stored entry names
// another parent, nothing is marked and stale is true: the index edge that
// led here is out of date.
func (s *Store) markPending(ctx context.Context, hash, parent string) (e *Entry, stale bool, err error) {
	k, ok := decodeHash(hash)
	if !ok {
		return nil, false, nil
	}
	sh := s.shard(k)
	sh.fill.Lock()
	defer sh.fill.Unlock()
	cur, err := s.load(ctx, k)
	if err != nil || cur == nil {
		s.cacheDelete(k)
		return nil, false, err
	}
	if parent != "" && cur.Parent != parent {
		return nil, true, nil
	}
	if cur.NumUses != revokePending {
		p := cur.clone()
		p.NumUses = revokePending
		if err := s.put(ctx, p); err != nil {
			return nil, false, fmt.Errorf("token: mark revoked: %w", err)
		}
	}
	s.cacheDelete(k)
	return cur, false, nil
}

// finish runs OnRevoke and deletes a marked token with its indexes.
func (s *Store) finish(ctx context.Context, n *node) error {
	ops := make([]storage.Op, 0, 4)
	del := func(key string) {
		ops = append(ops, storage.Op{Kind: storage.OpDelete, Entry: &storage.Entry{Key: key}})
	}
	if n.parent != "" {
		del(parentPrefix + n.parent + "/" + n.hash)
	}
	if e := n.entry; e != nil {
		if s.OnRevoke != nil {
			s.OnRevoke(ctx, e)
		}
		if e.Accessor != "" {
			del(s.accessorKeyFor(e.Accessor))
		}
		if e.Parent != "" && e.Parent != n.parent {
			del(parentPrefix + e.Parent + "/" + n.hash)
		}
		del(idPrefix + n.hash)
	}
	if len(ops) == 0 {
		return nil
	}
	if err := s.apply(ctx, ops); err != nil {
		return fmt.Errorf("token: delete revoked token: %w", err)
	}
	return nil
}

// orphan detaches child from parent: the child's entry loses its parent
// and the index edge is deleted.
func (s *Store) orphan(ctx context.Context, child, parent string) error {
	k, ok := decodeHash(child)
	if ok {
		sh := s.shard(k)
		sh.fill.Lock()
		cur, err := s.load(ctx, k)
		if err == nil && cur != nil && cur.Parent == parent {
			next := cur.clone()
			next.Parent, next.Orphan = "", true
			if err = s.put(ctx, next); err == nil && next.NumUses >= 0 {
				s.cachePut(k, next)
			}
		}
		sh.fill.Unlock()
		if err != nil {
			return fmt.Errorf("token: orphan child: %w", err)
		}
	}
	return s.view.Delete(ctx, parentPrefix+parent+"/"+child)
}

// Tidy removes expired tokens (with their subtrees) and tokens whose
// revocation was interrupted, drops accessor and parent index entries
// that point at missing tokens, and turns children of missing parents into
// orphans. It returns how many tokens it removed. It keeps going past a
// failing token and reports the first error.
func (s *Store) Tidy(ctx context.Context) (int, error) {
	removed, firstErr := s.tidyEntries(ctx)
	if err := s.tidyAccessors(ctx); err != nil && firstErr == nil {
		firstErr = err
	}
	if err := s.tidyParents(ctx); err != nil && firstErr == nil {
		firstErr = err
	}
	return removed, firstErr
}

func (s *Store) tidyEntries(ctx context.Context) (int, error) {
	hashes, err := s.view.List(ctx, idPrefix)
	if err != nil {
		return 0, fmt.Errorf("token: tidy: %w", err)
	}
	removed := 0
	var firstErr error
	for _, h := range hashes {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		k, ok := decodeHash(h)
		if !ok {
			continue
		}
		e, err := s.load(ctx, k)
		if err == nil && e != nil && !e.valid(s.now()) {
			var n int
			n, err = s.revokeTree(ctx, h, "")
			removed += n
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return removed, firstErr
}

func (s *Store) tidyAccessors(ctx context.Context) error {
	keys, err := s.view.List(ctx, accessorPrefix)
	if err != nil {
		return fmt.Errorf("token: tidy accessors: %w", err)
	}
	for _, a := range keys {
		var idx accessorIndex
		ok, err := logical.GetJSON(ctx, s.view, accessorPrefix+a, &idx)
		if err != nil || !ok {
			continue
		}
		if exists, err := s.stored(ctx, idx.TokenHash); err != nil || exists {
			continue
		}
		if err := s.view.Delete(ctx, accessorPrefix+a); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) tidyParents(ctx context.Context) error {
	parents, err := s.view.List(ctx, parentPrefix)
	if err != nil {
		return fmt.Errorf("token: tidy parents: %w", err)
	}
	var errs []error
	for _, p := range parents {
		p = strings.TrimSuffix(p, "/")
		parentExists, err := s.stored(ctx, p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		children, err := s.children(ctx, p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, c := range children {
			childExists, err := s.stored(ctx, c)
			switch {
			case err != nil:
			case !parentExists:
				err = s.orphan(ctx, c, p)
			case !childExists:
				err = s.view.Delete(ctx, parentPrefix+p+"/"+c)
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// stored reports whether an entry exists in storage for a hash.
func (s *Store) stored(ctx context.Context, hash string) (bool, error) {
	if _, ok := decodeHash(hash); !ok {
		return false, nil
	}
	e, err := s.view.Get(ctx, idPrefix+hash)
	return e != nil, err
}

// RevokeByPathPrefix revokes every token (with its children) created at a
// path below prefix, such as all tokens an auth mount issued
// ("auth/userpass/"), and returns how many tokens were revoked. It scans
// the whole store: it is meant for rare administrative events.
func (s *Store) RevokeByPathPrefix(ctx context.Context, prefix string) (int, error) {
	hashes, err := s.view.List(ctx, idPrefix)
	if err != nil {
		return 0, fmt.Errorf("token: revoke by path: %w", err)
	}
	revoked := 0
	for _, h := range hashes {
		if err := ctx.Err(); err != nil {
			return revoked, err
		}
		k, ok := decodeHash(h)
		if !ok {
			continue
		}
		e, err := s.load(ctx, k)
		if err != nil {
			return revoked, err
		}
		if e == nil || !strings.HasPrefix(e.Path, prefix) {
			continue
		}
		n, err := s.revokeTree(ctx, h, "")
		revoked += n
		if err != nil {
			return revoked, err
		}
	}
	return revoked, nil
}
