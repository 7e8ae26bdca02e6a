package awsapi

import (
	"regexp"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// route is how one AWS operation reaches the aws-sm engine: a logical
// operation on a path below the mount that names the secret, so that
// kinko's path policies decide per secret and per kind of access.
type route struct {
	op logical.Operation
	// prefix is the engine path; the secret's name follows unless byName
	// is empty (operations on no single secret).
	prefix string
	// byName is the input field naming the secret: "SecretId", or "Name"
	// for CreateSecret.
	byName string
}

// routes maps X-Amz-Target operations to the engine.
var routes = map[string]route{
	"CreateSecret":             {logical.CreateOperation, "secrets/", "Name"},
	"GetSecretValue":           {logical.ReadOperation, "secrets/", "SecretId"},
	"PutSecretValue":           {logical.UpdateOperation, "secrets/", "SecretId"},
	"DeleteSecret":             {logical.DeleteOperation, "secrets/", "SecretId"},
	"UpdateSecret":             {logical.UpdateOperation, "metadata/", "SecretId"},
	"DescribeSecret":           {logical.ReadOperation, "describe/", "SecretId"},
	"ListSecretVersionIds":     {logical.ReadOperation, "versions/", "SecretId"},
	"UpdateSecretVersionStage": {logical.UpdateOperation, "stage/", "SecretId"},
	"RestoreSecret":            {logical.UpdateOperation, "restore/", "SecretId"},
	"TagResource":              {logical.UpdateOperation, "tags/", "SecretId"},
	"UntagResource":            {logical.DeleteOperation, "tags/", "SecretId"},
	"GetResourcePolicy":        {logical.ReadOperation, "policy/", "SecretId"},
	"PutResourcePolicy":        {logical.UpdateOperation, "policy/", "SecretId"},
	"DeleteResourcePolicy":     {logical.DeleteOperation, "policy/", "SecretId"},
	"RotateSecret":             {logical.UpdateOperation, "rotate/", "SecretId"},
	"CancelRotateSecret":       {logical.UpdateOperation, "cancel-rotate/", "SecretId"},
	"ListSecrets":              {logical.UpdateOperation, "list", ""},
	"GetRandomPassword":        {logical.UpdateOperation, "random-password", ""},
}

// fullARN is an ARN with the 6-character suffix AWS adds to a name.
var fullARN = regexp.MustCompile(`^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+)-[A-Za-z0-9]{6}$`)

// partialARN is an ARN without that suffix.
var partialARN = regexp.MustCompile(`^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+)$`)

// secretName turns a SecretId (a name, a full ARN, or an ARN without the
// random suffix) into the name the policy paths use. A partial ARN whose
// name itself ends in "-" and six letters or digits is read as a full
// ARN, as AWS warns it may be.
func secretName(id string) string {
	if !strings.HasPrefix(id, "arn:") {
		return id
	}
	if m := fullARN.FindStringSubmatch(id); m != nil {
		return m[1]
	}
	if m := partialARN.FindStringSubmatch(id); m != nil {
		return m[1]
	}
	return id
}
