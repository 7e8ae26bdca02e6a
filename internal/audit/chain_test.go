package audit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// writeLog records n request entries on a fresh file device and returns
// the device, the file path and its lines.
func writeLog(t *testing.T, n int) (*Device, string, [][]byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	d := newFileDevice(t, path, nil)
	for i := 0; i < n; i++ {
		in := sampleInput(fmt.Sprint("value-", i))
		in.Request.ID = fmt.Sprint("req-", i)
		if err := d.log(context.Background(), in, "request"); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(path)
	return d, path, bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
}

func join(lines [][]byte) []byte { return append(bytes.Join(lines, []byte("\n")), '\n') }

func TestVerifyIntactChain(t *testing.T) {
	d, path, lines := writeLog(t, 20)
	f, _ := os.Open(path)
	defer f.Close()
	rep, err := Verify(f, d.conf.ChainKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Broken != 0 || rep.Lines != 20 || rep.FirstSeq != 1 || rep.Last != d.Head() {
		t.Fatalf("report = %+v, head = %+v", rep, d.Head())
	}
	if len(lines) != 20 {
		t.Fatalf("%d lines", len(lines))
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	d, _, lines := writeLog(t, 10)
	key := d.conf.ChainKey
	edit := func(i int, from, to string) [][]byte {
		out := append([][]byte(nil), lines...)
		out[i] = bytes.Replace(out[i], []byte(from), []byte(to), 1)
		return out
	}
	cases := []struct {
		name   string
		log    [][]byte
		broken int
		reason string
	}{
		{"edited line", edit(4, `"operation":"update"`, `"operation":"read"`), 6, "edited"},
		{"edited seq", edit(4, `"seq":5`, `"seq":6`), 5, "missing or reordered"},
		{"deleted line", append(append([][]byte(nil), lines[:3]...), lines[4:]...), 4, "1 line(s) missing"},
		{"reordered", append(append(append([][]byte(nil), lines[:2]...), lines[3], lines[2]), lines[4:]...), 3, "reordered"},
		{"duplicated", append(append([][]byte(nil), lines[:5]...), lines[4:]...), 6, "repeated"},
		{"garbage", append(append([][]byte(nil), lines[:7]...), []byte("hello")), 8, "not an audit entry"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Verify(bytes.NewReader(join(tc.log)), key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Broken != tc.broken || !strings.Contains(rep.Reason, tc.reason) {
				t.Fatalf("broken at %d (%q), want %d (%q)", rep.Broken, rep.Reason, tc.broken, tc.reason)
			}
		})
	}
	// A replayed first line shows as a chain restart.
	if rep, _ := Verify(bytes.NewReader(join(append(append([][]byte(nil), lines[:7]...), lines[0], lines[1]))), key, nil); rep.Broken != 0 || len(rep.Restarts) != 1 || rep.Restarts[0] != 8 {
		t.Fatalf("replayed start: %+v", rep)
	}
	if rep, _ := Verify(bytes.NewReader(join(lines)), []byte("wrong key"), nil); rep.Broken != 2 {
		t.Fatalf("wrong key: %+v", rep)
	}
	// A truncated tail is only visible against the device's head.
	rep, _ := Verify(bytes.NewReader(join(lines[:9])), key, nil)
	if rep.Broken != 0 || rep.Last == d.Head() {
		t.Fatalf("truncation: %+v", rep)
	}
}

func TestChainContinuesAcrossRestartAndRotation(t *testing.T) {
	d, path, _ := writeLog(t, 3)
	conf := d.conf
	_ = d.Close()
	// Restart: a new device on the same file continues its chain.
	d2, err := Open(conf, filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if h := d2.Head(); h.Seq != 3 {
		t.Fatalf("resumed at %+v", h)
	}
	_ = d2.log(context.Background(), sampleInput("x"), "request")
	// Rotation: the file is moved away and the device reopened (SIGHUP).
	rotated := path + ".1"
	if err := os.Rename(path, rotated); err != nil {
		t.Fatal(err)
	}
	if err := d2.Reopen(); err != nil {
		t.Fatal(err)
	}
	_ = d2.log(context.Background(), sampleInput("y"), "response")
	old, _ := os.Open(rotated)
	defer old.Close()
	rep, err := Verify(old, conf.ChainKey, nil)
	if err != nil || rep.Broken != 0 || rep.Last.Seq != 4 {
		t.Fatalf("old file: %+v %v", rep, err)
	}
	cur, _ := os.Open(path)
	defer cur.Close()
	rep2, err := Verify(cur, conf.ChainKey, &rep.Last)
	if err != nil || rep2.Broken != 0 || rep2.FirstSeq != 5 || rep2.Last != d2.Head() {
		t.Fatalf("new file: %+v %v", rep2, err)
	}
	// Without the old head the new file is taken as a continuation.
	_, _ = cur.Seek(0, 0)
	if rep3, _ := Verify(cur, conf.ChainKey, nil); rep3.Broken != 0 || rep3.FirstSeq != 5 {
		t.Fatalf("standalone: %+v", rep3)
	}
}

func TestForeignFileRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	_ = os.WriteFile(path, []byte("some other program's log\n"), 0o600)
	c := testConfig(t, "file", map[string]string{"file_path": path})
	if _, err := Open(c, filepath.Dir(path)); err == nil || !strings.Contains(err.Error(), "file of their own") {
		t.Fatalf("err = %v", err)
	}
}

func TestOtherDevicesFileRefused(t *testing.T) {
	_, path, _ := writeLog(t, 3)
	c := testConfig(t, "file", map[string]string{"file_path": path})
	if _, err := Open(c, filepath.Dir(path)); err == nil || !strings.Contains(err.Error(), "another") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzVerify(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	f.Add([]byte(`{"seq":1,"prev_hmac":""}` + "\n" + `{"seq":2,"prev_hmac":"hmac-sha256:00"}`))
	f.Add([]byte("\n\n{}\n"))
	f.Add([]byte(`{"seq":18446744073709551615,"prev_hmac":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := Verify(bytes.NewReader(b), key, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Broken > rep.Lines {
			t.Fatalf("broken line %d beyond %d lines", rep.Broken, rep.Lines)
		}
	})
}

func BenchmarkDeviceLog(b *testing.B) {
	path := filepath.Join(b.TempDir(), "audit.log")
	c := Config{Path: "file/", Type: "file", Options: map[string]string{"file_path": path}}
	_ = c.NewKeys()
	d, err := Open(c, filepath.Dir(path))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	in := sampleInput("benchmark-secret")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := d.log(context.Background(), in, "response"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestConcurrentEntriesChainInOrder: many writers at once (group commit)
// give every entry exactly once, in one unbroken chain.
func TestConcurrentEntriesChainInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	d := newFileDevice(t, path, nil)
	const writers, each = 8, 100
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				in := sampleInput(fmt.Sprint("v-", w, "-", i))
				in.Request.ID = fmt.Sprint("req-", w, "-", i)
				typs := []string{"request"}
				if i%2 == 1 {
					typs = []string{"request", "response"}
				}
				if err := d.log(context.Background(), in, typs...); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	f, _ := os.Open(path)
	defer f.Close()
	rep, err := Verify(f, d.conf.ChainKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := writers * each * 3 / 2; rep.Broken != 0 || rep.Lines != want || rep.Last != d.Head() {
		t.Fatalf("report %+v, want %d intact lines", rep, want)
	}
	log, _ := os.ReadFile(path)
	for w := 0; w < writers; w++ {
		for i := 0; i < each; i++ {
			if n := bytes.Count(log, []byte(fmt.Sprintf(`"id":"req-%d-%d"`, w, i))); n != 1+i%2 {
				t.Fatalf("req-%d-%d appears %d times", w, i, n)
			}
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.log(context.Background(), sampleInput("late"), "request"); err == nil {
		t.Fatal("a closed device accepted an entry")
	}
}
