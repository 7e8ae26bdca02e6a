package awssm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/secrets/awssm/store"
)

// The rotation driver. RotateSecret (or the schedule) starts a rotation
// of a secret: a ClientRequestToken, the VersionId of the new version, and
// the four steps of AWS's protocol run in order by the secret's rotator
// (a hook or a built-in): createSecret puts the new value as AWSPENDING,
// setSecret makes it valid where it is used (the database), testSecret
// checks it, finishSecret moves AWSCURRENT to it. kinko checks after
// createSecret that the pending version exists and after finishSecret
// that AWSCURRENT moved, then records the rotation (LastRotatedDate,
// NextRotationDate) and removes AWSPENDING.
//
// A failed step leaves AWSCURRENT where it was and AWSPENDING on the new
// version; the failure is kept (rotation/<name>: step, error, attempts),
// logged, and retried with the same token, from createSecret (every step
// is idempotent, as a rotation Lambda's must be), after a backoff of 1
// minute doubling to 1 hour. RotateSecret on a secret with a failed
// rotation retries it at once; CancelRotateSecret abandons it.
//
// Rotations run on the shared scheduler (internal/rotation), at most
// maxConcurrentRotations at a time, one at a time per secret. The state
// of an unfinished rotation is stored before its first step, so a
// restart resumes it.

// The four steps, in order.
const (
	stepCreate = "createSecret"
	stepSet    = "setSecret"
	stepTest   = "testSecret"
	stepFinish = "finishSecret"
)

var rotationSteps = []string{stepCreate, stepSet, stepTest, stepFinish}

const (
	statePrefix            = "rotation/"
	maxConcurrentRotations = 16
	rotationRetryBase      = time.Minute
	rotationRetryMax       = time.Hour
	maxReportedError       = 1024
)

// rotationState is an unfinished rotation: running, or failed and
// waiting for its retry.
type rotationState struct {
	ARN         string
	Token       string
	Started     time.Time
	Attempts    int
	FailedStep  string `json:",omitempty"`
	LastError   string `json:",omitempty"`
	LastAttempt time.Time
	NextAttempt time.Time
}

func stateKey(name string) string { return statePrefix + url.QueryEscape(name) }

func (b *Backend) loadState(ctx context.Context, name string) (*rotationState, error) {
	var st rotationState
	ok, err := logical.GetJSON(ctx, b.view, stateKey(name), &st)
	if err != nil || !ok {
		return nil, err
	}
	return &st, nil
}

func (b *Backend) saveState(ctx context.Context, name string, st *rotationState) error {
	return logical.PutJSON(ctx, b.view, stateKey(name), st)
}

func (b *Backend) dropState(ctx context.Context, name string) error {
	return b.view.Delete(ctx, stateKey(name))
}

// isNotFound reports a store error saying the secret does not exist.
func isNotFound(err error) bool {
	var se *store.Error
	return errors.As(err, &se) && se.Code == store.CodeResourceNotFound
}

// startScheduler schedules every secret with rotation on, and every
// unfinished rotation, and starts the scheduler.
func (b *Backend) startScheduler(ctx context.Context) error {
	names := map[string]bool{}
	keys, err := b.view.List(ctx, statePrefix)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if n, err := url.QueryUnescape(k); err == nil {
			names[n] = true
		}
	}
	in := store.ListSecretsInput{}
	for {
		out, err := b.st.ListSecrets(ctx, in)
		if err != nil {
			return err
		}
		for _, e := range out.SecretList {
			if e.RotationEnabled != nil && *e.RotationEnabled {
				names[e.Name] = true
			}
		}
		if out.NextToken == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	for n := range names {
		b.reschedule(ctx, n)
	}
	b.sched.Start()
	return nil
}

