package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage"
)

// Storage prefixes inside the store's view.
const (
	entityPrefix      = "entity/"
	aliasPrefix       = "alias/"
	groupPrefix       = "group/"
	methodPrefix      = "mfa/method/"
	enforcementPrefix = "mfa/enforcement/"
	secretPrefix      = "mfa/secret/" // mfa/secret/<method ID>/<entity ID>
)

// ErrEntityDisabled is returned (as is, so errors.Is matches it) when a
// disabled entity logs in or its token's identity policies are asked for.
// It is a permission-denied error.
var ErrEntityDisabled error = &logical.Error{Kind: logical.ErrPermissionDenied, Msg: "entity is disabled"}

// Mount describes an auth mount, as Options.Mounts reports it.
type Mount struct{ Type, Path string }

// Options configure a Store.
type Options struct {
	// Now is the clock (time.Now when nil); tests inject a fake one.
	Now func() time.Time
	// Mounts, when set, resolves an auth mount accessor. It is used to
	// refuse aliases and login enforcements naming unknown accessors and
	// to show mount_type/mount_path in alias reads. Nil accepts any accessor.
	Mounts func(accessor string) (Mount, bool)
}

// Entity is one person or service.
type Entity struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Policies        []string          `json:"policies"`
	Metadata        map[string]string `json:"metadata"`
	Disabled        bool              `json:"disabled"`
	MergedEntityIDs []string          `json:"merged_entity_ids,omitempty"`
	CreationTime    time.Time         `json:"creation_time"`
	LastUpdateTime  time.Time         `json:"last_update_time"`
}

func (e *Entity) clone() *Entity {
	cp := *e
	cp.Policies = slices.Clone(e.Policies)
	cp.Metadata = cloneMap(e.Metadata)
	cp.MergedEntityIDs = slices.Clone(e.MergedEntityIDs)
	return &cp
}

// Alias links an entity to a caller name within one auth mount.
type Alias struct {
	ID             string            `json:"id"`
	CanonicalID    string            `json:"canonical_id"`
	MountAccessor  string            `json:"mount_accessor"`
	MountType      string            `json:"mount_type"`
	Name           string            `json:"name"`
	Metadata       map[string]string `json:"metadata"`
	CustomMetadata map[string]string `json:"custom_metadata"`
	CreationTime   time.Time         `json:"creation_time"`
	LastUpdateTime time.Time         `json:"last_update_time"`
}

// Group is a group of entities and other groups. An internal group's
// members are set through the API; an external group's member entities
// are set by logins through the auth mount of its alias (it has no member
// groups).
type Group struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Type            string            `json:"type"`
	Alias           *Alias            `json:"alias,omitempty"` // external groups only; immutable
	Policies        []string          `json:"policies"`
	MemberEntityIDs []string          `json:"member_entity_ids"`
	MemberGroupIDs  []string          `json:"member_group_ids"`
	Metadata        map[string]string `json:"metadata"`
	ModifyIndex     int               `json:"modify_index"`
	CreationTime    time.Time         `json:"creation_time"`
	LastUpdateTime  time.Time         `json:"last_update_time"`
}

func (g *Group) clone() *Group {
	cp := *g
	cp.Policies = slices.Clone(g.Policies)
	cp.MemberEntityIDs = slices.Clone(g.MemberEntityIDs)
	cp.MemberGroupIDs = slices.Clone(g.MemberGroupIDs)
	cp.Metadata = cloneMap(g.Metadata)
	return &cp
}

// Store is the identity store. Build it with NewStore.
type Store struct {
	view   logical.Storage
	now    func() time.Time
	mounts func(string) (Mount, bool)

	mu           sync.RWMutex // guards every map below
	entities     map[string]*Entity
	entityNames  map[string]string // folded name → entity ID
	merged       map[string]string // merged-away entity ID → surviving entity ID
	aliases      map[string]*Alias
	aliasKeys    map[string]string              // aliasKey(accessor, name) → alias ID
	aliasesOf    map[string]map[string]struct{} // entity ID → its alias IDs
	groups       map[string]*Group
	groupNames   map[string]string   // folded name → group ID
	galiasIDs    map[string]string   // group alias ID → group ID
	galiasKeys   map[string]string   // aliasKey(accessor, name) of a group alias → group ID
	directGroups map[string][]string // entity ID → groups listing it, sorted (derived)
	parentGroups map[string][]string // group ID → groups listing it, sorted (derived)
	methods      map[string]*TOTPMethod
	enforcements map[string]*Enforcement

	cache    atomic.Pointer[policyCache] // replaced on every write
	attempts attempts                    // TOTP validation state, own lock
}

