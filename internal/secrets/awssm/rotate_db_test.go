package awssm_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/kinko-dev/kinko/internal/secrets/awssm"
	"github.com/kinko-dev/kinko/internal/secrets/awssm/dbrotate"
	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
)

// dbCreds is a database secret's value, as AWS's rotation templates
// keep it.
type dbCreds struct {
	Engine    string `json:"engine"`
	Host      string `json:"host"`
	Port      int    `json:"port"`
	Username  string `json:"username"`
	Password  string `json:"password"`
	DBName    string `json:"dbname,omitempty"`
	MasterARN string `json:"masterarn,omitempty"`
}

// open connects with c and runs a query: what an application does.
func (c dbCreds) open(ctx context.Context) error {
	var db *sql.DB
	var err error
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	switch c.Engine {
	case "postgres":
		u := url.URL{Scheme: "postgres", User: url.UserPassword(c.Username, c.Password), Host: addr, Path: "/" + c.DBName,
			RawQuery: "sslmode=disable&connect_timeout=5"}
		db, err = sql.Open("pgx", u.String())
	default:
		cfg := mysql.NewConfig()
		cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.Timeout = c.Username, c.Password, "tcp", addr, 5*time.Second
		db, err = sql.Open("mysql", cfg.FormatDSN())
	}
	if err != nil {
		return err
	}
	defer db.Close()
	var one int
	return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// dbFixture makes an application user and a master user on a real
// database server; admin runs statements as its superuser.
type dbFixture struct {
	engine string
	host   string
	port   int
	dbname string
	admin  *sql.DB
}

func newDBFixture(t *testing.T, engine string) *dbFixture {
	t.Helper()
	f := &dbFixture{engine: engine}
	var addr, dsn, driver string
	switch engine {
	case "postgres":
		f.dbname = dbtest.PostgresAuthDB(t)
		addr, dsn, driver = dbtest.PostgresAddr, dbtest.PostgresURL(t), "pgx"
	default:
		addr, dsn, driver = dbtest.MySQLAddr, dbtest.MySQLDSN(t), "mysql"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	f.host = host
	f.port, _ = strconv.Atoi(port)
	if f.admin, err = sql.Open(driver, dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.admin.Close() })
	return f
}

func (f *dbFixture) exec(t *testing.T, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := f.admin.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// user creates a login user (a master one may create users and grant).
func (f *dbFixture) user(t *testing.T, name, password string, master bool) dbCreds {
	t.Helper()
	switch f.engine {
	case "postgres":
		attrs := ""
		if master {
			attrs = " CREATEROLE"
		}
		f.exec(t, fmt.Sprintf(`CREATE ROLE %q WITH LOGIN PASSWORD '%s'%s`, name, password, attrs))
		t.Cleanup(func() {
			for _, n := range []string{name + "_clone", name} {
				_, _ = f.admin.Exec(fmt.Sprintf(`DROP ROLE IF EXISTS %q`, n))
			}
		})
	default:
		f.exec(t, fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", name, password))
		if master {
			f.exec(t, fmt.Sprintf("GRANT ALL PRIVILEGES ON *.* TO '%s'@'%%' WITH GRANT OPTION", name))
		} else {
			f.exec(t, fmt.Sprintf("GRANT SELECT ON mysql.help_topic TO '%s'@'%%'", name))
		}
		t.Cleanup(func() {
			for _, n := range []string{name + "_clone", name} {
				_, _ = f.admin.Exec(fmt.Sprintf("DROP USER IF EXISTS '%s'@'%%'", n))
			}
		})
	}
	return dbCreds{Engine: f.engine, Host: f.host, Port: f.port, Username: name, Password: password, DBName: f.dbname}
}

// loopClient reads AWSCURRENT and connects with it, again and again,
// until stopped, as an application does. After a failed login it reads
// the secret again (polling until AWSCURRENT moves, as a caching client
// refreshes on an authentication error) and retries once: that retry
// must succeed.
type loopClient struct {
	sm   *sm.Client
	name string

	mu        sync.Mutex
	logins    int
	failures  int // first attempts that failed
	badRetry  []string
	versions  map[string]bool
	stop      chan struct{}
	done      chan struct{}
	lastError string
}

func startLoopClient(c *sm.Client, name string) *loopClient {
	l := &loopClient{sm: c, name: name, versions: map[string]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	return l
}

func (l *loopClient) current(ctx context.Context) (string, dbCreds, error) {
	out, err := l.sm.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: &l.name})
	if err != nil {
		return "", dbCreds{}, err
	}
	var c dbCreds
	return aws.ToString(out.VersionId), c, json.Unmarshal([]byte(aws.ToString(out.SecretString)), &c)
}

func (l *loopClient) run() {
	defer close(l.done)
	ctx := context.Background()
	for {
		select {
		case <-l.stop:
			return
		default:
		}
		version, creds, err := l.current(ctx)
		if err != nil {
			l.note(func() { l.badRetry = append(l.badRetry, "read: "+err.Error()) })
			return
		}
		err = creds.open(ctx)
		l.note(func() { l.logins++; l.versions[version] = true })
		if err == nil {
			continue
		}
		l.note(func() { l.failures++; l.lastError = err.Error() })
		deadline := time.Now().Add(30 * time.Second)
		for version2 := version; version2 == version && time.Now().Before(deadline); {
			version2, creds, err = l.current(ctx)
			if err != nil {
				break
			}
		}
		if err == nil {
			err = creds.open(ctx)
		}
		if err != nil {
			l.note(func() { l.badRetry = append(l.badRetry, err.Error()) })
		}
	}
}

func (l *loopClient) note(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f()
}

func (l *loopClient) finish() (logins, failures int, badRetry []string, versions int, lastError string) {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logins, l.failures, l.badRetry, len(l.versions), l.lastError
}

func TestBuiltinDatabaseRotation(t *testing.T) {
	for _, engine := range []string{"postgres", "mysql"} {
		for _, strategy := range []string{"single-user", "alternating-users"} {
			t.Run(engine+"/"+strategy, func(t *testing.T) {
				testBuiltinRotation(t, engine, strategy)
			})
		}
	}
}

func testBuiltinRotation(t *testing.T, engine, strategy string) {
	f := newDBFixture(t, engine)
	e := newRotEnv(t)
	ctx := context.Background()
	sfx := dbtest.Suffix()
	app := f.user(t, "rot_"+sfx, "Initial-Pass-1", false)
	name := "db/" + engine + "/" + strategy
	if strategy == "alternating-users" {
		master := f.user(t, "rotm_"+sfx, "Master-Pass-1", true)
		mv, _ := json.Marshal(master)
		out, err := e.sm.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(name + "/master"), SecretString: aws.String(string(mv)),
			Tags: []types.Tag{{Key: aws.String(awssm.MasterTag), Value: aws.String("true")}}})
		if err != nil {
			t.Fatal(err)
		}
		app.MasterARN = aws.ToString(out.ARN)
	}
	v, _ := json.Marshal(app)
	if _, err := e.sm.CreateSecret(ctx, &sm.CreateSecretInput{Name: &name, SecretString: aws.String(string(v))}); err != nil {
		t.Fatal(err)
	}
	if err := app.open(ctx); err != nil {
		t.Fatalf("the initial credentials do not work: %v", err)
	}
	client := startLoopClient(e.sm, name)
	const rotations = 3
	for i := range rotations {
		t0 := time.Now()
		in := &sm.RotateSecretInput{SecretId: &name}
		if i == 0 {
			in.RotationLambdaARN = aws.String("builtin:" + strategy)
			in.RotationRules = &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}
		}
		if _, err := e.sm.RotateSecret(ctx, in); err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
		e.waitRotation(name, rotatedSince(t0))
	}
	logins, failures, badRetry, versions, lastError := client.finish()
	t.Logf("%s %s: %d logins over %d versions, %d failed first attempts (%s)", engine, strategy, logins, versions, failures, lastError)
	if len(badRetry) > 0 {
		t.Fatalf("a client failed again after re-reading the secret: %v", badRetry)
	}
	if strategy == "alternating-users" && failures > 0 {
		t.Fatalf("alternating users: %d logins failed (%s); none may", failures, lastError)
	}
	cur, prev := e.value(name, "AWSCURRENT"), e.value(name, "AWSPREVIOUS")
	var c, p dbCreds
	if err := json.Unmarshal([]byte(cur), &c); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(prev), &p); err != nil {
		t.Fatal(err)
	}
	if err := c.open(ctx); err != nil {
		t.Fatalf("AWSCURRENT does not log in: %v", err)
	}
	if c.Password == app.Password || len(c.Password) != 32 {
		t.Fatalf("password not rotated: %d characters", len(c.Password))
	}
	switch strategy {
	case "single-user":
		if c.Username != app.Username {
			t.Fatalf("single user: username changed to %s", c.Username)
		}
		if err := app.open(ctx); err == nil {
			t.Fatal("the initial password still logs in after rotations")
		}
	case "alternating-users":
		if c.Username == p.Username || (c.Username != app.Username && c.Username != app.Username+"_clone") {
			t.Fatalf("alternating users: current %s, previous %s", c.Username, p.Username)
		}
		if err := p.open(ctx); err != nil {
			t.Fatalf("AWSPREVIOUS stopped working before the next rotation: %v", err)
		}
	}
}

