package main

import (
	"context"
	"path"
	"strings"

	"github.com/kinko-dev/kinko/api"
)

// kvTarget is a KV secret path resolved against its mount: whether the
// mount is KV v2 (whose API paths carry data/, metadata/, delete/, ...
// after the mount) and how to build those paths.
type kvTarget struct {
	mount   string // mount path with trailing slash ("secret/"), "" if unknown
	v2      bool
	partial string // the secret path including the mount prefix
}

// resolveKV resolves arg either in "secret/foo" style (mountFlag empty) or
// in "-mount=secret foo" style, asking the server through
// sys/internal/ui/mounts which mount serves it and which KV version it runs.
func resolveKV(ctx context.Context, client *api.Client, mountFlag, arg string) (*kvTarget, error) {
	partial := strings.TrimPrefix(strings.TrimSpace(arg), "/")
	lookup := partial
	if mountFlag != "" {
		lookup = sanitizePath(mountFlag)
	}
	info, err := client.MountInfoForPath(ctx, lookup)
	if err != nil {
		return nil, fail(exitAPI, "Error looking up the KV mount of %s: %s", lookup, err)
	}
	t := &kvTarget{}
	if info != nil {
		t.mount = ensureTrailingSlash(info.Path)
		t.v2 = info.KVVersion() == 2
	}
	if mountFlag != "" {
		if t.mount == "" {
			t.mount = ensureTrailingSlash(sanitizePath(mountFlag))
		}
		partial = path.Join(t.mount, partial)
	}
	t.partial = strings.TrimSuffix(partial, "/")
	return t, nil
}

// apiPath returns the path to call: for v2, mount + prefix + the rest of
// the secret path (secret/data/foo); for v1 the secret path itself.
func (t *kvTarget) apiPath(prefix string) string {
	if !t.v2 {
		return t.partial
	}
	mount := strings.TrimSuffix(t.mount, "/")
	if t.partial == mount || mount == "" {
		return path.Join(mount, prefix)
	}
	rest := strings.TrimPrefix(t.partial, t.mount)
	return path.Join(mount, prefix, rest)
}

// kvSecretData returns the secret's key/value data: Data["data"] for v2,
// Data itself for v1.
func kvSecretData(s *api.Secret, v2 bool) map[string]any {
	if !v2 {
		return s.Data
	}
	data, _ := s.Data["data"].(map[string]any)
	return data
}