// NewStore loads the store from view.
func NewStore(view logical.Storage, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{view: view, now: opts.Now, mounts: opts.Mounts,
		entities: map[string]*Entity{}, entityNames: map[string]string{}, merged: map[string]string{},
		aliases: map[string]*Alias{}, aliasKeys: map[string]string{}, aliasesOf: map[string]map[string]struct{}{},
		groups: map[string]*Group{}, groupNames: map[string]string{},
		galiasIDs: map[string]string{}, galiasKeys: map[string]string{},
		directGroups: map[string][]string{}, parentGroups: map[string][]string{},
		methods: map[string]*TOTPMethod{}, enforcements: map[string]*Enforcement{}}
	s.cache.Store(&policyCache{})
	if err := s.load(context.Background()); err != nil {
		return nil, fmt.Errorf("identity: load: %w", err)
	}
	return s, nil
}

func (s *Store) load(ctx context.Context) error {
	steps := []struct {
		prefix string
		load   func(k string) error
	}{
		{entityPrefix, loader(ctx, s.view, s.setEntity)},
		{aliasPrefix, loader(ctx, s.view, s.setAlias)},
		{groupPrefix, loader(ctx, s.view, s.setGroup)},
		{methodPrefix, loader(ctx, s.view, func(m *TOTPMethod) { s.methods[m.ID] = m })},
		{enforcementPrefix, loader(ctx, s.view, func(e *Enforcement) { s.enforcements[e.Name] = e })},
	}
	for _, st := range steps {
		if err := logical.ScanKeys(ctx, s.view, st.prefix, st.load); err != nil {
			return fmt.Errorf("%s: %w", st.prefix, err)
		}
	}
	return nil
}

func loader[T any](ctx context.Context, view logical.Storage, set func(*T)) func(string) error {
	return func(key string) error {
		v := new(T)
		if _, err := logical.GetJSON(ctx, view, key, v); err != nil {
			return err
		}
		set(v)
		return nil
	}
}

// newID returns a random UUID-shaped identifier.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error (Go ≥ 1.24)
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// fold is the case-insensitive form of a name used by the name indexes.
func fold(name string) string { return strings.ToLower(name) }

func aliasKey(accessor, name string) string { return accessor + "\x00" + fold(name) }

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// batch collects the storage operations of one change.
type batch struct{ ops []storage.Op }

func (b *batch) put(key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("identity: encode %s: %w", key, err)
	}
	b.ops = append(b.ops, putOp(key, raw))
	return nil
}

func putOp(key string, raw []byte) storage.Op {
	return storage.Op{Kind: storage.OpPut, Entry: &storage.Entry{Key: key, Value: raw}}
}

func (b *batch) del(key string) {
	b.ops = append(b.ops, storage.Op{Kind: storage.OpDelete, Entry: &storage.Entry{Key: key}})
}

// commit writes b, atomically when the view supports transactions.
func (s *Store) commit(ctx context.Context, b *batch) error {
	return storage.Apply(ctx, s.view, b.ops)
}

// The set/drop helpers apply a committed change to memory (caller holds mu
// for writing). Every change must be followed by invalidate.

func (s *Store) setEntity(e *Entity) {
	if old := s.entities[e.ID]; old != nil && fold(old.Name) != fold(e.Name) {
		delete(s.entityNames, fold(old.Name))
	}
	s.entities[e.ID] = e
	s.entityNames[fold(e.Name)] = e.ID
	for _, m := range e.MergedEntityIDs {
		s.merged[m] = e.ID
	}
}

func (s *Store) dropEntity(id string) {
	if e := s.entities[id]; e != nil {
		delete(s.entityNames, fold(e.Name))
		for _, m := range e.MergedEntityIDs {
			delete(s.merged, m)
		}
	}
	delete(s.entities, id)
}

func (s *Store) setAlias(a *Alias) {
	s.dropAlias(a.ID)
	s.aliases[a.ID] = a
	s.aliasKeys[aliasKey(a.MountAccessor, a.Name)] = a.ID
	set := s.aliasesOf[a.CanonicalID]
	if set == nil {
		set = map[string]struct{}{}
		s.aliasesOf[a.CanonicalID] = set
	}
	set[a.ID] = struct{}{}
}

func (s *Store) dropAlias(id string) {
	a := s.aliases[id]
	if a == nil {
		return
	}
	delete(s.aliasKeys, aliasKey(a.MountAccessor, a.Name))
	if set := s.aliasesOf[a.CanonicalID]; set != nil {
		delete(set, id)
		if len(set) == 0 {
			delete(s.aliasesOf, a.CanonicalID)
		}
	}
	delete(s.aliases, id)
}