// TestAlternatingRotationNeedsTaggedMaster: the master secret must opt in.
func TestAlternatingRotationNeedsTaggedMaster(t *testing.T) {
	f := newDBFixture(t, "mysql")
	e := newRotEnv(t)
	ctx := context.Background()
	sfx := dbtest.Suffix()
	app := f.user(t, "rot_"+sfx, "Initial-Pass-1", false)
	master := f.user(t, "rotm_"+sfx, "Master-Pass-1", true)
	mv, _ := json.Marshal(master)
	out, err := e.sm.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("untagged-master"), SecretString: aws.String(string(mv))})
	if err != nil {
		t.Fatal(err)
	}
	app.MasterARN = aws.ToString(out.ARN)
	v, _ := json.Marshal(app)
	name := "db/untagged"
	if _, err := e.sm.CreateSecret(ctx, &sm.CreateSecretInput{Name: &name, SecretString: aws.String(string(v))}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sm.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: &name, RotationLambdaARN: aws.String("builtin:alternating-users")}); err != nil {
		t.Fatal(err)
	}
	st := e.waitRotation(name, failedAt("setSecret"))
	if want := "lacks the tag " + awssm.MasterTag; !strings.Contains(fmt.Sprint(st["LastError"]), want) {
		t.Fatalf("failure %v, want %q", st, want)
	}
	if err := app.open(ctx); err != nil {
		t.Fatalf("a failed rotation broke the current credentials: %v", err)
	}
}