// nextRun returns when name's rotation is next due; false when none is.
func (b *Backend) nextRun(ctx context.Context, name string) (time.Time, bool, error) {
	desc, err := b.st.DescribeSecret(ctx, store.DescribeSecretInput{SecretId: name})
	if isNotFound(err) {
		return time.Time{}, false, b.dropState(ctx, name)
	}
	if err != nil {
		return time.Time{}, false, err
	}
	st, err := b.loadState(ctx, name)
	if err != nil {
		return time.Time{}, false, err
	}
	if st != nil && st.ARN != desc.ARN { // the secret was deleted and made again
		st = nil
		if err := b.dropState(ctx, name); err != nil {
			return time.Time{}, false, err
		}
	}
	switch {
	case desc.DeletedDate != nil:
		return time.Time{}, false, nil // RestoreSecret schedules it again
	case st != nil:
		return st.NextAttempt, true, nil
	case desc.RotationEnabled == nil || !*desc.RotationEnabled || desc.NextRotationDate == nil:
		return time.Time{}, false, nil
	}
	return *desc.NextRotationDate, true, nil
}

// reschedule puts name on the scheduler at its next rotation, or takes it
// off.
func (b *Backend) reschedule(ctx context.Context, name string) {
	at, ok, err := b.nextRun(ctx, name)
	switch {
	case err != nil:
		slog.Error("aws-sm: cannot read a secret's rotation schedule; will retry", "secret", name, "error", err)
		b.sched.Set(name, b.now().Add(rotationRetryBase))
	case ok:
		b.sched.Set(name, at)
	default:
		b.sched.Remove(name)
	}
}

// rotationDue is the scheduler's Due: it runs name's rotation on a worker
// and reschedules it when done.
func (b *Backend) rotationDue(ctx context.Context, name string) {
	b.runMu.Lock()
	if b.running[name] {
		b.runMu.Unlock()
		return // the running rotation reschedules it
	}
	b.running[name] = true
	b.runMu.Unlock()
	select {
	case b.slots <- struct{}{}:
	case <-ctx.Done():
		b.runMu.Lock()
		delete(b.running, name)
		b.runMu.Unlock()
		return
	}
	b.workers.Add(1)
	go func() {
		defer b.workers.Done()
		b.runRotation(ctx, name)
		<-b.slots
		b.runMu.Lock()
		delete(b.running, name)
		b.runMu.Unlock()
		if ctx.Err() == nil {
			b.reschedule(ctx, name)
		}
	}()
}

// runRotation rotates name if its rotation is due.
func (b *Backend) runRotation(ctx context.Context, name string) {
	now := b.now()
	desc, err := b.st.DescribeSecret(ctx, store.DescribeSecretInput{SecretId: name})
	if err != nil {
		if !isNotFound(err) {
			slog.Error("aws-sm: cannot read a secret to rotate it; will retry", "secret", name, "error", err)
		}
		return
	}
	if desc.DeletedDate != nil {
		return
	}
	st, err := b.loadState(ctx, name)
	if err != nil {
		slog.Error("aws-sm: cannot read a rotation's state; will retry", "secret", name, "error", err)
		return
	}
	if st != nil && st.ARN != desc.ARN {
		st = nil
	}
	if st == nil {
		if desc.RotationEnabled == nil || !*desc.RotationEnabled || desc.NextRotationDate == nil || desc.NextRotationDate.After(now) {
			return
		}
		token := pendingVersion(desc)
		if token == "" {
			if token, err = b.st.NewVersionId(); err != nil {
				slog.Error("aws-sm: cannot make a rotation token", "error", err)
				return
			}
		}
		st = &rotationState{ARN: desc.ARN, Token: token, Started: now}
	}
	if st.NextAttempt.After(now) {
		return
	}
	st.Attempts++
	st.LastAttempt = now
	if err := b.saveState(ctx, name, st); err != nil {
		slog.Error("aws-sm: cannot store a rotation's state; will retry", "secret", name, "error", err)
		return
	}
	step, err := b.rotateSteps(ctx, desc, st.Token)
	if err == nil {
		if _, ferr := b.st.FinishRotation(ctx, store.FinishRotationInput{SecretId: desc.ARN, VersionId: st.Token}); ferr != nil {
			step, err = stepFinish, ferr
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			st.Attempts-- // interrupted by shutdown: not a failure; resumes at start
			_ = b.saveState(context.WithoutCancel(ctx), name, st)
			return
		}
		st.FailedStep, st.LastError = step, reportError(err)
		st.NextAttempt = now.Add(retryDelay(st.Attempts))
		if serr := b.saveState(ctx, name, st); serr != nil {
			slog.Error("aws-sm: cannot store a failed rotation's state", "secret", name, "error", serr)
		}
		slog.Warn("aws-sm: rotation failed; AWSCURRENT is unchanged and the rotation will be retried",
			"secret", name, "step", step, "attempt", st.Attempts, "retry_at", st.NextAttempt, "error", st.LastError)
		return
	}
	if err := b.dropState(ctx, name); err != nil {
		slog.Error("aws-sm: cannot clear a finished rotation's state", "secret", name, "error", err)
	}
	slog.Info("aws-sm: secret rotated", "secret", name, "version_id", st.Token, "attempts", st.Attempts)
}