func (s *Store) setGroup(g *Group) {
	if old := s.groups[g.ID]; old != nil {
		if fold(old.Name) != fold(g.Name) {
			delete(s.groupNames, fold(old.Name))
		}
		s.indexGroup(old, false)
		s.indexGroupAlias(old, false)
	}
	s.indexGroup(g, true)
	s.indexGroupAlias(g, true)
	s.groups[g.ID] = g
	s.groupNames[fold(g.Name)] = g.ID
}

func (s *Store) dropGroup(id string) {
	if g := s.groups[id]; g != nil {
		delete(s.groupNames, fold(g.Name))
		s.indexGroup(g, false)
		s.indexGroupAlias(g, false)
	}
	delete(s.groups, id)
}

// indexGroupAlias adds (or removes) g's alias to the group alias indexes
// (caller holds mu for writing).
func (s *Store) indexGroupAlias(g *Group, add bool) {
	a := g.Alias
	switch {
	case a == nil:
	case add:
		s.galiasIDs[a.ID] = g.ID
		s.galiasKeys[aliasKey(a.MountAccessor, a.Name)] = g.ID
	default: // an entry another group took over in the same change stays
		if s.galiasIDs[a.ID] == g.ID {
			delete(s.galiasIDs, a.ID)
		}
		if k := aliasKey(a.MountAccessor, a.Name); s.galiasKeys[k] == g.ID {
			delete(s.galiasKeys, k)
		}
	}
}

// indexGroup adds (or removes) g's memberships to the derived indexes,
// whose lists stay sorted (caller holds mu for writing; readers copy the
// lists before releasing mu).
func (s *Store) indexGroup(g *Group, add bool) {
	for _, idx := range []struct {
		m   map[string][]string
		ids []string
	}{{s.directGroups, g.MemberEntityIDs}, {s.parentGroups, g.MemberGroupIDs}} {
		for _, member := range idx.ids {
			l := idx.m[member]
			i, found := slices.BinarySearch(l, g.ID)
			switch {
			case add && !found:
				idx.m[member] = slices.Insert(l, i, g.ID)
			case !add && found:
				if l = slices.Delete(l, i, i+1); len(l) == 0 {
					delete(idx.m, member)
				} else {
					idx.m[member] = l
				}
			}
		}
	}
}

// resolve maps a merged-away entity ID to the entity it was merged into.
func (s *Store) resolve(id string) string {
	if to, ok := s.merged[id]; ok {
		return to
	}
	return id
}

func (s *Store) entityByName(name string) *Entity { return s.entities[s.entityNames[fold(name)]] }

func (s *Store) groupByName(name string) *Group { return s.groups[s.groupNames[fold(name)]] }

// groupByAlias returns the group whose alias is on accessor with name, or nil.
func (s *Store) groupByAlias(accessor, name string) *Group {
	return s.groups[s.galiasKeys[aliasKey(accessor, name)]]
}

func (s *Store) aliasFor(accessor, name string) *Alias {
	return s.aliases[s.aliasKeys[aliasKey(accessor, name)]]
}

// aliasesOfEntity returns an entity's aliases sorted by ID.
func (s *Store) aliasesOfEntity(entityID string) []*Alias {
	out := make([]*Alias, 0, len(s.aliasesOf[entityID]))
	for id := range s.aliasesOf[entityID] {
		out = append(out, s.aliases[id])
	}
	slices.SortFunc(out, func(a, b *Alias) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// groupsOf returns the groups listing the entity (direct) and the groups
// that reach those through member_group_ids (inherited), both sorted; a
// group in both lists is reported as direct only.
func (s *Store) groupsOf(entityID string) (direct, inherited []string) {
	direct = s.directGroups[entityID]
	seen := make(map[string]bool, len(direct))
	for _, g := range direct {
		seen[g] = true
	}
	queue := slices.Clone(direct)
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, p := range s.parentGroups[cur] {
			if !seen[p] {
				seen[p] = true
				inherited = append(inherited, p)
				queue = append(queue, p)
			}
		}
	}
	slices.Sort(inherited)
	return slices.Clone(direct), inherited
}

// reaches reports whether group from contains target through
// member_group_ids, directly or nested.
func (s *Store) reaches(from, target string) bool {
	seen := map[string]bool{}
	stack := []string{from}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if cur == target {
			return true
		}
		if seen[cur] || s.groups[cur] == nil {
			continue
		}
		seen[cur] = true
		stack = append(stack, s.groups[cur].MemberGroupIDs...)
	}
	return false
}
