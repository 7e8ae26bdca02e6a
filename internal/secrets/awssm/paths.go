package awssm

import (
	"context"
	"encoding/base64"
	"errors"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/secrets/awssm/store"
)

type opMap = map[logical.Operation]logical.OperationFunc

func (b *Backend) paths() []*logical.Path {
	name := map[string]*logical.FieldSchema{"name": {Type: logical.TypeString, Description: "The secret's name (or ARN)."}}
	byName := func(prefix string, ops opMap, help string) *logical.Path {
		return &logical.Path{Pattern: prefix + `/(?P<name>.+)`, Fields: name, Operations: ops, TakesArbitraryInput: true, HelpSynopsis: help}
	}
	s := b.st
	secrets := byName("secrets", opMap{
		logical.ReadOperation:   b.handleGetSecretValue,
		logical.CreateOperation: call("Name", s.CreateSecret),
		logical.UpdateOperation: createOrPut(call("Name", s.CreateSecret), call("SecretId", s.PutSecretValue)),
		logical.DeleteOperation: b.afterChange(call("SecretId", s.DeleteSecret)),
	}, "Read (GetSecretValue), create (CreateSecret), add a version (PutSecretValue) or delete (DeleteSecret) a secret.")
	secrets.ExistenceCheck = b.exists
	return []*logical.Path{
		{Pattern: "secrets/?", Operations: opMap{logical.ListOperation: b.handleList}, HelpSynopsis: "List the secrets' names."},
		secrets,
		byName("describe", opMap{logical.ReadOperation: call("SecretId", s.DescribeSecret)}, "DescribeSecret."),
		byName("versions", opMap{logical.ReadOperation: call("SecretId", s.ListSecretVersionIds)}, "ListSecretVersionIds."),
		byName("metadata", opMap{logical.UpdateOperation: call("SecretId", s.UpdateSecret)}, "UpdateSecret."),
		byName("stage", opMap{logical.UpdateOperation: call("SecretId", s.UpdateSecretVersionStage)}, "UpdateSecretVersionStage: move a staging label."),
		byName("restore", opMap{logical.UpdateOperation: b.afterChange(call("SecretId", s.RestoreSecret))}, "RestoreSecret: cancel a scheduled deletion."),
		byName("tags", opMap{
			logical.UpdateOperation: call("SecretId", noOutput(s.TagResource)),
			logical.DeleteOperation: call("SecretId", noOutput(s.UntagResource)),
		}, "TagResource (update) and UntagResource (delete, with TagKeys)."),
		byName("policy", opMap{
			logical.ReadOperation:   call("SecretId", s.GetResourcePolicy),
			logical.UpdateOperation: call("SecretId", s.PutResourcePolicy),
			logical.DeleteOperation: call("SecretId", s.DeleteResourcePolicy),
		}, "The secret's resource policy."),
		byName("rotate", opMap{logical.UpdateOperation: b.handleRotate}, "RotateSecret: configure and start a rotation."),
		byName("cancel-rotate", opMap{logical.UpdateOperation: b.handleCancelRotate}, "CancelRotateSecret: turn rotation off, abandon an unfinished one."),
		byName("rotation", opMap{logical.ReadOperation: b.handleRotationStatus},
			"The secret's rotation: configuration, and the step, error and retry time of an unfinished or failed rotation."),
		{Pattern: "list", TakesArbitraryInput: true, Operations: opMap{logical.UpdateOperation: call("", s.ListSecrets)},
			HelpSynopsis: "ListSecrets with Filters, MaxResults, NextToken, SortOrder."},
		{Pattern: "random-password", TakesArbitraryInput: true, Operations: opMap{
			logical.ReadOperation: call("", randomPassword), logical.UpdateOperation: call("", randomPassword)},
			HelpSynopsis: "GetRandomPassword."},
	}
}

func randomPassword(_ context.Context, in store.GetRandomPasswordInput) (*store.GetRandomPasswordOutput, error) {
	return store.GetRandomPassword(in)
}

// handleGetSecretValue is GetSecretValue, the hot path: its three string
// fields are read directly (AWS names or snake_case), not through the
// generic JSON decode.
func (b *Backend) handleGetSecretValue(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	in := store.GetSecretValueInput{}
	for _, f := range []struct {
		dst         *string
		aws, snaked string
	}{{&in.VersionId, "VersionId", "version_id"}, {&in.VersionStage, "VersionStage", "version_stage"}} {
		for _, k := range []string{f.aws, f.snaked} {
			v, ok := req.Data[k]
			if !ok || v == nil {
				continue
			}
			str, ok := v.(string)
			if !ok {
				return nil, logical.InvalidRequest("invalid request body: field %s must be string, not %T", f.aws, v)
			}
			*f.dst = str
		}
	}
	in.SecretId, _ = d.Raw["name"].(string)
	out, err := b.st.GetSecretValue(ctx, in)
	if err != nil {
		return nil, apiError(err)
	}
	return logical.DataResponse(secretValueData(out)), nil
}

// secretValueData is GetSecretValue's output as response data, built
// directly (the hot path: no JSON round trip), with the same shape the
// round trip gives: AWS names, RFC 3339 dates, base64 binary.
func secretValueData(o *store.GetSecretValueOutput) map[string]any {
	stages := make([]any, len(o.VersionStages))
	for i, s := range o.VersionStages {
		stages[i] = s
	}
	data := map[string]any{"ARN": o.ARN, "Name": o.Name, "VersionId": o.VersionId, "VersionStages": stages,
		"CreatedDate": o.CreatedDate.Format(time.RFC3339Nano)}
	if o.SecretString != nil {
		data["SecretString"] = *o.SecretString
	}
	if o.SecretBinary != nil {
		data["SecretBinary"] = base64.StdEncoding.EncodeToString(o.SecretBinary)
	}
	return data
}

// createOrPut sends a write of an existing secret to PutSecretValue,
// unless it is a CreateSecret (its input has Name), which must fail with
// ResourceExistsException as AWS's does.
func createOrPut(create, put logical.OperationFunc) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		if _, ok := req.Data["Name"]; ok {
			return create(ctx, req, d)
		}
		return put(ctx, req, d)
	}
}

// noOutput adapts an operation without output.
func noOutput[In any](fn func(context.Context, In) error) func(context.Context, In) (struct{}, error) {
	return func(ctx context.Context, in In) (struct{}, error) { return struct{}{}, fn(ctx, in) }
}

// exists tells create (CreateSecret) from update (PutSecretValue).
func (b *Backend) exists(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
	_, err := b.st.DescribeSecret(ctx, store.DescribeSecretInput{SecretId: d.Get("name").(string)})
	if err == nil {
		return true, nil
	}
	var se *store.Error
	if errors.As(err, &se) {
		return false, nil
	}
	return false, err
}

func (b *Backend) handleList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	var names []string
	in := store.ListSecretsInput{}
	for {
		out, err := b.st.ListSecrets(ctx, in)
		if err != nil {
			return nil, apiError(err)
		}
		for _, e := range out.SecretList {
			names = append(names, e.Name)
		}
		if out.NextToken == "" {
			return logical.ListResponse(names), nil
		}
		in.NextToken = out.NextToken
	}
}
