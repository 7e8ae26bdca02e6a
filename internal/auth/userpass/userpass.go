// Package userpass is the userpass auth method. PLACEHOLDER: being written.
package userpass

import (
	"context"
	"errors"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Factory builds the auth method for one mount.
func Factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	return nil, errors.New("userpass: not implemented yet")
}
