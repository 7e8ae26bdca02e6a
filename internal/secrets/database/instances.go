package database

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

// instance is one initialised plugin of a connection. Every operation
// holds mu for reading while it runs, so requests never wait for each
// other; retiring the instance (a config write, reset, rotate-root,
// delete, Cleanup) takes mu for writing, which waits for the operations
// in flight, and closes the plugin. An operation that finds its instance
// closed starts again on the connection's current one.
type instance struct {
	mu     sync.RWMutex
	db     dbplugin.Database
	closed bool
}

// retire closes inst once the operations using it have finished.
func (inst *instance) retire() {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	if !inst.closed {
		inst.closed = true
		_ = inst.db.Close()
	}
}

// maxInstanceRetries bounds how often one operation follows a connection
// whose instance is being replaced under it.
const maxInstanceRetries = 5

// conn is the Database the handlers use for a connection: each call runs
// on the connection's current instance (see instance).
type conn struct {
	b    *Backend
	name string
}

var (
	_ dbplugin.Database           = (*conn)(nil)
	_ dbplugin.StatementValidator = (*conn)(nil)
)

// db returns the connection name's stored configuration and its Database.
func (b *Backend) db(ctx context.Context, name string) (dbplugin.Database, *connConfig, error) {
	cfg, err := b.loadConfig(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	if cfg == nil {
		return nil, nil, logical.InvalidRequest("database connection %q does not exist", name)
	}
	return &conn{b: b, name: name}, cfg, nil
}

// acquire returns the connection's instance, read-locked, building it
// from the stored configuration on first use; release with RUnlock.
func (b *Backend) acquire(ctx context.Context, name string) (*instance, error) {
	for i := 0; i < maxInstanceRetries; i++ {
		b.mu.RLock()
		inst := b.instances[name]
		b.mu.RUnlock()
		if inst == nil {
			var err error
			if inst, err = b.open(ctx, name); err != nil {
				return nil, err
			}
		}
		inst.mu.RLock()
		if !inst.closed {
			return inst, nil
		}
		inst.mu.RUnlock()
	}
	return nil, logical.Errorf(logical.ErrUpstream, "database connection %q is being reconfigured; try again", name)
}

// open builds the connection's instance unless another request did.
func (b *Backend) open(ctx context.Context, name string) (*instance, error) {
	cfg, err := b.loadConfig(ctx, name)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		return nil, logical.InvalidRequest("database connection %q does not exist", name)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if inst := b.instances[name]; inst != nil {
		return inst, nil
	}
	db, _, err := newInstance(ctx, cfg, false)
	if err != nil {
		return nil, err
	}
	inst := &instance{db: db}
	b.instances[name] = inst
	return inst, nil
}

func (c *conn) do(ctx context.Context, fn func(dbplugin.Database) error) error {
	inst, err := c.b.acquire(ctx, c.name)
	if err != nil {
		return err
	}
	defer inst.mu.RUnlock()
	return fn(inst.db)
}

// Initialize is not used through conn: connections are initialised from
// their stored configuration.
func (c *conn) Initialize(ctx context.Context, req dbplugin.InitializeRequest) (dbplugin.InitializeResponse, error) {
	return dbplugin.InitializeResponse{}, logical.InvalidRequest("connection %q is already initialised", c.name)
}

// NewUser runs on the current instance.
func (c *conn) NewUser(ctx context.Context, req dbplugin.NewUserRequest) (resp dbplugin.NewUserResponse, err error) {
	err = c.do(ctx, func(db dbplugin.Database) error {
		resp, err = db.NewUser(ctx, req)
		return err
	})
	return resp, err
}

// UpdateUser runs on the current instance.
func (c *conn) UpdateUser(ctx context.Context, req dbplugin.UpdateUserRequest) error {
	return c.do(ctx, func(db dbplugin.Database) error { return db.UpdateUser(ctx, req) })
}

// DeleteUser runs on the current instance.
func (c *conn) DeleteUser(ctx context.Context, req dbplugin.DeleteUserRequest) error {
	return c.do(ctx, func(db dbplugin.Database) error { return db.DeleteUser(ctx, req) })
}

// ValidateStatements asks the current instance, if its plugin can check
// statements; otherwise it accepts them.
func (c *conn) ValidateStatements(ctx context.Context, kind dbplugin.StatementKind, s dbplugin.Statements) error {
	return c.do(ctx, func(db dbplugin.Database) error {
		if v, ok := db.(dbplugin.StatementValidator); ok {
			return v.ValidateStatements(ctx, kind, s)
		}
		return nil
	})
}

// Type names the plugin of the connection ("" if it cannot be opened).
func (c *conn) Type() string {
	var t string
	_ = c.do(context.Background(), func(db dbplugin.Database) error { t = db.Type(); return nil })
	return t
}

// Close does nothing: instances are closed when they are retired.
func (c *conn) Close() error { return nil }

// newInstance builds and initialises a plugin for cfg; it returns the
// plugin's normalised connection details.
func newInstance(ctx context.Context, cfg *connConfig, verify bool) (dbplugin.Database, map[string]any, error) {
	factory, ok := plugins[cfg.PluginName]
	if !ok {
		names := pluginNames()
		sort.Strings(names)
		return nil, nil, logical.InvalidRequest("unknown plugin_name %q: use one of %s", cfg.PluginName, strings.Join(names, ", "))
	}
	db := factory()
	resp, err := db.Initialize(ctx, dbplugin.InitializeRequest{Config: cfg.ConnectionDetails, VerifyConnection: verify})
	if err != nil {
		_ = db.Close()
		return nil, nil, dbError(err)
	}
	return db, resp.Config, nil
}

// setInstance makes db the connection's instance (nil forgets it) and
// retires the one it replaces in the background, once the operations
// still using it finish.
func (b *Backend) setInstance(name string, db dbplugin.Database) {
	b.mu.Lock()
	old := b.instances[name]
	if db == nil {
		delete(b.instances, name)
	} else {
		b.instances[name] = &instance{db: db}
	}
	b.mu.Unlock()
	if old != nil {
		b.retiring.Add(1)
		go func() {
			defer b.retiring.Done()
			old.retire()
		}()
	}
}

// dropInstance retires and forgets a connection's instance.
func (b *Backend) dropInstance(name string) { b.setInstance(name, nil) }

// closeInstances retires every instance and waits for all of them.
func (b *Backend) closeInstances() {
	b.mu.Lock()
	all := b.instances
	b.instances = map[string]*instance{}
	b.mu.Unlock()
	for _, inst := range all {
		inst.retire()
	}
	b.retiring.Wait()
}
