package awssm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/kinko-dev/kinko/internal/secrets/awssm/dbrotate"
	"github.com/kinko-dev/kinko/internal/secrets/awssm/store"
)

// The built-in rotators rotate database users without a hook, as AWS's
// rotation templates for PostgreSQL and MySQL do. The secret's value is
// a JSON object with engine, host, port, username, password and dbname
// (other fields are kept as they are).
//
// builtin:single-user: the user changes its own password. Between
// setSecret and finishSecret, clients still holding AWSCURRENT fail to
// log in and must read the secret again.
//
// builtin:alternating-users: two users take turns, <username> and
// <username>_clone; each rotation sets a new password on the one not in
// use and makes it AWSCURRENT, so AWSPREVIOUS keeps working until the
// next rotation. The clone is created, with the privileges of the
// original, by the master user named by the secret's masterarn field:
// another secret of this mount, which must carry the tag
// kinko:rotation-master=true (so that whoever may configure rotation of
// one secret cannot make kinko use any credentials of the mount), and
// whose own host and port are the ones kinko connects to.

// MasterTag marks a secret whose credentials alternating-users rotation
// may use as its master.
const MasterTag = "kinko:rotation-master"

// builtinExclude are the characters AWS's templates keep out of new
// passwords (they break connection strings and shell quoting).
const builtinExclude = `/@"'\` + "`"

type dbRotator struct {
	b           *Backend
	alternating bool
}

func (r *dbRotator) step(ctx context.Context, ev rotationEvent) error {
	switch ev.Step {
	case stepCreate:
		return r.create(ctx, ev)
	case stepSet:
		pending, err := r.creds(ctx, ev.SecretId, ev.ClientRequestToken, store.StagePending)
		if err != nil {
			return err
		}
		current, err := r.creds(ctx, ev.SecretId, "", store.StageCurrent)
		if err != nil {
			return err
		}
		if !r.alternating {
			previous, err := r.creds(ctx, ev.SecretId, "", store.StagePrevious)
			if err != nil && !isNotFound(err) {
				return err
			}
			var prev *dbrotate.Creds
			if err == nil {
				prev = &previous
			}
			return dbrotate.SetSingle(ctx, pending, current, prev)
		}
		master, err := r.master(ctx, current)
		if err != nil {
			return err
		}
		return dbrotate.SetAlternating(ctx, master, current, pending)
	case stepTest:
		pending, err := r.creds(ctx, ev.SecretId, ev.ClientRequestToken, store.StagePending)
		if err != nil {
			return err
		}
		return dbrotate.Test(ctx, pending)
	case stepFinish:
		_, err := r.b.st.FinishRotation(ctx, store.FinishRotationInput{SecretId: ev.SecretId, VersionId: ev.ClientRequestToken})
		return err
	}
	return fmt.Errorf("unknown step %q", ev.Step)
}

// create puts the pending version: AWSCURRENT's value with a new password
// (and, alternating, the other user's name).
func (r *dbRotator) create(ctx context.Context, ev rotationEvent) error {
	st := r.b.st
	_, err := st.GetSecretValue(ctx, store.GetSecretValueInput{SecretId: ev.SecretId, VersionId: ev.ClientRequestToken, VersionStage: store.StagePending})
	if err == nil {
		return nil // done before
	}
	if !isNotFound(err) {
		return err
	}
	cur, err := st.GetSecretValue(ctx, store.GetSecretValueInput{SecretId: ev.SecretId, VersionStage: store.StageCurrent})
	if err != nil {
		return err
	}
	if cur.SecretString == nil {
		return errors.New("the secret's AWSCURRENT value is binary; the built-in rotators need a JSON object")
	}
	fields := map[string]any{}
	if err := json.Unmarshal([]byte(*cur.SecretString), &fields); err != nil {
		return errors.New("the secret's AWSCURRENT value is not a JSON object")
	}
	creds, err := dbrotate.ParseCreds(*cur.SecretString)
	if err != nil {
		return err
	}
	length := int64(32)
	pw, err := store.GetRandomPassword(store.GetRandomPasswordInput{PasswordLength: &length, ExcludeCharacters: builtinExclude})
	if err != nil {
		return err
	}
	fields["password"] = pw.RandomPassword
	if r.alternating {
		if creds.MasterARN == "" {
			return errors.New("alternating-users rotation needs the masterarn field: the secret holding the master user's credentials")
		}
		fields["username"] = dbrotate.CloneUsername(creds.Engine, creds.Username)
	}
	value, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	s := string(value)
	_, err = st.CreatePendingVersion(ctx, store.CreatePendingVersionInput{SecretId: ev.SecretId, ClientRequestToken: ev.ClientRequestToken, SecretString: &s})
	return err
}

// creds reads one version of a secret as database credentials.
func (r *dbRotator) creds(ctx context.Context, id, version, stage string) (dbrotate.Creds, error) {
	out, err := r.b.st.GetSecretValue(ctx, store.GetSecretValueInput{SecretId: id, VersionId: version, VersionStage: stage})
	if err != nil {
		return dbrotate.Creds{}, err
	}
	if out.SecretString == nil {
		return dbrotate.Creds{}, fmt.Errorf("the %s value is binary, not database credentials", stage)
	}
	c, err := dbrotate.ParseCreds(*out.SecretString)
	if err != nil {
		return c, fmt.Errorf("the %s value: %w", stage, err)
	}
	return c, nil
}

// master reads the master credentials current names, checking the tag
// that allows their use.
func (r *dbRotator) master(ctx context.Context, current dbrotate.Creds) (dbrotate.Creds, error) {
	if current.MasterARN == "" {
		return dbrotate.Creds{}, errors.New("alternating-users rotation needs the masterarn field: the secret holding the master user's credentials")
	}
	desc, err := r.b.st.DescribeSecret(ctx, store.DescribeSecretInput{SecretId: current.MasterARN})
	if err != nil {
		if isNotFound(err) {
			return dbrotate.Creds{}, fmt.Errorf("the master secret %s does not exist in this mount", current.MasterARN)
		}
		return dbrotate.Creds{}, err
	}
	if !slices.Contains(desc.Tags, store.Tag{Key: MasterTag, Value: "true"}) {
		return dbrotate.Creds{}, fmt.Errorf("the master secret %s lacks the tag %s=true that allows rotation to use it", desc.Name, MasterTag)
	}
	master, err := r.creds(ctx, desc.ARN, "", store.StageCurrent)
	if err != nil {
		return master, fmt.Errorf("master secret %s: %w", desc.Name, err)
	}
	if master.Username == current.Username || master.Username == dbrotate.CloneUsername(current.Engine, current.Username) {
		return master, errors.New("alternating-users rotation cannot clone the master user itself")
	}
	return master, nil
}

// newHookClient is the HTTP client of rotation hooks: no redirects (a
// hook answers itself), per-step timeouts set by the caller.
func newHookClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = maxHookTimeout
	tr.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
