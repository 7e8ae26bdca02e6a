package sealfile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"filippo.io/age"
)

// A KeySource protects the data key of a file. Wrap returns the stanza
// stored in the file; Unwrap recovers the key from a stanza, or returns an
// error wrapping ErrNotMine when the stanza is for another source (the
// caller then tries the next), or another error when it is its own but
// cannot be opened. Implementations must be safe for concurrent use.
type KeySource interface {
	Wrap(ctx context.Context, dataKey []byte) (Stanza, error)
	Unwrap(ctx context.Context, s Stanza) ([]byte, error)
}

// errOtherType is returned by Unwrap for stanzas of another source type;
// it is left out of error messages.
var errOtherType = notMine("another type of key")

// notMineError wraps ErrNotMine with a message of its own.
type notMineError struct{ msg string }

func (e *notMineError) Error() string { return e.msg }
func (e *notMineError) Unwrap() error { return ErrNotMine }

func notMine(format string, a ...any) error {
	return &notMineError{msg: fmt.Sprintf(format, a...)}
}

var (
	_ KeySource = (*Age)(nil)
	_ KeySource = (*Transit)(nil)
)

// Age wraps the data key to an age X25519 recipient and unwraps it with
// age identities. It needs no server. The zero Age unwraps nothing and
// says so ("no age identity given").
type Age struct {
	recipient  *age.X25519Recipient // for Wrap
	identities []age.Identity       // for Unwrap
	publics    []string             // the identities' recipients, for messages
}

// AgeRecipient returns a source that wraps to one age1... recipient.
func AgeRecipient(s string) (*Age, error) {
	r, err := age.ParseX25519Recipient(strings.TrimSpace(s))
	if err != nil {
		return nil, invalid("%q is not an age X25519 recipient (age1...)", short(s))
	}
	return &Age{recipient: r}, nil
}

// AgeIdentities returns a source that unwraps with the AGE-SECRET-KEY-1
// identities in r (one per line; blank lines and # comments skipped).
// The file's contents are never echoed in errors.
func AgeIdentities(r io.Reader) (*Age, error) {
	a := &Age{}
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, err := age.ParseX25519Identity(line)
		if err != nil {
			return nil, invalid("age identity file: line %d is not an AGE-SECRET-KEY-1 identity", n)
		}
		a.identities = append(a.identities, id)
		a.publics = append(a.publics, id.Recipient().String())
	}
	if err := sc.Err(); err != nil {
		return nil, invalid("age identity file: %v", err)
	}
	if len(a.identities) == 0 {
		return nil, invalid("age identity file holds no AGE-SECRET-KEY-1 identity")
	}
	return a, nil
}

// Recipients returns the public keys of the identities.
func (a *Age) Recipients() []string { return a.publics }

