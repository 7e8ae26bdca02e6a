// Package awssm is the secrets engine behind kinko's AWS Secrets
// Manager-compatible secrets (mount type "aws-sm"): the Vault-style API
// over internal/secrets/awssm/store, so that policies and audit cover
// these secrets whichever front end (Vault HTTP API or the AWS JSON 1.1
// API) a client uses.
//
// Each path names an operation and the secret it acts on, so that path
// policies grant per secret and per kind of access:
//
//	secrets/<name>        read: GetSecretValue, create: CreateSecret,
//	                      update: PutSecretValue, delete: DeleteSecret
//	secrets/              list: the secret names (ListSecrets)
//	describe/<name>       read: DescribeSecret
//	versions/<name>       read: ListSecretVersionIds
//	metadata/<name>       update: UpdateSecret
//	stage/<name>          update: UpdateSecretVersionStage
//	restore/<name>        update: RestoreSecret
//	tags/<name>           update: TagResource, delete: UntagResource
//	policy/<name>         read/update/delete: Get/Put/DeleteResourcePolicy
//	rotate/<name>         update: RotateSecret
//	cancel-rotate/<name>  update: CancelRotateSecret
//	rotation/<name>       read: the rotation's state (kinko's own: running,
//	                      failed at which step with which error, retry time)
//	hooks/<name>          rotation hooks (sudo): read, create/update, delete
//	hooks/                list: the hooks
//	list                  update: ListSecrets with filters and paging
//	random-password       read/update: GetRandomPassword
//
// Request data is the operation's AWS input: AWS field names
// (SecretString) or snake_case (secret_string) alike; the response data
// is the AWS output with AWS field names. Errors carry the store's AWS
// error code (errors.As to *store.Error) and map to the usual statuses.
//
// Rotation (rotate.go, hooks.go, builtin.go): RotateSecret starts the
// four-step protocol of AWS, driven by kinko on the shared rotation
// scheduler and carried out by the rotator the secret's RotationLambdaARN
// names: a registered hook (a signed HTTP endpoint or a local program)
// or a built-in database rotator.
//
// Mount options: region (default us-east-1) and account_id (default
// 000000000000) go into the secrets' ARNs.
package awssm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/rotation"
	"github.com/kinko-dev/kinko/internal/secrets/awssm/store"
)

// Backend is one aws-sm mount.
type Backend struct {
	*logical.Framework
	st   *store.Store
	view logical.Storage
	now  func() time.Time

	sched      *rotation.Scheduler
	hookClient *http.Client
	slots      chan struct{} // running rotations
	workers    sync.WaitGroup
	runMu      sync.Mutex
	running    map[string]bool

	stop chan struct{}
	done chan struct{}
}

var (
	_ logical.Initializer = (*Backend)(nil)
	_ logical.Cleaner     = (*Backend)(nil)
)

// purgeEvery is how often secrets whose recovery window has passed are
// deleted for good.
var purgeEvery = time.Hour

