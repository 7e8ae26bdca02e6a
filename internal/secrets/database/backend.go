package database

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/rotation"
	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

// Backend is one mount of the database engine.
type Backend struct {
	*logical.Framework
	view   logical.Storage
	system logical.SystemView

	mu        sync.RWMutex         // guards instances
	instances map[string]*instance // by connection name; see instances.go
	retiring  sync.WaitGroup       // replaced instances still closing

	// now is the engine's clock (time.Now); tests set their own between
	// Factory and Initialize.
	now func() time.Time

	roleLocks sync.Map // static role name -> *sync.Mutex
	sched     *rotation.Scheduler
}

var (
	_ logical.Backend     = (*Backend)(nil)
	_ logical.Initializer = (*Backend)(nil)
	_ logical.Cleaner     = (*Backend)(nil)
)

// Factory builds the engine for one mount.
func Factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	if conf == nil || conf.StorageView == nil {
		return nil, errors.New("database: no storage view")
	}
	b := &Backend{view: conf.StorageView, system: conf.System, instances: map[string]*instance{}, now: time.Now}
	b.sched = &rotation.Scheduler{Due: b.rotateScheduled, Now: func() time.Time { return b.now() }}
	var paths []*logical.Path
	paths = append(paths, b.configPaths()...)
	paths = append(paths, b.rotateRootPath())
	paths = append(paths, b.rolePaths()...)
	paths = append(paths, b.credsPath())
	paths = append(paths, b.staticPaths()...)
	b.Framework = (&logical.Framework{
		PathList: paths,
		Secrets:  []*logical.SecretType{b.credsSecret()},
		Help:     "The database secrets engine creates database users on demand (dynamic roles) and rotates the passwords of existing ones (static roles).",
		Clean:    b.cleanup,
	}).Compile()
	return b, nil
}

// Initialize replays write-ahead records left by a crash and starts the
// static role rotation scheduler.
func (b *Backend) Initialize(ctx context.Context, s logical.Storage) error {
	if err := b.recoverWAL(ctx); err != nil {
		return err
	}
	return b.startScheduler(ctx)
}

func (b *Backend) cleanup(ctx context.Context) {
	b.sched.Stop()
	b.closeInstances()
}

// dbError turns a plugin error into an API error: bad configuration or
// statements are 400, anything else (the database is unreachable or
// refused) is a 502 naming the server. Plugins keep passwords out of
// their messages.
func dbError(err error) error {
	if err == nil {
		return nil
	}
	var le *logical.Error
	if errors.As(err, &le) {
		return err
	}
	if errors.Is(err, dbplugin.ErrInvalidConfig) || errors.Is(err, dbplugin.ErrInvalidStatements) {
		return logical.InvalidRequest("%s", err.Error())
	}
	return logical.Errorf(logical.ErrUpstream, "%s", err.Error())
}

// generatePassword makes a password with the connection's policy.
func (b *Backend) generatePassword(ctx context.Context, policy string) (string, error) {
	g, ok := b.system.(logical.PasswordGenerator)
	if !ok {
		return "", errors.New("database: the server cannot generate passwords")
	}
	pw, err := g.GeneratePassword(ctx, policy)
	if err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	return pw, nil
}

func (b *Backend) roleLock(name string) *sync.Mutex {
	m, _ := b.roleLocks.LoadOrStore(name, &sync.Mutex{})
	return m.(*sync.Mutex)
}

// load reads a stored record; nil when there is none.
func load[T any](ctx context.Context, view logical.Storage, key string) (*T, error) {
	var v T
	ok, err := logical.GetJSON(ctx, view, key, &v)
	if err != nil || !ok {
		return nil, err
	}
	return &v, nil
}

// exists is the existence check of a named record under prefix.
func (b *Backend) exists(prefix string) logical.ExistenceFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
		e, err := b.view.Get(ctx, prefix+d.Get("name").(string))
		return e != nil, err
	}
}
