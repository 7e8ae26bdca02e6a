// Package atomicfile replaces files so that readers see the old content or
// the new, never a part: the data goes to a temporary file in the same
// folder (created 0600, so a secret is never readable by others, not even
// briefly), which is given its mode (and owner), fsynced and renamed over
// the target; the folder is fsynced too, so the rename survives a crash.
// The temporary file is removed on any failure.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with data, with mode perm.
func Write(path string, data []byte, perm os.FileMode) error {
	return WriteOwned(path, data, perm, -1, -1)
}

// WriteOwned is Write that also gives the file to uid and gid (each left
// unchanged when -1).
func WriteOwned(path string, data []byte, perm os.FileMode, uid, gid int) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if uid != -1 || gid != -1 {
		if err = tmp.Chown(uid, gid); err != nil {
			return err
		}
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
