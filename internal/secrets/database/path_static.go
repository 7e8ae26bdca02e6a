package database

import (
	"context"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

// Bounds on static role rotation, as Vault's.
const (
	minRotationPeriod = 5 * time.Second
	minRotationWindow = time.Hour
)

// staticRole is a stored static role (static-role/<name>).
type staticRole struct {
	DBName             string        `json:"db_name"`
	Username           string        `json:"username"`
	RotationPeriod     time.Duration `json:"rotation_period,omitempty"`
	RotationSchedule   string        `json:"rotation_schedule,omitempty"`
	RotationWindow     time.Duration `json:"rotation_window,omitempty"`
	RotationStatements []string      `json:"rotation_statements"`
	CredentialType     string        `json:"credential_type"`
	Password           string        `json:"password"`
	LastVaultRotation  time.Time     `json:"last_vault_rotation"`
	// NextRotation is when the scheduler rotates next; a failed rotation
	// moves it ahead by the retry backoff.
	NextRotation time.Time `json:"next_rotation"`
	Failures     int       `json:"failures,omitempty"`
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// nextAfter is the next scheduled rotation after t.
func (r *staticRole) nextAfter(t time.Time) time.Time {
	if r.RotationSchedule == "" {
		return t.Add(r.RotationPeriod)
	}
	sched, err := cronParser.Parse(r.RotationSchedule)
	if err != nil {
		return t.Add(24 * time.Hour) // validated at write; never here
	}
	return sched.Next(t)
}

func (b *Backend) staticPaths() []*logical.Path {
	fields := map[string]*logical.FieldSchema{
		"name":                {Type: logical.TypeString, Description: "Name of the static role."},
		"db_name":             {Type: logical.TypeString, Description: "The connection (config/:name) the role uses."},
		"username":            {Type: logical.TypeString, Description: "The existing database user whose password kinko rotates."},
		"rotation_period":     {Type: logical.TypeDurationSecond, Description: "Rotate every this long (at least 5s)."},
		"rotation_schedule":   {Type: logical.TypeString, Description: "Rotate on this cron schedule (5 fields, UTC) instead of a period."},
		"rotation_window":     {Type: logical.TypeDurationSecond, Description: "With rotation_schedule: how long after the scheduled time a rotation may still start (at least 1h)."},
		"rotation_statements": {Type: logical.TypeStringSlice, Description: "Statements that set the password (the plugin's default when empty)."},
		"credential_type":     {Type: logical.TypeString, Default: "password", Description: "Only password is supported."},
	}
	name := map[string]*logical.FieldSchema{"name": fields["name"]}
	return []*logical.Path{
		{Pattern: "static-roles/?", Operations: map[logical.Operation]logical.OperationFunc{logical.ListOperation: b.listPrefix("static-role/")},
			HelpSynopsis: "List static roles."},
		{Pattern: "static-roles/" + logical.GenericNameRegex("name"), Fields: fields, ExistenceCheck: b.exists("static-role/"),
			Operations: map[logical.Operation]logical.OperationFunc{logical.ReadOperation: b.handleStaticRead,
				logical.CreateOperation: b.handleStaticWrite, logical.UpdateOperation: b.handleStaticWrite, logical.DeleteOperation: b.handleStaticDelete},
			HelpSynopsis: "A static role: an existing user whose password kinko rotates on a schedule."},
		{Pattern: "static-creds/" + logical.GenericNameRegex("name"), Fields: name,
			Operations:   map[logical.Operation]logical.OperationFunc{logical.ReadOperation: b.handleStaticCreds},
			HelpSynopsis: "The current password of a static role's user."},
		{Pattern: "rotate-role/" + logical.GenericNameRegex("name"), Fields: name,
			Operations:   map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.handleRotateRole},
			HelpSynopsis: "Rotate a static role's password now."},
	}
}

func (b *Backend) loadStatic(ctx context.Context, name string) (*staticRole, error) {
	return load[staticRole](ctx, b.view, "static-role/"+name)
}

func (r *staticRole) info(now time.Time) map[string]any {
	out := map[string]any{"db_name": r.DBName, "username": r.Username, "rotation_statements": nonNil(r.RotationStatements),
		"credential_type": r.CredentialType, "last_vault_rotation": r.LastVaultRotation.Format(time.RFC3339Nano),
		"ttl": int64(max(r.NextRotation.Sub(now), 0) / time.Second)}
	if r.RotationSchedule != "" {
		out["rotation_schedule"] = r.RotationSchedule
		if r.RotationWindow > 0 {
			out["rotation_window"] = int64(r.RotationWindow / time.Second)
		}
	} else {
		out["rotation_period"] = int64(r.RotationPeriod / time.Second)
	}
	return out
}

func (b *Backend) handleStaticRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	r, err := b.loadStatic(ctx, d.Get("name").(string))
	if err != nil || r == nil {
		return nil, err
	}
	return logical.DataResponse(r.info(b.now())), nil
}

