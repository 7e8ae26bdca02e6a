package sealfile

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// testKey is a fast key source for tests and fuzzing: it "wraps" the data
// key in the clear. Production sources are Age and Transit.
type testKey struct{}

func (testKey) Wrap(_ context.Context, k []byte) (Stanza, error) {
	return Stanza{Type: "test", Enc: base64.StdEncoding.EncodeToString(k)}, nil
}

func (testKey) Unwrap(_ context.Context, s Stanza) ([]byte, error) {
	if s.Type != "test" {
		return nil, errOtherType
	}
	return base64.StdEncoding.DecodeString(s.Enc)
}

var fixedNow = func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }

// ageKeys returns a fresh identity's recipient source and identity source.
func ageKeys(t testing.TB) (*Age, *Age) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	rcpt, err := AgeRecipient(id.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	ids, err := AgeIdentities(strings.NewReader("# test\n" + id.String() + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return rcpt, ids
}

func seal(t testing.TB, f Format, plain string, opts SealOptions) string {
	t.Helper()
	opts.Format = f
	if opts.Sources == nil {
		opts.Sources = []KeySource{testKey{}}
	}
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	out, err := Seal(context.Background(), []byte(plain), opts)
	if err != nil {
		t.Fatalf("seal %s: %v", f, err)
	}
	return string(out)
}

func unseal(f Format, sealed string, sources ...KeySource) (string, error) {
	if sources == nil {
		sources = []KeySource{testKey{}}
	}
	out, err := Unseal(context.Background(), []byte(sealed), OpenOptions{Format: f, Sources: sources})
	return string(out), err
}

// entriesOf parses a plain file into comparable entries.
func entriesOf(t testing.TB, f Format, plain string) []string {
	t.Helper()
	doc, err := parse(f, []byte(plain))
	if err != nil {
		t.Fatalf("parse %s: %v", f, err)
	}
	if m, err := doc.takeMetadata(); m != nil || err != nil {
		t.Fatalf("parse %s: unexpected metadata %v %v", f, m, err)
	}
	es, err := doc.walk()
	if err != nil {
		t.Fatalf("walk %s: %v", f, err)
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = fmt.Sprintf("%d %s %s %q", e.kind, displayPath(e.path), e.typ, e.value)
	}
	return out
}

func wantErr(t testing.TB, err, target error, contains string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v; want %v", err, target)
	}
	if contains != "" && !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %q does not mention %q", err, contains)
	}
}

func regexpReplace(s, re, repl string) string {
	return regexp.MustCompile(re).ReplaceAllString(s, repl)
}