// TestHookFailingAtTestSecretKeepsOldPassword: a rotation hook that
// changes a database user (alternating users, as AWS's template does)
// and then fails at testSecret leaves AWSCURRENT, and its password,
// working; the retry finishes the same rotation.
func TestHookFailingAtTestSecretKeepsOldPassword(t *testing.T) {
	f := newDBFixture(t, "mysql")
	e := newRotEnv(t)
	ctx := context.Background()
	sfx := dbtest.Suffix()
	app := f.user(t, "rot_"+sfx, "Initial-Pass-1", false)
	master := f.user(t, "rotm_"+sfx, "Master-Pass-1", true)
	name := "db/hooked"
	v, _ := json.Marshal(app)
	if _, err := e.sm.CreateSecret(ctx, &sm.CreateSecretInput{Name: &name, SecretString: aws.String(string(v))}); err != nil {
		t.Fatal(err)
	}
	read := func(ctx context.Context, ev event, stage, version string) (dbrotate.Creds, error) {
		in := &sm.GetSecretValueInput{SecretId: &ev.SecretId, VersionStage: &stage}
		if version != "" {
			in.VersionId = &version
		}
		out, err := e.sm.GetSecretValue(ctx, in)
		if err != nil {
			return dbrotate.Creds{}, err
		}
		return dbrotate.ParseCreds(aws.ToString(out.SecretString))
	}
	l := &lambda{sm: e.sm}
	l.newValue = func(ctx context.Context, ev event) (string, error) {
		cur, err := read(ctx, ev, "AWSCURRENT", "")
		if err != nil {
			return "", err
		}
		pw, err := e.sm.GetRandomPassword(ctx, &sm.GetRandomPasswordInput{ExcludeCharacters: aws.String(`/@"'\`)})
		if err != nil {
			return "", err
		}
		cur.Username, cur.Password = dbrotate.CloneUsername(cur.Engine, cur.Username), aws.ToString(pw.RandomPassword)
		b, err := json.Marshal(cur)
		return string(b), err
	}
	l.set = func(ctx context.Context, ev event) error {
		cur, err := read(ctx, ev, "AWSCURRENT", "")
		if err != nil {
			return err
		}
		pending, err := read(ctx, ev, "AWSPENDING", ev.ClientRequestToken)
		if err != nil {
			return err
		}
		m := dbrotate.Creds{Engine: master.Engine, Host: master.Host, Port: master.Port, Username: master.Username, Password: master.Password}
		return dbrotate.SetAlternating(ctx, m, cur, pending)
	}
	l.setFail("testSecret")
	e.httpHook("mysql-rotator", l)
	if _, err := e.sm.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: &name, RotationLambdaARN: aws.String("mysql-rotator")}); err != nil {
		t.Fatal(err)
	}
	e.waitRotation(name, failedAt("testSecret"))
	var cur dbCreds
	if err := json.Unmarshal([]byte(e.value(name, "AWSCURRENT")), &cur); err != nil {
		t.Fatal(err)
	}
	if cur.Username != app.Username || cur.Password != app.Password {
		t.Fatal("AWSCURRENT changed by a rotation that failed at testSecret")
	}
	if err := cur.open(ctx); err != nil {
		t.Fatalf("the old password stopped working after a failed testSecret: %v", err)
	}
	l.setFail("")
	t1 := time.Now()
	if _, err := e.sm.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: &name}); awsCode(err) != "InvalidRequestException" {
		t.Fatalf("rotate during a failed rotation: %v", err)
	}
	e.waitRotation(name, rotatedSince(t1))
	if err := json.Unmarshal([]byte(e.value(name, "AWSCURRENT")), &cur); err != nil {
		t.Fatal(err)
	}
	if cur.Username != app.Username+"_clone" {
		t.Fatalf("after the retry AWSCURRENT is user %s", cur.Username)
	}
	if err := cur.open(ctx); err != nil {
		t.Fatalf("the new credentials do not log in: %v", err)
	}
	if err := app.open(ctx); err != nil {
		t.Fatalf("AWSPREVIOUS stopped working: %v", err)
	}
}