// rotateSteps runs the four steps; on failure it returns the failed step.
func (b *Backend) rotateSteps(ctx context.Context, desc *store.DescribeSecretOutput, token string) (string, error) {
	rot, err := b.rotatorFor(ctx, desc.RotationLambdaARN)
	if err != nil {
		return stepCreate, err
	}
	for _, step := range rotationSteps {
		if err := rot.step(ctx, rotationEvent{SecretId: desc.ARN, ClientRequestToken: token, Step: step}); err != nil {
			return step, err
		}
		switch step {
		case stepCreate:
			if err := b.checkStage(ctx, desc.ARN, token, store.StagePending); err != nil {
				return step, fmt.Errorf("createSecret did not leave version %s labelled AWSPENDING: %w", token, err)
			}
		case stepFinish:
			if err := b.checkStage(ctx, desc.ARN, token, store.StageCurrent); err != nil {
				return step, fmt.Errorf("finishSecret did not move AWSCURRENT to version %s: %w", token, err)
			}
		}
	}
	return "", nil
}

func (b *Backend) checkStage(ctx context.Context, arn, version, stage string) error {
	desc, err := b.st.DescribeSecret(ctx, store.DescribeSecretInput{SecretId: arn})
	if err != nil {
		return err
	}
	if !slices.Contains(desc.VersionIdsToStages[version], stage) {
		return errors.New("it has labels [" + strings.Join(desc.VersionIdsToStages[version], " ") + "]")
	}
	return nil
}

// pendingVersion is the version AWSPENDING is on when it is not the
// current one: an unfinished rotation whose state was lost, resumed with
// its token.
func pendingVersion(desc *store.DescribeSecretOutput) string {
	for id, stages := range desc.VersionIdsToStages {
		if slices.Contains(stages, store.StagePending) && !slices.Contains(stages, store.StageCurrent) {
			return id
		}
	}
	return ""
}

func retryDelay(attempts int) time.Duration {
	d := rotationRetryBase
	for i := 1; i < attempts && d < rotationRetryMax; i++ {
		d *= 2
	}
	return min(d, rotationRetryMax)
}

func reportError(err error) string {
	s := strings.ToValidUTF8(err.Error(), "?")
	if len(s) > maxReportedError {
		s = s[:maxReportedError] + "..."
	}
	return s
}