// Wrap encrypts the data key to the recipient as a binary age file,
// stored base64.
func (a *Age) Wrap(_ context.Context, dataKey []byte) (Stanza, error) {
	if a.recipient == nil {
		return Stanza{}, errors.New("sealfile: this age source has no recipient to wrap to")
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, a.recipient)
	if err != nil {
		return Stanza{}, fmt.Errorf("age: %w", err)
	}
	if _, err := w.Write(dataKey); err != nil {
		return Stanza{}, fmt.Errorf("age: %w", err)
	}
	if err := w.Close(); err != nil {
		return Stanza{}, fmt.Errorf("age: %w", err)
	}
	return Stanza{Type: "age", Recipient: a.recipient.String(), Enc: base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// Unwrap decrypts an age stanza with the identities.
func (a *Age) Unwrap(_ context.Context, s Stanza) ([]byte, error) {
	if s.Type != "age" {
		return nil, errOtherType
	}
	if len(a.identities) == 0 {
		return nil, notMine("%s: no age identity given", s.describe())
	}
	raw, err := base64.StdEncoding.DecodeString(s.Enc)
	if err != nil {
		return nil, fmt.Errorf("%s: the wrapped key is not base64", s.describe())
	}
	r, err := age.Decrypt(bytes.NewReader(raw), a.identities...)
	var nomatch *age.NoIdentityMatchError
	if errors.As(err, &nomatch) {
		return nil, notMine("%s: no matching identity (yours are for %s)", s.describe(), strings.Join(a.publics, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", s.describe(), err)
	}
	key, err := io.ReadAll(io.LimitReader(r, dataKeySize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", s.describe(), err)
	}
	return key, nil
}

// TransitAPI is the one call the transit source makes: a write to a
// logical path of the server, returning the response's data. Adapt the
// kinko or Vault API client with TransitAPIFunc.
type TransitAPI interface {
	Write(ctx context.Context, path string, data map[string]any) (map[string]any, error)
}

// TransitAPIFunc adapts a function to TransitAPI.
type TransitAPIFunc func(ctx context.Context, path string, data map[string]any) (map[string]any, error)

// Write calls f.
func (f TransitAPIFunc) Write(ctx context.Context, path string, data map[string]any) (map[string]any, error) {
	return f(ctx, path, data)
}

// DefaultTransitMount is where the transit engine is mounted by default.
const DefaultTransitMount = "transit"

var (
	transitMountRE = regexp.MustCompile(`^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$`)
	transitKeyRE   = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]*$`)
)

// Transit wraps the data key with kinko's transit engine
// (<mount>/encrypt/<key>, <mount>/decrypt/<key>). Unwrap only uses
// stanzas of its own Mount: a file cannot make the client write to other
// paths of the server with the user's token.
type Transit struct {
	API   TransitAPI
	Mount string // DefaultTransitMount when empty
	Key   string // the key to Wrap with; Unwrap uses the stanza's
}

func (t *Transit) mount() string {
	if t.Mount == "" {
		return DefaultTransitMount
	}
	return strings.Trim(t.Mount, "/")
}

// CheckTransitName validates a transit mount and key name.
func CheckTransitName(mount, key string) error {
	if !transitMountRE.MatchString(mount) {
		return invalid("transit mount %q: use letters, digits, _ and - between slashes", short(mount))
	}
	if !transitKeyRE.MatchString(key) {
		return invalid("transit key name %q: use letters, digits, _, - and .", short(key))
	}
	return nil
}

// Wrap encrypts the data key with the transit key.
func (t *Transit) Wrap(ctx context.Context, dataKey []byte) (Stanza, error) {
	mount := t.mount()
	if err := CheckTransitName(mount, t.Key); err != nil {
		return Stanza{}, err
	}
	st := Stanza{Type: "transit", Mount: mount, Key: t.Key}
	data, err := t.API.Write(ctx, mount+"/encrypt/"+t.Key, map[string]any{"plaintext": base64.StdEncoding.EncodeToString(dataKey)})
	if err != nil {
		return Stanza{}, fmt.Errorf("%w: %s: encrypt: %w", ErrServer, st.describe(), err)
	}
	ct, _ := data["ciphertext"].(string)
	if ct == "" || len(ct) > maxStanzaEnc || strings.ContainsAny(ct, "\r\n") {
		return Stanza{}, fmt.Errorf("%w: %s: encrypt returned no usable ciphertext", ErrServer, st.describe())
	}
	st.Enc = ct
	return st, nil
}

// Unwrap decrypts a transit stanza of this source's mount.
func (t *Transit) Unwrap(ctx context.Context, s Stanza) ([]byte, error) {
	if s.Type != "transit" {
		return nil, errOtherType
	}
	if s.Mount != t.mount() {
		return nil, notMine("%s: the transit mount in use is %s (give the file's mount to use it)", s.describe(), t.mount())
	}
	if err := CheckTransitName(s.Mount, s.Key); err != nil {
		return nil, err
	}
	if t.API == nil {
		return nil, notMine("%s: no server configured", s.describe())
	}
	data, err := t.API.Write(ctx, s.Mount+"/decrypt/"+s.Key, map[string]any{"ciphertext": s.Enc})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: decrypt: %w", ErrServer, s.describe(), err)
	}
	pt, _ := data["plaintext"].(string)
	key, err := base64.StdEncoding.DecodeString(pt)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: decrypt returned no base64 plaintext", ErrServer, s.describe())
	}
	return key, nil
}
