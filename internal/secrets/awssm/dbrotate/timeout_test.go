package dbrotate

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestConnectTimeout: a server that accepts but never answers fails the
// login after the connect timeout, whatever the caller's deadline.
func TestConnectTimeout(t *testing.T) {
	defer func(d time.Duration) { connectTimeout = d }(connectTimeout)
	connectTimeout = 300 * time.Millisecond
	host, port := stallingServer(t)
	for _, engine := range []string{"postgres", "mysql"} {
		t.Run(engine, func(t *testing.T) {
			c := Creds{Engine: engine, Host: host, Port: port, Username: "u", Password: "Pass-Word-1"}
			start := time.Now()
			err := Test(context.Background(), c)
			if err == nil || !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "timeout") {
				t.Fatalf("error %v, want a timeout", err)
			}
			if d := time.Since(start); d > 10*connectTimeout {
				t.Fatalf("gave up after %v", d)
			}
			assertNoSecrets(t, err, c.Password)
		})
	}
}