// handleRotate is RotateSecret: the store records the configuration,
// then the rotation is started (RotateImmediately, the default) or
// scheduled. A retry of a failed rotation is started at once.
func (b *Backend) handleRotate(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	in, err := decodeInput[store.RotateSecretInput](req, d, "SecretId")
	if err != nil {
		return nil, err
	}
	if in.RotationLambdaARN != "" {
		if _, err := b.rotatorFor(ctx, in.RotationLambdaARN); err != nil {
			return nil, err
		}
	}
	out, err := b.st.RotateSecret(ctx, in)
	if err != nil {
		var se *store.Error
		if errors.As(err, &se) && se.Code == store.CodeInvalidRequest && strings.Contains(se.Message, "reattempted") {
			b.retryNow(ctx, in.SecretId)
		}
		return nil, apiError(err)
	}
	if in.RotateImmediately == nil || *in.RotateImmediately {
		st := &rotationState{ARN: out.ARN, Token: out.VersionId, Started: b.now()}
		if err := b.saveState(ctx, out.Name, st); err != nil {
			return nil, err
		}
	}
	b.reschedule(ctx, out.Name)
	return outputResponse(out)
}

// retryNow makes a failed rotation's retry due now.
func (b *Backend) retryNow(ctx context.Context, id string) {
	desc, err := b.st.DescribeSecret(ctx, store.DescribeSecretInput{SecretId: id})
	if err != nil {
		return
	}
	st, err := b.loadState(ctx, desc.Name)
	if err != nil || st == nil {
		return
	}
	st.NextAttempt = time.Time{}
	if err := b.saveState(ctx, desc.Name, st); err == nil {
		b.reschedule(ctx, desc.Name)
	}
}

// handleCancelRotate is CancelRotateSecret: rotation off, an unfinished
// rotation abandoned.
func (b *Backend) handleCancelRotate(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	in, err := decodeInput[store.CancelRotateSecretInput](req, d, "SecretId")
	if err != nil {
		return nil, err
	}
	out, err := b.st.CancelRotateSecret(ctx, in)
	if err != nil {
		return nil, apiError(err)
	}
	if err := b.dropState(ctx, out.Name); err != nil {
		return nil, err
	}
	b.reschedule(ctx, out.Name)
	return outputResponse(out)
}

// afterChange reschedules the secret an operation acted on (delete,
// restore) once it succeeded.
func (b *Backend) afterChange(op logical.OperationFunc) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		resp, err := op(ctx, req, d)
		if err == nil && resp != nil {
			if name, ok := resp.Data["Name"].(string); ok {
				b.reschedule(ctx, name)
			}
		}
		return resp, err
	}
}

// handleRotationStatus reports a secret's rotation: its configuration and
// the state of an unfinished (running or failed) rotation.
func (b *Backend) handleRotationStatus(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	desc, err := b.st.DescribeSecret(ctx, store.DescribeSecretInput{SecretId: d.Get("name").(string)})
	if err != nil {
		return nil, apiError(err)
	}
	st, err := b.loadState(ctx, desc.Name)
	if err != nil {
		return nil, err
	}
	data := map[string]any{
		"ARN": desc.ARN, "Name": desc.Name, "RotationEnabled": desc.RotationEnabled != nil && *desc.RotationEnabled,
		"RotationLambdaARN": desc.RotationLambdaARN, "Status": "idle",
	}
	if desc.RotationRules != nil {
		data["RotationRules"] = desc.RotationRules
	}
	for k, t := range map[string]*time.Time{"LastRotatedDate": desc.LastRotatedDate, "NextRotationDate": desc.NextRotationDate} {
		if t != nil {
			data[k] = t.UTC().Format(time.RFC3339)
		}
	}
	if st != nil && st.ARN == desc.ARN {
		data["Status"] = "in_progress"
		if st.LastError != "" {
			data["Status"] = "failed"
			data["FailedStep"], data["LastError"] = st.FailedStep, st.LastError
			data["NextAttempt"] = st.NextAttempt.UTC().Format(time.RFC3339)
		}
		data["ClientRequestToken"], data["Attempts"] = st.Token, st.Attempts
		data["Started"] = st.Started.UTC().Format(time.RFC3339)
	}
	return logical.DataResponse(data), nil
}
