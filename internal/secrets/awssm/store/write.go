package store

import (
	"context"
	"slices"
	"time"
)

// CreateSecretInput is the input of CreateSecret.
type CreateSecretInput struct {
	Name               string
	ClientRequestToken string // VersionId of the first version; generated when empty
	Description        string
	KmsKeyId           string
	SecretString       *string
	SecretBinary       []byte
	Tags               []Tag
}

// CreateSecretOutput is the output of CreateSecret. VersionId is empty when
// the secret was created without a value.
type CreateSecretOutput struct {
	ARN       string
	Name      string
	VersionId string
}

// CreateSecret creates a secret and, when a value is given, its first
// version labelled AWSCURRENT. Repeating the call with the same
// ClientRequestToken and value succeeds without change.
func (s *Store) CreateSecret(ctx context.Context, in CreateSecretInput) (*CreateSecretOutput, error) {
	hasValue, err := checkCreate(in)
	if err != nil {
		return nil, err
	}
	l := s.lockFor(in.Name)
	l.Lock()
	defer l.Unlock()
	c, err := s.load(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	if c != nil {
		return createExisting(c.s, in)
	}
	now := s.clock()
	suffix, err := randomString(s.rand, alnumChars, 6)
	if err != nil {
		return nil, err
	}
	sec := &Secret{
		Name: in.Name, ARN: s.arnPrefix + in.Name + "-" + suffix,
		Description: in.Description, KmsKeyId: in.KmsKeyId, Tags: slices.Clone(in.Tags),
		CreatedDate: now, LastChangedDate: now, Versions: map[string]*Version{},
	}
	out := &CreateSecretOutput{ARN: sec.ARN, Name: sec.Name}
	if hasValue {
		id, err := s.versionIdFor(in.ClientRequestToken)
		if err != nil {
			return nil, err
		}
		if _, err := s.addVersion(sec, id, in.SecretString, in.SecretBinary, nil, now); err != nil {
			return nil, err
		}
		out.VersionId = id
	}
	return out, s.save(ctx, sec)
}

func checkCreate(in CreateSecretInput) (bool, error) {
	if err := checkName(in.Name); err != nil {
		return false, err
	}
	if err := checkDescription(&in.Description); err != nil {
		return false, err
	}
	if err := checkKmsKeyId(&in.KmsKeyId); err != nil {
		return false, err
	}
	if err := checkTags(in.Tags); err != nil {
		return false, err
	}
	if in.ClientRequestToken != "" {
		if err := checkToken("ClientRequestToken", in.ClientRequestToken); err != nil {
			return false, err
		}
	}
	return checkValue(in.SecretString, in.SecretBinary)
}

// createExisting answers CreateSecret for a name that is taken: a retry
// with the same token and value succeeds, anything else fails.
func createExisting(sec *Secret, in CreateSecretInput) (*CreateSecretOutput, error) {
	if sec.deleted() {
		return nil, errRequest("You can't create this secret because a secret with this name is already scheduled for deletion.")
	}
	if in.ClientRequestToken != "" {
		if v := sec.Versions[in.ClientRequestToken]; v != nil {
			if !v.sameValue(in.SecretString, in.SecretBinary) {
				return nil, errTokenInUse(in.ClientRequestToken, sec.ARN)
			}
			return &CreateSecretOutput{ARN: sec.ARN, Name: sec.Name, VersionId: v.VersionId}, nil
		}
	}
	return nil, errorf(CodeResourceExists, "The operation failed because the secret %s already exists.", sec.Name)
}

func errTokenInUse(tok, arn string) *Error {
	return errorf(CodeResourceExists, "You can't use ClientRequestToken %s because that value is already in use for a version of secret %s.", tok, arn)
}

func (s *Store) versionIdFor(token string) (string, error) {
	if token != "" {
		return token, nil
	}
	return s.newVersionId()
}

// addVersion adds a version with the given labels (AWSCURRENT when nil)
// to sec, moving the labels from other versions, then prunes.
func (s *Store) addVersion(sec *Secret, id string, str *string, bin []byte, labels []string, now time.Time) (*Version, error) {
	if labels == nil {
		labels = []string{StageCurrent}
	}
	if sec.holder(StageCurrent) == nil && !slices.Contains(labels, StageCurrent) {
		labels = append([]string{StageCurrent}, labels...) // the first version is current
	}
	if len(labels) > MaxLabelsPerVer {
		return nil, errorf(CodeLimitExceeded, "A version can have at most %d staging labels.", MaxLabelsPerVer)
	}
	v := &Version{VersionId: id, CreatedDate: now}
	if bin != nil {
		v.SecretBinary = slices.Clone(bin)
	} else {
		v.SecretString = *str
	}
	sec.Versions[id] = v
	if slices.Contains(labels, StageCurrent) {
		sec.attach(StageCurrent, v) // first, so an explicit AWSPREVIOUS wins
	}
	for _, l := range labels {
		sec.attach(l, v)
	}
	sec.LastChangedDate = now
	sec.prune(now, KeepVersions)
	if len(sec.Versions) > s.maxVersions {
		return nil, errorf(CodeLimitExceeded, "The secret %s has reached its quota of %d versions; deprecated versions are removed once they are 24 hours old.", sec.Name, s.maxVersions)
	}
	return v, nil
}

// PutSecretValueInput is the input of PutSecretValue.
type PutSecretValueInput struct {
	SecretId           string
	ClientRequestToken string // VersionId of the new version; generated when empty
	SecretString       *string
	SecretBinary       []byte
	VersionStages      []string // nil: AWSCURRENT
}

// PutSecretValueOutput is the output of PutSecretValue.
type PutSecretValueOutput struct {
	ARN           string
	Name          string
	VersionId     string
	VersionStages []string
}

// PutSecretValue adds a version. Without VersionStages AWSCURRENT moves to
// it (and AWSPREVIOUS to the version AWSCURRENT left); with VersionStages
// those labels move to it. A retry with the same ClientRequestToken and
// value is a no-op success; the same token with another value fails.
func (s *Store) PutSecretValue(ctx context.Context, in PutSecretValueInput) (*PutSecretValueOutput, error) {
	labels, err := checkPut(in)
	if err != nil {
		return nil, err
	}
	var out *PutSecretValueOutput
	_, err = s.mutate(ctx, in.SecretId, func(sec *Secret) (bool, error) {
		if sec.deleted() {
			return false, errMarkedDeleted()
		}
		if v := sec.Versions[in.ClientRequestToken]; v != nil {
			if !v.sameValue(in.SecretString, in.SecretBinary) {
				return false, errTokenInUse(in.ClientRequestToken, sec.ARN)
			}
			out = &PutSecretValueOutput{ARN: sec.ARN, Name: sec.Name, VersionId: v.VersionId, VersionStages: v.stages()}
			return false, nil
		}
		id, err := s.versionIdFor(in.ClientRequestToken)
		if err != nil {
			return false, err
		}
		v, err := s.addVersion(sec, id, in.SecretString, in.SecretBinary, labels, s.clock())
		if err != nil {
			return false, err
		}
		out = &PutSecretValueOutput{ARN: sec.ARN, Name: sec.Name, VersionId: id, VersionStages: v.stages()}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func checkPut(in PutSecretValueInput) ([]string, error) {
	if err := checkSecretId(in.SecretId); err != nil {
		return nil, err
	}
	if in.ClientRequestToken != "" {
		if err := checkToken("ClientRequestToken", in.ClientRequestToken); err != nil {
			return nil, err
		}
	}
	has, err := checkValue(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	if !has {
		return nil, errParam("You must provide either SecretString or SecretBinary.")
	}
	return checkLabels(in.VersionStages)
}

// UpdateSecretInput is the input of UpdateSecret; nil fields are left
// unchanged.
type UpdateSecretInput struct {
	SecretId           string
	ClientRequestToken string
	Description        *string
	KmsKeyId           *string
	SecretString       *string
	SecretBinary       []byte
}

// UpdateSecretOutput is the output of UpdateSecret; VersionId is set when a
// version was created.
type UpdateSecretOutput struct {
	ARN       string
	Name      string
	VersionId string
}

// UpdateSecret changes the description and KMS key ID and, when a value is
// given, adds a version that becomes AWSCURRENT (as PutSecretValue).
func (s *Store) UpdateSecret(ctx context.Context, in UpdateSecretInput) (*UpdateSecretOutput, error) {
	hasValue, err := checkUpdate(in)
	if err != nil {
		return nil, err
	}
	var out *UpdateSecretOutput
	_, err = s.mutate(ctx, in.SecretId, func(sec *Secret) (bool, error) {
		if sec.deleted() {
			return false, errMarkedDeleted()
		}
		out = &UpdateSecretOutput{ARN: sec.ARN, Name: sec.Name}
		if hasValue {
			if v := sec.Versions[in.ClientRequestToken]; v != nil {
				if !v.sameValue(in.SecretString, in.SecretBinary) {
					return false, errTokenInUse(in.ClientRequestToken, sec.ARN)
				}
				out.VersionId = v.VersionId
				return false, nil // a retry: nothing to change
			}
		}
		return s.applyUpdate(sec, in, hasValue, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) applyUpdate(sec *Secret, in UpdateSecretInput, hasValue bool, out *UpdateSecretOutput) (bool, error) {
	if in.Description == nil && in.KmsKeyId == nil && !hasValue {
		return false, nil
	}
	now := s.clock()
	if in.Description != nil {
		sec.Description = *in.Description
	}
	if in.KmsKeyId != nil {
		sec.KmsKeyId = *in.KmsKeyId
	}
	sec.LastChangedDate = now
	if hasValue {
		id, err := s.versionIdFor(in.ClientRequestToken)
		if err != nil {
			return false, err
		}
		if _, err := s.addVersion(sec, id, in.SecretString, in.SecretBinary, nil, now); err != nil {
			return false, err
		}
		out.VersionId = id
	}
	return true, nil
}

func checkUpdate(in UpdateSecretInput) (bool, error) {
	if err := checkSecretId(in.SecretId); err != nil {
		return false, err
	}
	if err := checkDescription(in.Description); err != nil {
		return false, err
	}
	if err := checkKmsKeyId(in.KmsKeyId); err != nil {
		return false, err
	}
	if in.ClientRequestToken != "" {
		if err := checkToken("ClientRequestToken", in.ClientRequestToken); err != nil {
			return false, err
		}
	}
	return checkValue(in.SecretString, in.SecretBinary)
}
