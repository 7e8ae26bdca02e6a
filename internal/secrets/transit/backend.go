package transit

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/rotation"
)

// autoRotateRetry is how long a failed automatic rotation waits before
// it is tried again.
const autoRotateRetry = time.Minute

// backend is the transit engine of one mount.
type backend struct {
	*logical.Framework
	keys keyring
	// view is the mount's storage, for work outside a request (automatic
	// rotation).
	view logical.Storage
	// now is the clock; tests replace it.
	now   func() time.Time
	sched *rotation.Scheduler

	// wrapMu guards wrapKey, the BYOK wrapping key once loaded or made.
	wrapMu  sync.Mutex
	wrapKey *rsa.PrivateKey
}

var (
	_ logical.Backend              = (*backend)(nil)
	_ logical.Initializer          = (*backend)(nil)
	_ logical.Cleaner              = (*backend)(nil)
	_ logical.ExistenceChecker     = (*backend)(nil)
	_ logical.SpecialPathsProvider = (*backend)(nil)
)

// Factory builds a transit backend for one mount.
func Factory(_ context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	if conf == nil {
		return nil, errors.New("transit: nil backend config")
	}
	return newBackend(conf.StorageView, time.Now), nil
}

func newBackend(view logical.Storage, now func() time.Time) *backend {
	b := &backend{view: view, now: now}
	b.sched = &rotation.Scheduler{Due: b.autoRotate, Now: func() time.Time { return b.now() }}
	b.Framework = (&logical.Framework{
		Help: backendHelp,
		PathList: []*logical.Path{
			b.pathListKeys(),
			b.pathKeys(),
			b.pathKeysConfig(),
			b.pathRotate(),
			b.pathTrim(),
			b.pathImport(),
			b.pathImportVersion(),
			b.pathEncrypt(),
			b.pathDecrypt(),
			b.pathRewrap(),
			b.pathDatakey(),
			b.pathHMAC(),
			b.pathSign(),
			b.pathVerify(),
			b.pathRandom(),
			b.pathHash(),
			b.pathExport(),
			b.pathBackup(),
			b.pathRestore(),
			b.pathWrappingKey(),
			b.pathConfigKeys(),
		},
		Clean: b.cleanup,
	}).Compile()
	return b
}

// Initialize schedules the automatic rotation of every key that has an
// auto_rotate_period and starts the scheduler.
func (b *backend) Initialize(ctx context.Context, s logical.Storage) error {
	if s != nil {
		b.view = s
	}
	list, err := names(ctx, b.view)
	if err != nil {
		return fmt.Errorf("transit: list keys: %w", err)
	}
	for _, n := range list {
		p, err := loadSchedule(ctx, b.view, n)
		if err != nil {
			return fmt.Errorf("transit: load key %q: %w", n, err)
		}
		if p != nil {
			b.schedule(p)
		}
	}
	b.sched.Start()
	return nil
}

// loadSchedule reads what scheduling needs of a stored key (settings and
// version times) without parsing its key material, so that mounting an
// engine with many keys stays cheap; keys are parsed on first use.
func loadSchedule(ctx context.Context, s logical.Storage, name string) (*keyPolicy, error) {
	var light struct {
		keyPolicy
		Versions map[int]struct {
			Created time.Time `json:"created"`
		} `json:"versions"`
	}
	found, err := logical.GetJSON(ctx, s, policyPrefix+name, &light)
	if err != nil || !found {
		return nil, err
	}
	p := light.keyPolicy
	p.Name, p.Versions = name, map[int]*keyVersion{}
	if v, ok := light.Versions[p.LatestVersion]; ok {
		p.Versions[p.LatestVersion] = &keyVersion{Created: v.Created}
	}
	return &p, nil
}

func (b *backend) cleanup(context.Context) {
	b.sched.Stop()
	b.keys.reset()
}

// schedule (re)registers p's next automatic rotation.
func (b *backend) schedule(p *keyPolicy) {
	if p.AutoRotatePeriod <= 0 || (p.Imported && !p.AllowImportedKeyRotation) {
		b.sched.Remove(p.Name)
		return
	}
	b.sched.Set(p.Name, p.nextRotation())
}

// nextRotation is when the latest version is due to be replaced.
func (p *keyPolicy) nextRotation() time.Time {
	latest := p.Versions[p.LatestVersion]
	if latest == nil {
		return time.Time{}
	}
	return latest.Created.Add(p.AutoRotatePeriod)
}

// autoRotate rotates a key the scheduler found due.
func (b *backend) autoRotate(ctx context.Context, name string) {
	p, err := b.keys.update(ctx, b.view, name, func(p *keyPolicy) error {
		if p.AutoRotatePeriod <= 0 || b.now().Before(p.nextRotation()) {
			return errNoChange
		}
		return p.rotate(b.now())
	})
	switch {
	case err != nil:
		slog.Error("transit: automatic key rotation failed; will retry", "key", name, "error", err)
		b.sched.Set(name, b.now().Add(autoRotateRetry))
	case p != nil:
		b.schedule(p)
	}
}

// optionalParam is a pattern for an optional trailing path segment.
func optionalParam(name string) string {
	return `(/(?P<` + name + `>[^/]+))?`
}

// nameField is the schema of the key name in a path.
func nameField() *logical.FieldSchema {
	return &logical.FieldSchema{Type: logical.TypeString, Description: "Name of the key."}
}

// str returns a string field (the schema converts it).
func str(d *logical.FieldData, name string) string {
	s, _ := d.Get(name).(string)
	return s
}

// integer returns an int field.
func integer(d *logical.FieldData, name string) int {
	n, _ := d.Get(name).(int)
	return n
}

// boolean returns a bool field.
func boolean(d *logical.FieldData, name string) bool {
	v, _ := d.Get(name).(bool)
	return v
}

// decodeB64 decodes a standard base64 field; what names it in errors.
func decodeB64(s, what string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, logical.InvalidRequest("unable to decode %s as base64: %v", what, err)
	}
	return b, nil
}

// errKeyNotFound is Vault's answer when an operation names a missing key.
var errKeyNotFound = logical.InvalidRequest("encryption key not found")

const backendHelp = `
The transit engine encrypts, decrypts, signs, verifies and HMACs data with
named keys it keeps and never reveals (unless a key is made exportable),
and generates data keys, random bytes and hashes. It is compatible with
Vault's transit secrets engine.
`
