package store

import "context"

// UpdateSecretVersionStageInput is the input of UpdateSecretVersionStage.
type UpdateSecretVersionStageInput struct {
	SecretId            string
	VersionStage        string
	RemoveFromVersionId string
	MoveToVersionId     string
}

// UpdateSecretVersionStageOutput is the output of UpdateSecretVersionStage.
type UpdateSecretVersionStageOutput struct {
	ARN  string
	Name string
}

// UpdateSecretVersionStage moves a label to MoveToVersionId, or removes it
// from RemoveFromVersionId when no MoveToVersionId is given. A label that
// is attached to another version can only be moved when
// RemoveFromVersionId names that version. Moving AWSCURRENT puts
// AWSPREVIOUS on the version it left; AWSCURRENT cannot be removed without
// being moved.
func (s *Store) UpdateSecretVersionStage(ctx context.Context, in UpdateSecretVersionStageInput) (*UpdateSecretVersionStageOutput, error) {
	if err := checkStageInput(in); err != nil {
		return nil, err
	}
	sec, err := s.mutate(ctx, in.SecretId, func(sec *Secret) (bool, error) {
		if sec.deleted() {
			return false, errMarkedDeleted()
		}
		changed, err := moveStage(sec, in)
		if err != nil || !changed {
			return false, err
		}
		now := s.clock()
		sec.LastChangedDate = now
		sec.prune(now, KeepVersions)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return &UpdateSecretVersionStageOutput{ARN: sec.ARN, Name: sec.Name}, nil
}

func checkStageInput(in UpdateSecretVersionStageInput) error {
	if err := checkSecretId(in.SecretId); err != nil {
		return err
	}
	if err := checkLabel(in.VersionStage); err != nil {
		return err
	}
	if in.RemoveFromVersionId == "" && in.MoveToVersionId == "" {
		return errParam("You must specify MoveToVersionId, RemoveFromVersionId, or both.")
	}
	for field, id := range map[string]string{"RemoveFromVersionId": in.RemoveFromVersionId, "MoveToVersionId": in.MoveToVersionId} {
		if id != "" {
			if err := checkToken(field, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// moveStage applies the label change to sec; it reports whether anything
// changed.
func moveStage(sec *Secret, in UpdateSecretVersionStageInput) (bool, error) {
	label := in.VersionStage
	var from, to *Version
	if in.RemoveFromVersionId != "" {
		if from = sec.Versions[in.RemoveFromVersionId]; from == nil {
			return false, errParam("Not a valid version: %s", in.RemoveFromVersionId)
		}
		if !from.hasStage(label) {
			return false, errParam("The staging label %s is not attached to version %s, so it can't be removed from it.", label, from.VersionId)
		}
	}
	if in.MoveToVersionId == "" {
		if label == StageCurrent {
			return false, errParam("You can't remove the staging label AWSCURRENT; move it to another version with MoveToVersionId instead.")
		}
		sec.detach(label)
		return true, nil
	}
	if to = sec.Versions[in.MoveToVersionId]; to == nil {
		return false, errParam("Not a valid version: %s", in.MoveToVersionId)
	}
	if to.hasStage(label) {
		return false, nil
	}
	if h := sec.holder(label); h != nil && from == nil {
		return false, errParam("The parameter RemoveFromVersionId can't be empty. Staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.", label, h.VersionId)
	}
	if len(to.Stages) >= MaxLabelsPerVer {
		return false, errorf(CodeLimitExceeded, "A version can have at most %d staging labels.", MaxLabelsPerVer)
	}
	sec.attach(label, to)
	return true, nil
}
