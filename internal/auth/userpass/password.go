package userpass

import (
	"fmt"
	"sync"

	"github.com/kinko-dev/kinko/internal/logical"
	"golang.org/x/crypto/bcrypt"
)

// maxPasswordBytes is bcrypt's input limit: longer passwords would be
// silently truncated, so they are refused instead.
const maxPasswordBytes = 72

// Bounds on the cost of an imported password_hash: below minImportCost the
// hash is too weak (5 is htpasswd -B's default), above maxImportCost one
// login could tie up a core for seconds.
const (
	minImportCost = 5
	maxImportCost = 12
)

// hashPassword returns the bcrypt hash of password at cost.
func hashPassword(password string, cost int) ([]byte, error) {
	if len(password) > maxPasswordBytes {
		return nil, logical.InvalidRequest("password is longer than %d bytes, the most bcrypt can use: choose a shorter one", maxPasswordBytes)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return nil, fmt.Errorf("userpass: hash password: %w", err)
	}
	return h, nil
}

// importHash validates a pre-computed bcrypt hash (password_hash).
func importHash(hash string) ([]byte, error) {
	cost, err := bcrypt.Cost([]byte(hash))
	switch {
	case err != nil:
		return nil, logical.InvalidRequest("password_hash is not a valid bcrypt hash")
	case cost < minImportCost:
		return nil, logical.InvalidRequest("bcrypt cost of %d is too low, want %d at minimum", cost, minImportCost)
	case cost > maxImportCost:
		return nil, logical.InvalidRequest("bcrypt cost of %d exceeds maximum cost of %d", cost, maxImportCost)
	}
	return []byte(hash), nil
}

// passwordMatches compares password with hash in constant time (bcrypt).
// A password over the bcrypt limit never matches, but is still compared so
// it costs the same.
func passwordMatches(hash []byte, password string) bool {
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	return err == nil && len(password) <= maxPasswordBytes
}

var dummies struct {
	mu     sync.Mutex
	byCost map[int][]byte
}

// dummyHash returns a bcrypt hash of a fixed password at cost, computed
// once per cost, to compare against when the user does not exist.
func dummyHash(cost int) ([]byte, error) {
	dummies.mu.Lock()
	defer dummies.mu.Unlock()
	if h, ok := dummies.byCost[cost]; ok {
		return h, nil
	}
	// Any fixed string does: the hash is only ever compared, never matched
	// on purpose, and unknown users fail whatever the comparison says.
	h, err := bcrypt.GenerateFromPassword([]byte("kinko-userpass-dummy-password"), cost)
	if err != nil {
		return nil, fmt.Errorf("userpass: dummy hash: %w", err)
	}
	if dummies.byCost == nil {
		dummies.byCost = map[int][]byte{}
	}
	dummies.byCost[cost] = h
	return h, nil
}
