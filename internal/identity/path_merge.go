package identity

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (s *Store) mergePath() *logical.Path {
	return &logical.Path{
		Pattern: "entity/merge",
		Fields: map[string]*logical.FieldSchema{
			"from_entity_ids": {Type: logical.TypeCommaStringSlice, Description: "entities to merge into to_entity_id (they are deleted)"},
			"to_entity_id":    {Type: logical.TypeString, Description: "entity that receives the aliases, groups and MFA secrets"},
			"force":           {Type: logical.TypeBool, Description: "accepted for compatibility; has no effect"},
			"conflicting_alias_ids_to_keep": {Type: logical.TypeCommaStringSlice,
				Description: "when both entities have an alias on one mount, the alias to keep (the other is deleted)"},
		},
		Operations:   opMap{logical.UpdateOperation: s.handleMerge},
		HelpSynopsis: "Merge entities into one.",
	}
}

// mergePlan is the outcome of merging entities, before it is written.
type mergePlan struct {
	to      *Entity
	from    []*Entity
	moved   []*Alias // aliases re-pointed at to
	dropped []string // alias IDs deleted as losing conflicts
	groups  []*Group
}

func (s *Store) handleMerge(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	toID := strings.TrimSpace(str(d, "to_entity_id"))
	fromRaw, _ := strs(d, "from_entity_ids")
	keepRaw, _ := strs(d, "conflicting_alias_ids_to_keep")
	from, keep := uniqueIDs(fromRaw), uniqueIDs(keepRaw)
	switch {
	case toID == "":
		return nil, logical.InvalidRequest("missing entity id to merge to")
	case len(from) == 0:
		return nil, logical.InvalidRequest("missing entity ids to merge from")
	case slices.Contains(from, toID):
		return nil, logical.InvalidRequest("to_entity_id should not be present in from_entity_ids")
	case len(keep) > 0 && len(from) > 1:
		return nil, logical.InvalidRequest("aliases conflicts cannot be resolved with multiple from entity ids - merge one entity at a time")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.planMerge(toID, from, keep)
	if err != nil {
		return nil, err
	}
	b := &batch{}
	if err := s.mergeSecrets(ctx, b, p); err != nil {
		return nil, err
	}
	if err := p.queue(b); err != nil {
		return nil, err
	}
	if err := s.commit(ctx, b); err != nil {
		return nil, err
	}
	p.apply(s)
	return nil, nil
}

// planMerge works out a merge, refusing unresolved alias conflicts
// (caller holds mu).
func (s *Store) planMerge(toID string, fromIDs, keep []string) (*mergePlan, error) {
	to := s.entities[toID]
	if to == nil {
		return nil, logical.InvalidRequest("entity id to merge to is invalid")
	}
	p := &mergePlan{to: to.clone()}
	onMount := map[string]string{} // accessor → the from entity with an alias there
	var clashes []string
	for _, id := range fromIDs {
		f := s.entities[id]
		if f == nil {
			return nil, logical.InvalidRequest("entity id to merge from is invalid: %q", id)
		}
		p.from = append(p.from, f)
		for _, a := range s.aliasesOfEntity(f.ID) {
			if prev, ok := onMount[a.MountAccessor]; ok && prev != f.ID {
				return nil, logical.InvalidRequest("mount accessor %s found in multiple fromEntities, merge should be done with one fromEntity at a time", a.MountAccessor)
			}
			onMount[a.MountAccessor] = f.ID
			var toAlias *Alias
			for _, ta := range s.aliasesOfEntity(to.ID) {
				if ta.MountAccessor == a.MountAccessor {
					toAlias = ta
				}
			}
			switch {
			case toAlias == nil || slices.Contains(keep, a.ID):
				if toAlias != nil {
					p.dropped = append(p.dropped, toAlias.ID)
				}
				cp := *a
				cp.CanonicalID = to.ID
				p.moved = append(p.moved, &cp)
			case slices.Contains(keep, toAlias.ID):
				p.dropped = append(p.dropped, a.ID)
			default:
				clashes = append(clashes, fmt.Sprintf("mountAccessor: %s, toEntity alias ID: %s, fromEntity alias ID: %s", a.MountAccessor, toAlias.ID, a.ID))
			}
		}
		p.to.MergedEntityIDs = append(p.to.MergedEntityIDs, f.MergedEntityIDs...)
		p.to.MergedEntityIDs = append(p.to.MergedEntityIDs, f.ID)
	}
	if len(clashes) > 0 {
		return nil, logical.InvalidRequest("toEntity and at least one fromEntity have aliases with the same mount accessor; "+
			"resend with conflicting_alias_ids_to_keep and exactly one fromEntity. Clashes: %s", strings.Join(clashes, "; "))
	}
	p.to.LastUpdateTime = s.now().UTC()
	p.groups = s.regroup(p)
	return p, nil
}

// regroup moves the from entities' group memberships to the to entity
// (caller holds mu).
func (s *Store) regroup(p *mergePlan) []*Group {
	var out []*Group
	for _, g := range s.groups {
		changed := false
		members := make([]string, 0, len(g.MemberEntityIDs))
		for _, id := range g.MemberEntityIDs {
			if slices.ContainsFunc(p.from, func(f *Entity) bool { return f.ID == id }) {
				id, changed = p.to.ID, true
			}
			if !slices.Contains(members, id) {
				members = append(members, id)
			}
		}
		if changed {
			g = g.clone()
			g.MemberEntityIDs = members
			g.ModifyIndex++
			g.LastUpdateTime = p.to.LastUpdateTime
			out = append(out, g)
		}
	}
	return out
}

// mergeSecrets moves the from entities' TOTP secrets to the to entity
// where it has none for the method (caller holds mu).
func (s *Store) mergeSecrets(ctx context.Context, b *batch, p *mergePlan) error {
	for mid := range s.methods {
		has, err := s.view.Get(ctx, secretPrefix+mid+"/"+p.to.ID)
		if err != nil {
			return err
		}
		for _, f := range p.from {
			e, err := s.view.Get(ctx, secretPrefix+mid+"/"+f.ID)
			if err != nil || e == nil {
				if err != nil {
					return err
				}
				continue
			}
			if has == nil {
				has = e
				b.ops = append(b.ops, putOp(secretPrefix+mid+"/"+p.to.ID, e.Value))
			}
			b.del(secretPrefix + mid + "/" + f.ID)
		}
	}
	return nil
}

func (p *mergePlan) queue(b *batch) error {
	if err := b.put(entityPrefix+p.to.ID, p.to); err != nil {
		return err
	}
	for _, a := range p.moved {
		if err := b.put(aliasPrefix+a.ID, a); err != nil {
			return err
		}
	}
	for _, id := range p.dropped {
		b.del(aliasPrefix + id)
	}
	for _, g := range p.groups {
		if err := b.put(groupPrefix+g.ID, g); err != nil {
			return err
		}
	}
	for _, f := range p.from {
		b.del(entityPrefix + f.ID)
	}
	return nil
}

// apply puts a committed merge into memory (caller holds mu for writing).
func (p *mergePlan) apply(s *Store) {
	for _, id := range p.dropped {
		s.dropAlias(id)
	}
	for _, a := range p.moved {
		s.setAlias(a)
	}
	for _, f := range p.from {
		s.dropEntity(f.ID)
	}
	s.setEntity(p.to)
	for _, g := range p.groups {
		s.setGroup(g)
	}
	s.invalidate()
}
