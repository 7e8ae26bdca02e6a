package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

// cleanupTimeout bounds the best-effort clean-up that runs after the
// caller's context may have ended.
const cleanupTimeout = 5 * time.Second

// NewUser creates an ACL user, switched on, with the password and the
// statements' rules (read-only on every key when there are none). It
// refuses a name that already exists.
func (db *DB) NewUser(ctx context.Context, req dbplugin.NewUserRequest) (dbplugin.NewUserResponse, error) {
	r, err := rules(req.Statements)
	if err != nil {
		return dbplugin.NewUserResponse{}, err
	}
	if len(r) == 0 {
		r = defaultRules
	}
	if req.Password == "" {
		return dbplugin.NewUserResponse{}, errors.New("redis: refusing to create a user with an empty password")
	}
	cn, release, err := db.acquire()
	if err != nil {
		return dbplugin.NewUserResponse{}, err
	}
	defer release()
	gen, err := cn.names.Generate(req.UsernameConfig)
	if err != nil {
		return dbplugin.NewUserResponse{}, err
	}
	name := userName(gen)
	if exists, err := userExists(ctx, cn.c, name); err != nil {
		return dbplugin.NewUserResponse{}, cn.fail("look up user", err)
	} else if exists {
		return dbplugin.NewUserResponse{}, cn.fail("create user", fmt.Errorf("user %q already exists (make username_template unique)", name))
	}
	err = setUser(ctx, cn.c, name, append([]string{"reset", "on", ">" + req.Password}, r...)...)
	if err == nil {
		return dbplugin.NewUserResponse{Username: name}, nil
	}
	if isRuleError(err) { // ACL SETUSER is atomic: nothing was created
		return dbplugin.NewUserResponse{}, fmt.Errorf("%w: %w", dbplugin.ErrInvalidStatements, cn.fail("create user", err, req.Password))
	}
	// The outcome is unknown (a broken connection): remove the user we may
	// have made; the name did not exist before.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_ = cn.c.Do(cctx, "ACL", "DELUSER", name).Err()
	return dbplugin.NewUserResponse{}, cn.fail("create user", err, req.Password)
}

// UpdateUser sets a new password, replacing all others ("resetpass
// >new"); it works on the admin itself (root rotation: Initialize again
// with the new password afterwards). An expiry change does nothing, Redis
// users have none. A user that does not exist is an error, not created.
func (db *DB) UpdateUser(ctx context.Context, req dbplugin.UpdateUserRequest) error {
	p := req.Password
	if p == nil {
		return nil
	}
	if p.NewPassword == "" {
		return errors.New("redis: refusing to set an empty password")
	}
	cn, release, err := db.acquire()
	if err != nil {
		return err
	}
	defer release()
	if exists, err := userExists(ctx, cn.c, req.Username); err != nil {
		return cn.fail("look up user", err)
	} else if !exists {
		return cn.fail("update user", fmt.Errorf("user %q does not exist", req.Username))
	}
	if err := setUser(ctx, cn.c, req.Username, "resetpass", ">"+p.NewPassword); err != nil {
		return cn.fail("update user", err, p.NewPassword)
	}
	return nil
}

// DeleteUser ends the user's open connections and deletes it; a user that
// does not exist is already deleted.
func (db *DB) DeleteUser(ctx context.Context, req dbplugin.DeleteUserRequest) error {
	cn, release, err := db.acquire()
	if err != nil {
		return err
	}
	defer release()
	if err := cn.c.Do(ctx, "CLIENT", "KILL", "USER", req.Username).Err(); err != nil && !isNoSuchUser(err) {
		return cn.fail("end the sessions of user", err)
	}
	// DELUSER also disconnects whoever authenticated in between.
	if err := cn.c.Do(ctx, "ACL", "DELUSER", req.Username).Err(); err != nil {
		return cn.fail("delete user", err)
	}
	return nil
}

// ValidateStatements checks creation rules: their JSON here, then the
// rules themselves on the server, with a throwaway user that is switched
// off, has no password and is deleted at once. Other kinds of statements
// are not used by this plugin and pass.
func (db *DB) ValidateStatements(ctx context.Context, kind dbplugin.StatementKind, s dbplugin.Statements) error {
	if kind != dbplugin.CreationStatements {
		return nil
	}
	r, err := rules(s)
	if err != nil || len(r) == 0 {
		return err
	}
	cn, release, err := db.acquire()
	if err != nil {
		return err
	}
	defer release()
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	name := "kinko-validate-" + hex.EncodeToString(b[:])
	err = setUser(ctx, cn.c, name, append([]string{"reset", "off"}, r...)...)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	derr := cn.c.Do(cctx, "ACL", "DELUSER", name).Err()
	switch {
	case isRuleError(err):
		return fmt.Errorf("%w: %w", dbplugin.ErrInvalidStatements, cn.fail("check "+string(kind), err))
	case err != nil:
		return cn.fail("check "+string(kind), err)
	case derr != nil:
		return cn.fail("remove the user that checked "+string(kind), derr)
	}
	return nil
}

func setUser(ctx context.Context, c *goredis.Client, name string, args ...string) error {
	cmd := make([]any, 0, 3+len(args))
	cmd = append(cmd, "ACL", "SETUSER", name)
	for _, a := range args {
		cmd = append(cmd, a)
	}
	return c.Do(ctx, cmd...).Err()
}

func userExists(ctx context.Context, c *goredis.Client, name string) (bool, error) {
	err := c.Do(ctx, "ACL", "GETUSER", name).Err()
	if errors.Is(err, goredis.Nil) {
		return false, nil
	}
	return err == nil, err
}

// isRuleError tells a reply of the server refusing the arguments of ACL
// SETUSER ("ERR Error in ACL SETUSER modifier ...", "ERR Unmatched
// parenthesis ...") from a missing permission (NOPERM) or a transport
// failure. Redis replies carry only a message, so its prefix decides.
func isRuleError(err error) bool {
	var re goredis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "ERR ")
}

func isNoSuchUser(err error) bool {
	var re goredis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "ERR No such user")
}
