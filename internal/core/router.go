package core

import (
	"context"
	"sort"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// routeEntry is one mounted backend as the request path sees it. Entries
// are immutable once in a router; changes build a new router.
type routeEntry struct {
	mount   *MountEntry
	prefix  string // full path with trailing slash: "secret/", "auth/token/"
	backend logical.Backend
	view    logical.Storage
	unauth  []string // special paths, full, "*" suffix = prefix match
	root    []string
}

// router maps mount prefixes to backends; lookups walk the request path's
// segment boundaries from the longest prefix down (a few map lookups).
type router struct {
	byPrefix map[string]*routeEntry
}

func newRouter() *router { return &router{byPrefix: map[string]*routeEntry{}} }

// clone copies the router so a mount change can be applied and swapped in.
func (r *router) clone() *router {
	n := &router{byPrefix: make(map[string]*routeEntry, len(r.byPrefix)+1)}
	for k, v := range r.byPrefix {
		n.byPrefix[k] = v
	}
	return n
}

// match returns the mount owning path (longest prefix) and the path
// relative to it.
func (r *router) match(path string) (*routeEntry, string) {
	if e, ok := r.byPrefix[path+"/"]; ok { // the mount root without slash
		return e, ""
	}
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] != '/' {
			continue
		}
		if e, ok := r.byPrefix[path[:i+1]]; ok {
			return e, path[i+1:]
		}
	}
	return nil, ""
}

// conflict reports an existing mount that is a prefix of p or has p as prefix.
func (r *router) conflict(p string) string {
	for k := range r.byPrefix {
		if strings.HasPrefix(k, p) || strings.HasPrefix(p, k) {
			return k
		}
	}
	return ""
}

func (r *router) cleanup(ctx context.Context) {
	for _, e := range r.byPrefix {
		if c, ok := e.backend.(logical.Cleaner); ok {
			c.Cleanup(ctx)
		}
	}
}

func (e *routeEntry) isUnauthenticated(path string) bool { return matchSpecial(e.unauth, path) }
func (e *routeEntry) isRoot(path string) bool            { return matchSpecial(e.root, path) }

func matchSpecial(patterns []string, path string) bool {
	for _, p := range patterns {
		if strings.HasSuffix(p, "*") {
			if strings.HasPrefix(path, p[:len(p)-1]) {
				return true
			}
		} else if p == path {
			return true
		}
	}
	return false
}

func specialPaths(prefix string, b logical.Backend) (unauth, root []string) {
	sp, ok := b.(logical.SpecialPathsProvider)
	if !ok || sp.SpecialPaths() == nil {
		return nil, nil
	}
	s := sp.SpecialPaths()
	for _, p := range s.Unauthenticated {
		unauth = append(unauth, prefix+p)
	}
	for _, p := range s.Root {
		root = append(root, prefix+p)
	}
	return unauth, root
}

func sortMounts(ms []*MountEntry) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].Path < ms[j].Path })
}