// Initialize starts the rotation scheduler and the purge of secrets whose
// recovery window passed (at once, then every purgeEvery).
func (b *Backend) Initialize(ctx context.Context, _ logical.Storage) error {
	if err := b.startScheduler(ctx); err != nil {
		return fmt.Errorf("aws-sm: scheduling rotations: %w", err)
	}
	b.stop, b.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(b.done)
		t := time.NewTicker(purgeEvery)
		defer t.Stop()
		for {
			b.purge(context.Background(), time.Now())
			select {
			case <-b.stop:
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// Cleanup stops the purge and the scheduler, and waits for running
// rotations (their contexts are cancelled; each resumes at the next
// start).
func (b *Backend) Cleanup(ctx context.Context) {
	if b.stop != nil {
		close(b.stop)
		<-b.done
		b.stop = nil
	}
	b.sched.Stop()
	b.workers.Wait()
}

func (b *Backend) purge(ctx context.Context, now time.Time) {
	n, err := b.st.Purge(ctx, now)
	if err != nil {
		slog.Warn("aws-sm: purging deleted secrets failed; will retry", "error", err)
	} else if n > 0 {
		slog.Info("aws-sm: secrets past their recovery window deleted", "count", n)
	}
}

// Factory builds the engine for one mount.
func Factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	return newBackend(conf, time.Now)
}

// newBackend builds the engine with the clock now.
func newBackend(conf *logical.BackendConfig, now func() time.Time) (*Backend, error) {
	if conf == nil || conf.StorageView == nil {
		return nil, errors.New("aws-sm: no storage view")
	}
	region, account := conf.Config["region"], conf.Config["account_id"]
	if region == "" {
		region = "us-east-1"
	}
	if account == "" {
		account = "000000000000"
	}
	st, err := store.New(store.Options{Storage: conf.StorageView, Region: region, AccountID: account, Now: now})
	if err != nil {
		return nil, logical.InvalidRequest("aws-sm: %s", err)
	}
	b := &Backend{st: st, view: conf.StorageView, now: now, slots: make(chan struct{}, maxConcurrentRotations),
		running: map[string]bool{}, hookClient: newHookClient()}
	b.sched = &rotation.Scheduler{Due: b.rotationDue, Now: func() time.Time { return b.now() }}
	b.Framework = (&logical.Framework{PathList: append(b.paths(), b.hookPaths()...),
		Special: &logical.SpecialPaths{Root: []string{"hooks/*"}},
		Help:    "Secrets with versions and staging labels, as AWS Secrets Manager keeps them, and their rotation."}).Compile()
	return b, nil
}

// call decodes the request data (and the secret named by the path, into
// idField) as In, runs fn and returns its output as response data.
func call[In any, Out any](idField string, fn func(context.Context, In) (Out, error)) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		in, err := decodeInput[In](req, d, idField)
		if err != nil {
			return nil, err
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, apiError(err)
		}
		return outputResponse(out)
	}
}

// decodeInput decodes the request data, and the secret named by the path
// into idField, as In.
func decodeInput[In any](req *logical.Request, d *logical.FieldData, idField string) (In, error) {
	raw := make(map[string]any, len(req.Data)+1)
	for k, v := range req.Data {
		raw[strings.ReplaceAll(k, "_", "")] = v // SecretString and secret_string alike
	}
	if name, ok := d.Raw["name"].(string); ok && idField != "" {
		raw[idField] = name
	}
	in, err := decode[In](raw)
	if err != nil {
		return in, logical.InvalidRequest("invalid request body: %s", jsonProblem(err))
	}
	return in, nil
}

// decode turns request data into In. Values given as strings where a
// number or a boolean is wanted (URL query parameters) are converted.
func decode[In any](raw map[string]any) (In, error) {
	var in In
	for range 16 {
		b, err := json.Marshal(raw)
		if err != nil {
			return in, err
		}
		err = json.Unmarshal(b, &in)
		var te *json.UnmarshalTypeError
		if err == nil || !errors.As(err, &te) || te.Value != "string" || !convertString(raw, te) {
			return in, err
		}
	}
	return in, errors.New("too many fields of the wrong type")
}

// convertString replaces the top-level string field te names by the
// number or boolean it spells; false when it cannot.
func convertString(raw map[string]any, te *json.UnmarshalTypeError) bool {
	for k, v := range raw {
		str, ok := v.(string)
		if !ok || !strings.EqualFold(k, te.Field) {
			continue
		}
		switch te.Type.Kind() {
		case reflect.Bool:
			b, err := strconv.ParseBool(str)
			if err != nil {
				return false
			}
			raw[k] = b
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if _, err := strconv.ParseFloat(str, 64); err != nil {
				return false
			}
			raw[k] = json.Number(str)
		default:
			return false
		}
		return true
	}
	return false
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %s must be %s, not %s", te.Field, te.Type, te.Value)
	}
	return err.Error()
}

func outputResponse(out any) (*logical.Response, error) {
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	data := map[string]any{}
	if string(b) != "null" {
		if err := json.Unmarshal(b, &data); err != nil {
			return nil, err
		}
	}
	return logical.DataResponse(data), nil
}

// apiError keeps the store's AWS error (for the AWS front end) inside a
// user-facing logical error (for the Vault API): errors.Is finds the
// status kind, errors.As the *store.Error.
func apiError(err error) error {
	var se *store.Error
	if errors.As(err, &se) {
		return &logical.Error{Kind: se, Msg: se.Code + ": " + se.Message}
	}
	return err
}
