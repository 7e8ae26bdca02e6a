package store

import (
	"context"
	"time"
	"unicode/utf8"
)

// RotateSecretInput is the input of RotateSecret.
type RotateSecretInput struct {
	SecretId           string
	ClientRequestToken string // VersionId of the rotation's new version; generated when empty
	RotationLambdaARN  string // for kinko: a reference to the rotation hook
	RotationRules      *RotationRules
	RotateImmediately  *bool // default true
}

// RotateSecretOutput is the output of RotateSecret: the VersionId the
// rotation driver must give the new (AWSPENDING) version.
type RotateSecretOutput struct {
	ARN       string
	Name      string
	VersionId string
}

// RotateSecret turns rotation on with the given hook and rules (keeping
// the stored ones when not given) and checks that no rotation is in
// progress: AWSPENDING must be absent or on the AWSCURRENT version. It
// does not run the rotation; the driver does, through CreatePendingVersion
// and FinishRotation.
func (s *Store) RotateSecret(ctx context.Context, in RotateSecretInput) (*RotateSecretOutput, error) {
	if err := checkRotate(in); err != nil {
		return nil, err
	}
	id, err := s.versionIdFor(in.ClientRequestToken)
	if err != nil {
		return nil, err
	}
	sec, err := s.mutate(ctx, in.SecretId, func(sec *Secret) (bool, error) {
		if sec.deleted() {
			return false, errMarkedDeleted()
		}
		if in.RotationLambdaARN != "" {
			sec.RotationLambdaARN = in.RotationLambdaARN
		}
		if sec.RotationLambdaARN == "" {
			return false, errRequest("You tried to enable rotation on a secret that doesn't already have a Lambda function ARN configured and you didn't include such an ARN as a parameter in this call.")
		}
		if p := sec.holder(StagePending); p != nil && p != sec.holder(StageCurrent) {
			return false, errRequest("A previous rotation isn't complete. That rotation will be reattempted.")
		}
		if in.RotationRules != nil {
			sec.RotationRules = clonePtr(in.RotationRules)
		}
		now := s.clock()
		from := now
		if in.RotateImmediately != nil && !*in.RotateImmediately && sec.LastRotatedDate != nil {
			from = *sec.LastRotatedDate
		}
		enabled := true
		sec.RotationEnabled = &enabled
		sec.NextRotationDate = nextRotation(sec.RotationRules, from)
		sec.LastChangedDate = now
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return &RotateSecretOutput{ARN: sec.ARN, Name: sec.Name, VersionId: id}, nil
}

func checkRotate(in RotateSecretInput) error {
	if err := checkSecretId(in.SecretId); err != nil {
		return err
	}
	if in.ClientRequestToken != "" {
		if err := checkToken("ClientRequestToken", in.ClientRequestToken); err != nil {
			return err
		}
	}
	if utf8.RuneCountInString(in.RotationLambdaARN) > 2048 {
		return errParam("RotationLambdaARN must be at most 2048 characters long.")
	}
	return checkRotationRules(in.RotationRules)
}

// nextRotation is the start of the next rotation window for rules after
// a rotation (or the enabling of rotation) at from; nil without rules.
func nextRotation(r *RotationRules, from time.Time) *time.Time {
	if r == nil {
		return nil
	}
	sched, err := r.schedule()
	if err != nil {
		return nil // validated when stored
	}
	t, _ := sched.Next(from)
	if t.IsZero() {
		return nil
	}
	return &t
}

// CreatePendingVersionInput is the input of CreatePendingVersion.
type CreatePendingVersionInput struct {
	SecretId           string
	ClientRequestToken string // the VersionId RotateSecret returned
	SecretString       *string
	SecretBinary       []byte
}

// CreatePendingVersion is the createSecret step of a rotation: it adds the
// new value as a version labelled AWSPENDING (moving the label from any
// other version), as PutSecretValue with VersionStages [AWSPENDING].
// Repeating it with the same token and value is a no-op.
func (s *Store) CreatePendingVersion(ctx context.Context, in CreatePendingVersionInput) (*PutSecretValueOutput, error) {
	if in.ClientRequestToken == "" {
		return nil, errParam("ClientRequestToken is required.")
	}
	return s.PutSecretValue(ctx, PutSecretValueInput{
		SecretId: in.SecretId, ClientRequestToken: in.ClientRequestToken,
		SecretString: in.SecretString, SecretBinary: in.SecretBinary,
		VersionStages: []string{StagePending},
	})
}

// FinishRotationInput is the input of FinishRotation.
type FinishRotationInput struct {
	SecretId  string
	VersionId string // the AWSPENDING version
}

// FinishRotationOutput is the output of FinishRotation.
type FinishRotationOutput struct {
	ARN       string
	Name      string
	VersionId string
}

// FinishRotation is the finishSecret step: AWSCURRENT moves to the pending
// version (AWSPREVIOUS follows to the version it left), AWSPENDING is
// removed, and LastRotatedDate / NextRotationDate are updated. When a
// rotation hook has already moved AWSCURRENT (UpdateSecretVersionStage,
// as a rotation Lambda does), it records the rotation and removes
// AWSPENDING. Calling it again once done is a no-op.
func (s *Store) FinishRotation(ctx context.Context, in FinishRotationInput) (*FinishRotationOutput, error) {
	if err := checkSecretId(in.SecretId); err != nil {
		return nil, err
	}
	if err := checkToken("VersionId", in.VersionId); err != nil {
		return nil, err
	}
	sec, err := s.mutate(ctx, in.SecretId, func(sec *Secret) (bool, error) {
		if sec.deleted() {
			return false, errMarkedDeleted()
		}
		v := sec.Versions[in.VersionId]
		if v == nil {
			return false, errorf(CodeResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", in.VersionId)
		}
		if !v.hasStage(StagePending) && !v.hasStage(StageCurrent) {
			return false, errRequest("Version %s is not the pending (AWSPENDING) version of the secret.", in.VersionId)
		}
		if !v.hasStage(StagePending) && sec.LastRotatedDate != nil && !sec.LastRotatedDate.Before(v.CreatedDate) {
			return false, nil // already finished
		}
		now := s.clock()
		sec.attach(StageCurrent, v)
		sec.detach(StagePending)
		sec.LastRotatedDate = &now
		sec.NextRotationDate = nextRotation(sec.RotationRules, now)
		sec.LastChangedDate = now
		sec.prune(now, KeepVersions)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return &FinishRotationOutput{ARN: sec.ARN, Name: sec.Name, VersionId: in.VersionId}, nil
}

// CancelRotateSecretInput is the input of CancelRotateSecret.
type CancelRotateSecretInput struct {
	SecretId string
}

// CancelRotateSecretOutput is the output of CancelRotateSecret; VersionId
// is the version that carried AWSPENDING, if any.
type CancelRotateSecretOutput struct {
	ARN       string
	Name      string
	VersionId string
}

// CancelRotateSecret turns rotation off and removes AWSPENDING from the
// version of an unfinished rotation.
func (s *Store) CancelRotateSecret(ctx context.Context, in CancelRotateSecretInput) (*CancelRotateSecretOutput, error) {
	if err := checkSecretId(in.SecretId); err != nil {
		return nil, err
	}
	var pending string
	sec, err := s.mutate(ctx, in.SecretId, func(sec *Secret) (bool, error) {
		if sec.deleted() {
			return false, errMarkedDeleted()
		}
		if sec.RotationLambdaARN == "" && sec.RotationEnabled == nil {
			return false, errRequest("You tried to cancel rotation on a secret that was never configured for rotation.")
		}
		if p := sec.holder(StagePending); p != nil {
			pending = p.VersionId
			sec.detach(StagePending)
		}
		disabled := false
		sec.RotationEnabled = &disabled
		sec.NextRotationDate = nil
		sec.LastChangedDate = s.clock()
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return &CancelRotateSecretOutput{ARN: sec.ARN, Name: sec.Name, VersionId: pending}, nil
}