func (b *Backend) handleStaticCreds(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	lock := b.roleLock(name)
	lock.Lock() // a rotation in progress finishes first
	r, err := b.loadStatic(ctx, name)
	lock.Unlock()
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, logical.InvalidRequest("unknown static role: %s", name)
	}
	data := r.info(b.now())
	data["password"] = r.Password
	for _, k := range []string{"rotation_statements", "db_name", "credential_type"} {
		delete(data, k) // Vault's static-creds shape
	}
	return logical.DataResponse(data), nil
}

func (b *Backend) handleStaticWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	lock := b.roleLock(name)
	lock.Lock()
	defer lock.Unlock()
	old, err := b.loadStatic(ctx, name)
	if err != nil {
		return nil, err
	}
	r := &staticRole{}
	if old != nil {
		*r = *old
	}
	if err := applyStaticFields(r, old, d); err != nil {
		return nil, err
	}
	db, cfg, err := b.db(ctx, r.DBName)
	if err != nil {
		return nil, err
	}
	if !cfg.allows(name) {
		return nil, logical.InvalidRequest("role %q is not in the allowed_roles of connection %q", name, r.DBName)
	}
	if err := validateStatements(ctx, db, map[dbplugin.StatementKind][]string{dbplugin.RotationStatements: r.RotationStatements}); err != nil {
		return nil, err
	}
	if old == nil { // as Vault: a new static role's password is rotated at once
		if err := b.rotateLocked(ctx, name, r); err != nil {
			return nil, err
		}
	} else {
		r.NextRotation = r.nextAfter(r.LastVaultRotation)
		if err := logical.PutJSON(ctx, b.view, "static-role/"+name, r); err != nil {
			return nil, err
		}
	}
	b.sched.Set(name, r.NextRotation)
	return nil, nil
}

// applyStaticFields copies and checks a static role write.
func applyStaticFields(r, old *staticRole, d *logical.FieldData) error {
	setString(d, "db_name", &r.DBName)
	if v, ok, _ := d.GetOk("username"); ok {
		if old != nil && v.(string) != old.Username {
			return logical.InvalidRequest("username cannot be changed; delete the static role and create it again")
		}
		r.Username = v.(string)
	}
	_, periodSet, _ := d.GetOk("rotation_period")
	_, scheduleSet, _ := d.GetOk("rotation_schedule")
	if periodSet && scheduleSet {
		return logical.InvalidRequest("rotation_period and rotation_schedule are mutually exclusive")
	}
	if periodSet {
		r.RotationSchedule, r.RotationWindow = "", 0
	}
	if scheduleSet {
		r.RotationPeriod = 0
	}
	setDuration(d, "rotation_period", &r.RotationPeriod)
	setString(d, "rotation_schedule", &r.RotationSchedule)
	setDuration(d, "rotation_window", &r.RotationWindow)
	setStrings(d, "rotation_statements", &r.RotationStatements)
	setString(d, "credential_type", &r.CredentialType)
	if r.CredentialType == "" {
		r.CredentialType = "password"
	}
	switch {
	case r.DBName == "":
		return logical.InvalidRequest("db_name is required")
	case r.Username == "":
		return logical.InvalidRequest("username is required")
	case r.CredentialType != "password":
		return logical.InvalidRequest("credential_type %q is not supported: use password", r.CredentialType)
	case r.RotationSchedule == "" && r.RotationPeriod == 0:
		return logical.InvalidRequest("rotation_period or rotation_schedule is required")
	case r.RotationSchedule == "" && r.RotationPeriod < minRotationPeriod:
		return logical.InvalidRequest("rotation_period must be at least %s", minRotationPeriod)
	case r.RotationSchedule == "" && r.RotationWindow > 0:
		return logical.InvalidRequest("rotation_window is only valid with rotation_schedule")
	case r.RotationWindow > 0 && r.RotationWindow < minRotationWindow:
		return logical.InvalidRequest("rotation_window must be at least %s", minRotationWindow)
	}
	if r.RotationSchedule != "" {
		if _, err := cronParser.Parse(r.RotationSchedule); err != nil {
			return logical.InvalidRequest("invalid rotation_schedule %q: %s", r.RotationSchedule, err)
		}
	}
	return nil
}

func (b *Backend) handleStaticDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	lock := b.roleLock(name)
	lock.Lock()
	defer lock.Unlock()
	b.sched.Remove(name)
	if err := b.view.Delete(ctx, "wal/static/"+name); err != nil {
		return nil, err
	}
	return nil, b.view.Delete(ctx, "static-role/"+name)
}

func (b *Backend) handleRotateRole(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	lock := b.roleLock(name)
	lock.Lock()
	defer lock.Unlock()
	r, err := b.loadStatic(ctx, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, logical.InvalidRequest("unknown static role: %s", name)
	}
	err = b.rotateLocked(ctx, name, r)
	b.sched.Set(name, r.NextRotation) // after a failure: the retry time
	return nil, err
}
