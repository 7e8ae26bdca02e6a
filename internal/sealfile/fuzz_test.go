package sealfile

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"testing"
)

func FuzzToken(f *testing.F) {
	f.Add("KINKO[AES256_GCM,data:YWJj,iv:AAAAAAAAAAAAAAAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]")
	f.Add("KINKO[AES256_GCM,data:,iv:AAAAAAAAAAAAAAAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:int]")
	f.Add("KINKO[AES256_GCM,data:YW\nJj,iv:,tag:,type:bool]")
	f.Add("KINKO[AES256_GCM,")
	f.Add("ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := parseToken(s)
		if err != nil {
			return
		}
		if got := tok.String(); got != s {
			t.Fatalf("parse/format is not a round trip:\n in %q\nout %q", s, got)
		}
	})
}

// fuzzFormat checks, for arbitrary input, that opening never panics and
// that whatever seals unseals to the same entries.
func fuzzFormat(f *testing.F, format Format, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
		sealed, err := Seal(context.Background(), []byte(s), SealOptions{Format: format, Sources: []KeySource{testKey{}}, Now: fixedNow})
		if err != nil {
			f.Fatalf("seed does not seal: %v", err)
		}
		f.Add(string(sealed))
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, err := Unseal(context.Background(), []byte(s), OpenOptions{Format: format, Sources: []KeySource{testKey{}}})
		if err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrNotSealed) && !errors.Is(err, ErrMAC) && !errors.Is(err, ErrNoKey) {
			t.Fatalf("unseal error outside the documented ones: %v", err)
		}
		sealed, err := Seal(context.Background(), []byte(s), SealOptions{Format: format, Sources: []KeySource{testKey{}}, Now: fixedNow})
		if err != nil {
			return
		}
		plain, err := Unseal(context.Background(), sealed, OpenOptions{Format: format, Sources: []KeySource{testKey{}}})
		if err != nil {
			t.Fatalf("sealed output does not unseal: %v\n%s", err, sealed)
		}
		if a, b := entriesOf(t, format, s), entriesOf(t, format, string(plain)); !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip changed the entries:\n in %q\nout %q", a, b)
		}
	})
}

func FuzzYAML(f *testing.F) {
	fuzzFormat(f, YAML, yamlPlain, k8sPlain, "a: 1\n", "a: [1, {b: ~}]\nc: &x 1\nd: *x\n", "k: 'quoted'\n")
}

func FuzzJSON(f *testing.F) {
	fuzzFormat(f, JSON, jsonPlain, `{}`, `{"a": [1, 2.5e3, true, null, "s"]}`)
}

func FuzzDotenv(f *testing.F) {
	fuzzFormat(f, Dotenv, dotenvPlain, "A=1", "export B='x y' # c\nC=\"multi\nline\"\n", "\r\nD=e\r\n")
}

func FuzzINI(f *testing.F) {
	fuzzFormat(f, INI, iniPlain, "a=b", "[s]\r\nk: v\r\n; c\r\n")
}

func BenchmarkSealUnseal1000Keys(b *testing.B) {
	var plain []byte
	for i := range 1000 {
		plain = append(plain, []byte("key_"+strconv.Itoa(i)+": value-number-"+strconv.Itoa(i)+"\n")...)
	}
	rcpt, ids := ageKeys(b)
	ctx := context.Background()
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		sealed, err := Seal(ctx, plain, SealOptions{Format: YAML, Sources: []KeySource{rcpt}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Unseal(ctx, sealed, OpenOptions{Format: YAML, Sources: []KeySource{ids}}); err != nil {
			b.Fatal(err)
		}
	}
}
