package database

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

// fakePluginName selects fakeDB, a database in memory for tests that
// check the engine's own logic (fuzzing) without a server.
const fakePluginName = "fake-database-plugin"

func init() {
	plugins[fakePluginName] = func() dbplugin.Database { return &fakeDB{users: map[string]fakeUser{}} }
}

type fakeUser struct {
	password string
	expires  time.Time
}

// fakeDB keeps users in a map. Its connection details: connection_url
// (required), username, password. Statements containing SELEKT are
// invalid.
type fakeDB struct {
	mu    sync.Mutex
	users map[string]fakeUser
	n     int
	// gate, when set, holds UpdateUser after it signals entered.
	gate, entered chan struct{}
}

func (f *fakeDB) Initialize(ctx context.Context, req dbplugin.InitializeRequest) (dbplugin.InitializeResponse, error) {
	c := dbplugin.NewConfig(req.Config)
	url, err := c.String("connection_url")
	if err != nil {
		return dbplugin.InitializeResponse{}, err
	}
	user, err := c.String("username")
	if err != nil {
		return dbplugin.InitializeResponse{}, err
	}
	pw, err := c.String("password")
	if err != nil {
		return dbplugin.InitializeResponse{}, err
	}
	if err := c.Unknown(); err != nil {
		return dbplugin.InitializeResponse{}, err
	}
	if url == "" {
		return dbplugin.InitializeResponse{}, fmt.Errorf("%w: connection_url is required", dbplugin.ErrInvalidConfig)
	}
	return dbplugin.InitializeResponse{Config: map[string]any{"connection_url": url, "username": user, "password": pw}}, nil
}

func (f *fakeDB) ValidateStatements(ctx context.Context, kind dbplugin.StatementKind, s dbplugin.Statements) error {
	for _, q := range s.Commands {
		if strings.Contains(strings.ToUpper(q), "SELEKT") {
			return fmt.Errorf("%w: %s: syntax error at SELEKT", dbplugin.ErrInvalidStatements, kind)
		}
	}
	return nil
}

func (f *fakeDB) NewUser(ctx context.Context, req dbplugin.NewUserRequest) (dbplugin.NewUserResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	name := fmt.Sprintf("v-%s-%d", req.UsernameConfig.RoleName, f.n)
	f.users[name] = fakeUser{password: req.Password, expires: req.Expiration}
	return dbplugin.NewUserResponse{Username: name}, nil
}

func (f *fakeDB) UpdateUser(ctx context.Context, req dbplugin.UpdateUserRequest) error {
	f.mu.Lock()
	gate, entered := f.gate, f.entered
	f.mu.Unlock()
	if gate != nil {
		entered <- struct{}{}
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.users[req.Username]
	if req.Password != nil {
		u.password = req.Password.NewPassword
	}
	if req.Expiration != nil {
		u.expires = req.Expiration.NewExpiration
	}
	f.users[req.Username] = u
	return nil
}

func (f *fakeDB) DeleteUser(ctx context.Context, req dbplugin.DeleteUserRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.users, req.Username)
	return nil
}

func (f *fakeDB) Type() string { return fakePluginName }
func (f *fakeDB) Close() error { return nil }

// password returns a user's current password.
func (f *fakeDB) password(user string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.users[user].password
}
