package store

import (
	"context"
	"slices"
	"strings"
	"time"
)

// DeleteSecretInput is the input of DeleteSecret. RecoveryWindowInDays
// (7-30, default 30) and ForceDeleteWithoutRecovery exclude each other.
type DeleteSecretInput struct {
	SecretId                   string
	RecoveryWindowInDays       *int64
	ForceDeleteWithoutRecovery bool
}

// DeleteSecretOutput is the output of DeleteSecret.
type DeleteSecretOutput struct {
	ARN          string
	Name         string
	DeletionDate time.Time
}

// DeleteSecret schedules a secret for deletion at the end of its recovery
// window, or deletes it at once with ForceDeleteWithoutRecovery (which
// succeeds for a secret that does not exist).
func (s *Store) DeleteSecret(ctx context.Context, in DeleteSecretInput) (*DeleteSecretOutput, error) {
	if err := checkSecretId(in.SecretId); err != nil {
		return nil, err
	}
	days := int64(30)
	if in.RecoveryWindowInDays != nil {
		if in.ForceDeleteWithoutRecovery {
			return nil, errParam("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
		}
		if days = *in.RecoveryWindowInDays; days < 7 || days > 30 {
			return nil, errParam("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
		}
	}
	if in.ForceDeleteWithoutRecovery {
		return s.forceDelete(ctx, in.SecretId)
	}
	var when time.Time
	sec, err := s.mutate(ctx, in.SecretId, func(sec *Secret) (bool, error) {
		if sec.deleted() {
			return false, errRequest("You tried to perform the operation on a secret that's currently marked deleted.")
		}
		now := s.clock()
		when = now.Add(time.Duration(days) * 24 * time.Hour)
		sec.DeletedDate = &when
		sec.LastChangedDate = now
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return &DeleteSecretOutput{ARN: sec.ARN, Name: sec.Name, DeletionDate: when}, nil
}

func (s *Store) forceDelete(ctx context.Context, id string) (*DeleteSecretOutput, error) {
	out := &DeleteSecretOutput{DeletionDate: s.clock()}
	err := s.withLocked(ctx, id, func(cur *Secret) error {
		out.ARN, out.Name = cur.ARN, cur.Name
		return s.remove(ctx, cur.Name)
	})
	if e, ok := AsError(err); ok && e.Code == CodeResourceNotFound {
		// not an error: answer with what the caller named
		out.ARN, out.Name = id, id
		if rest, ok := strings.CutPrefix(id, s.arnPrefix); ok {
			out.Name = rest
		} else if !strings.HasPrefix(id, "arn:") {
			out.ARN = s.arnPrefix + id
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RestoreSecretInput is the input of RestoreSecret.
type RestoreSecretInput struct {
	SecretId string
}

// RestoreSecretOutput is the output of RestoreSecret.
type RestoreSecretOutput struct {
	ARN  string
	Name string
}

// RestoreSecret cancels a scheduled deletion; for a secret that is not
// scheduled for deletion it does nothing.
func (s *Store) RestoreSecret(ctx context.Context, in RestoreSecretInput) (*RestoreSecretOutput, error) {
	sec, err := s.mutate(ctx, in.SecretId, func(sec *Secret) (bool, error) {
		if !sec.deleted() {
			return false, nil
		}
		sec.DeletedDate = nil
		sec.LastChangedDate = s.clock()
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return &RestoreSecretOutput{ARN: sec.ARN, Name: sec.Name}, nil
}

// Purge deletes for good every secret whose recovery window ended at or
// before now, and returns how many it deleted.
func (s *Store) Purge(ctx context.Context, now time.Time) (int, error) {
	all, err := s.loadAll(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sec := range all {
		if !due(sec, now) {
			continue
		}
		done, err := s.purgeOne(ctx, sec.Name, now)
		if err != nil {
			return n, err
		}
		if done {
			n++
		}
	}
	return n, nil
}

func due(sec *Secret, now time.Time) bool {
	return sec.DeletedDate != nil && !sec.DeletedDate.After(now)
}

func (s *Store) purgeOne(ctx context.Context, name string, now time.Time) (bool, error) {
	l := s.lockFor(name)
	l.Lock()
	defer l.Unlock()
	c, err := s.load(ctx, name)
	if err != nil || c == nil || !due(c.s, now) {
		return false, err // restored or gone meanwhile
	}
	return true, s.remove(ctx, name)
}

// TagResourceInput is the input of TagResource.
type TagResourceInput struct {
	SecretId string
	Tags     []Tag
}

// TagResource adds tags to a secret, replacing the values of keys it
// already has.
func (s *Store) TagResource(ctx context.Context, in TagResourceInput) error {
	if err := checkSecretId(in.SecretId); err != nil {
		return err
	}
	if err := checkTags(in.Tags); err != nil {
		return err
	}
	_, err := s.mutate(ctx, in.SecretId, func(sec *Secret) (bool, error) {
		if sec.deleted() {
			return false, errMarkedDeleted()
		}
		tags := mergeTags(sec.Tags, in.Tags)
		if len(tags) > MaxTags {
			return false, errParam("A secret can have at most %d tags.", MaxTags)
		}
		sec.Tags = tags
		sec.LastChangedDate = s.clock()
		return true, nil
	})
	return err
}

// UntagResourceInput is the input of UntagResource.
type UntagResourceInput struct {
	SecretId string
	TagKeys  []string
}

// UntagResource removes tags by key; keys the secret lacks are ignored.
func (s *Store) UntagResource(ctx context.Context, in UntagResourceInput) error {
	if err := checkSecretId(in.SecretId); err != nil {
		return err
	}
	_, err := s.mutate(ctx, in.SecretId, func(sec *Secret) (bool, error) {
		if sec.deleted() {
			return false, errMarkedDeleted()
		}
		n := len(sec.Tags)
		sec.Tags = slices.DeleteFunc(sec.Tags, func(t Tag) bool { return slices.Contains(in.TagKeys, t.Key) })
		if len(sec.Tags) == n {
			return false, nil
		}
		sec.LastChangedDate = s.clock()
		return true, nil
	})
	return err
}

// PutResourcePolicyInput is the input of PutResourcePolicy.
type PutResourcePolicyInput struct {
	SecretId          string
	ResourcePolicy    string
	BlockPublicPolicy bool
}

// ResourcePolicyOutput is the output of PutResourcePolicy and
// DeleteResourcePolicy.
type ResourcePolicyOutput struct {
	ARN  string
	Name string
}

// PutResourcePolicy attaches a resource policy (a JSON object of 1-20480
// characters) to a secret. With BlockPublicPolicy a policy that allows the
// wildcard principal is refused.
func (s *Store) PutResourcePolicy(ctx context.Context, in PutResourcePolicyInput) (*ResourcePolicyOutput, error) {
	if err := checkSecretId(in.SecretId); err != nil {
		return nil, err
	}
	if err := checkPolicy(in.ResourcePolicy, in.BlockPublicPolicy); err != nil {
		return nil, err
	}
	return s.setPolicy(ctx, in.SecretId, in.ResourcePolicy)
}

// DeleteResourcePolicyInput is the input of DeleteResourcePolicy.
type DeleteResourcePolicyInput struct {
	SecretId string
}

// DeleteResourcePolicy removes a secret's resource policy, if any.
func (s *Store) DeleteResourcePolicy(ctx context.Context, in DeleteResourcePolicyInput) (*ResourcePolicyOutput, error) {
	return s.setPolicy(ctx, in.SecretId, "")
}

func (s *Store) setPolicy(ctx context.Context, id, policy string) (*ResourcePolicyOutput, error) {
	sec, err := s.mutate(ctx, id, func(sec *Secret) (bool, error) {
		if sec.deleted() {
			return false, errMarkedDeleted()
		}
		if sec.ResourcePolicy == policy {
			return false, nil
		}
		sec.ResourcePolicy = policy
		sec.LastChangedDate = s.clock()
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return &ResourcePolicyOutput{ARN: sec.ARN, Name: sec.Name}, nil
}

// GetResourcePolicyInput is the input of GetResourcePolicy.
type GetResourcePolicyInput struct {
	SecretId string
}

// GetResourcePolicyOutput is the output of GetResourcePolicy;
// ResourcePolicy is nil when the secret has none.
type GetResourcePolicyOutput struct {
	ARN            string
	Name           string
	ResourcePolicy *string
}

// GetResourcePolicy returns a secret's resource policy.
func (s *Store) GetResourcePolicy(ctx context.Context, in GetResourcePolicyInput) (*GetResourcePolicyOutput, error) {
	c, err := s.resolve(ctx, in.SecretId)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errNotFound()
	}
	out := &GetResourcePolicyOutput{ARN: c.s.ARN, Name: c.s.Name}
	if p := c.s.ResourcePolicy; p != "" {
		out.ResourcePolicy = &p
	}
	return out, nil
}
