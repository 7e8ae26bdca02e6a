package sealfile

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const yamlPlain = `# database settings
db:
  user: admin # the login
  password: "s3cr3t-pw"
  port: 5432
  ratio: 0.75
  tls: true
  created: 2024-01-01
  blob: !!binary aGVsbG8=
  note: null
  vaulted: !vault token-xyz
servers:
  - host: a.example
    weight: 1
  - host: b.example
    weight: 2
cert: |
  -----BEGIN-----
  line two
  -----END-----
empty_map: {}
empty_list: []
base: &base
  shared: yes-shared
derived:
  <<: *base
  own: own-value
`

const jsonPlain = `{
    "name": "app",
    "db": {"password": "json-pw", "port": 5432, "ratio": 1.5e3, "big": 12345678901234567890, "on": false, "none": null},
    "list": ["x-item", 2, {"deep": "deep-v"}],
    "empty": {},
    "unicode": "pässwörd <&>"
}
`

const dotenvPlain = `# app settings
export DB_PASSWORD=plain-pw
API_KEY="quoted \"key\"\nline"
SQ='single value'
MULTI="first\nsecond"
EMPTY=
WITH_COMMENT=value-c # trailing comment
SPACED = spaced-v

DOTTED.NAME-X=dotted-v
`

const iniPlain = `; global settings
name = app
[database]
password = ini-pw
url: postgres://u@h/db?sslmode=require
empty =
# another comment
[server]
port=8080
`

const k8sPlain = `apiVersion: v1
kind: Secret
metadata:
  name: app-secret
  namespace: prod
  labels:
    app: web
type: Opaque
data:
  password: czNjcjN0LWs4cw==
stringData:
  token: k8s-plain-token
`

// secrets lists texts of each fixture that must not survive sealing.
var roundTrips = []struct {
	name    string
	format  Format
	plain   string
	secrets []string
	exact   bool // the unsealed text equals the input byte for byte
}{
	{"yaml", YAML, yamlPlain, []string{"s3cr3t-pw", "5432", "token-xyz", "line two", "a.example", "own-value", "aGVsbG8="}, false},
	{"json", JSON, jsonPlain, []string{"json-pw", "12345678901234567890", "deep-v", "x-item", "pässwörd"}, false},
	{"dotenv", Dotenv, dotenvPlain, []string{"plain-pw", "quoted", "single value", "second", "value-c", "spaced-v", "dotted-v"}, true},
	{"ini", INI, iniPlain, []string{"ini-pw", "postgres", "8080"}, true},
	{"k8s", YAML, k8sPlain, []string{"czNjcjN0LWs4cw==", "k8s-plain-token"}, true},
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range roundTrips {
		t.Run(tc.name, func(t *testing.T) {
			sealed := seal(t, tc.format, tc.plain, SealOptions{})
			for _, s := range tc.secrets {
				if strings.Contains(sealed, s) {
					t.Errorf("sealed file contains the value %q:\n%s", s, sealed)
				}
			}
			got, err := unseal(tc.format, sealed)
			if err != nil {
				t.Fatalf("unseal: %v\n%s", err, sealed)
			}
			if !reflect.DeepEqual(entriesOf(t, tc.format, got), entriesOf(t, tc.format, tc.plain)) {
				t.Fatalf("entries differ:\n got %q\nwant %q", entriesOf(t, tc.format, got), entriesOf(t, tc.format, tc.plain))
			}
			if tc.exact && got != tc.plain {
				t.Errorf("unsealed text differs:\n--- got\n%s--- want\n%s", got, tc.plain)
			}
			if tc.format == YAML || tc.format == JSON {
				var a, b any
				if err := yaml.Unmarshal([]byte(got), &a); err != nil {
					t.Fatal(err)
				}
				if err := yaml.Unmarshal([]byte(tc.plain), &b); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(a, b) {
					t.Errorf("values differ:\n got %v\nwant %v", a, b)
				}
			}
		})
	}
}

func TestYAMLKeepsStructure(t *testing.T) {
	sealed := seal(t, YAML, yamlPlain, SealOptions{})
	for _, want := range []string{"# database settings", "# the login", "<<: *base", "base: &base", "empty_map: {}",
		"blob: KINKO[", "vaulted: !vault KINKO[", `password: "KINKO[`, "note: null", "cert: |-\n  KINKO["} {
		if !strings.Contains(sealed, want) {
			t.Errorf("sealed YAML lacks %q:\n%s", want, sealed)
		}
	}
	if !regexp.MustCompile(`(?m)^kinko:\n  version: 1\n  keys:\n    - type: test`).MatchString(sealed) {
		t.Errorf("metadata section not as documented:\n%s", sealed)
	}
	got, err := unseal(YAML, sealed)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# database settings", "user: admin # the login", `password: "s3cr3t-pw"`, "port: 5432",
		"created: 2024-01-01", "blob: !!binary aGVsbG8=", "vaulted: !vault token-xyz", "cert: |\n  -----BEGIN-----"} {
		if !strings.Contains(got, want) {
			t.Errorf("unsealed YAML lacks %q:\n%s", want, got)
		}
	}
}

func TestK8sOnlyDataSealed(t *testing.T) {
	sealed := seal(t, YAML, k8sPlain, SealOptions{})
	for _, want := range []string{"kind: Secret", "name: app-secret", "namespace: prod", "app: web", "type: Opaque", "mode: k8s",
		"password: KINKO[", "token: KINKO["} {
		if !strings.Contains(sealed, want) {
			t.Errorf("sealed manifest lacks %q:\n%s", want, sealed)
		}
	}
	// JSON manifests work the same way.
	js := `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "data": {"k": "dmFsdWU="}}`
	sj := seal(t, JSON, js, SealOptions{Mode: ModeK8s})
	if !strings.Contains(sj, `"name": "x"`) || strings.Contains(sj, "dmFsdWU=") {
		t.Errorf("JSON manifest:\n%s", sj)
	}
	if got, err := unseal(JSON, sj); err != nil || !strings.Contains(got, `"k": "dmFsdWU="`) {
		t.Errorf("JSON manifest unseal: %v\n%s", err, got)
	}
	// plain mode seals everything
	all := seal(t, YAML, k8sPlain, SealOptions{Mode: ModePlain})
	if strings.Contains(all, "app-secret") {
		t.Errorf("plain mode left metadata.name readable")
	}
}

func TestK8sErrors(t *testing.T) {
	tests := []struct{ name, plain, want string }{
		{"not a secret", "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n", "kind: Secret"},
		{"data not base64", "apiVersion: v1\nkind: Secret\ndata:\n  a: not base64!\n", "data.a is not base64"},
		{"nested data", "apiVersion: v1\nkind: Secret\nstringData:\n  a: {b: c}\n", "must map names to strings"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Seal(t.Context(), []byte(tc.plain), SealOptions{Format: YAML, Mode: ModeK8s, Sources: []KeySource{testKey{}}})
			wantErr(t, err, ErrInvalid, tc.want)
		})
	}
}

func TestSelection(t *testing.T) {
	plain := "user: admin\npassword: pw-1\nnested:\n  password: pw-2\n  host: h\napi_unencrypted: visible\n"
	tests := []struct {
		name       string
		opts       SealOptions
		hidden     []string
		visible    []string
		metaSuffix string
	}{
		{"encrypted_regex", SealOptions{EncryptedRegex: "^password$"}, []string{"pw-1", "pw-2"}, []string{"admin", "h", "visible"}, "encrypted_regex: ^password$"},
		{"encrypted_regex parent", SealOptions{EncryptedRegex: "^nested$"}, []string{"pw-2", "h"}, []string{"admin", "pw-1"}, ""},
		{"unencrypted_suffix", SealOptions{UnencryptedSuffix: "_unencrypted"}, []string{"admin", "pw-1"}, []string{"visible"}, "unencrypted_suffix: _unencrypted"},
		{"unencrypted_regex", SealOptions{UnencryptedRegex: "^(user|host)$"}, []string{"pw-1", "pw-2"}, []string{"admin", "h"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sealed := seal(t, YAML, plain, tc.opts)
			for _, h := range tc.hidden {
				if strings.Contains(sealed, ": "+h+"\n") {
					t.Errorf("%q is readable:\n%s", h, sealed)
				}
			}
			for _, v := range tc.visible {
				if !strings.Contains(sealed, ": "+v+"\n") {
					t.Errorf("%q is not readable:\n%s", v, sealed)
				}
			}
			if !strings.Contains(sealed, tc.metaSuffix) {
				t.Errorf("metadata lacks %q", tc.metaSuffix)
			}
			if got, err := unseal(YAML, sealed); err != nil || got != plain {
				t.Fatalf("unseal = %v\n%s", err, got)
			}
			// a readable value is still covered by the MAC
			for _, v := range tc.visible {
				_, err := unseal(YAML, strings.Replace(sealed, ": "+v+"\n", ": changed\n", 1))
				wantErr(t, err, ErrMAC, "")
			}
		})
	}
	_, err := Seal(t.Context(), []byte(plain), SealOptions{Format: YAML, Sources: []KeySource{testKey{}}, EncryptedRegex: "a", UnencryptedSuffix: "b"})
	wantErr(t, err, ErrInvalid, "at most one")
	_, err = Seal(t.Context(), []byte(plain), SealOptions{Format: YAML, Sources: []KeySource{testKey{}}, EncryptedRegex: "("})
	wantErr(t, err, ErrInvalid, "encrypted_regex")
}

func TestInputErrors(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		in     string
		want   string
	}{
		{"yaml empty", YAML, "", "empty"},
		{"yaml list", YAML, "- a\n- b\n", "must be a mapping"},
		{"yaml two docs", YAML, "a: 1\n---\nb: 2\n", "one document"},
		{"yaml duplicate", YAML, "a: 1\na: 2\n", "duplicate key a"},
		{"yaml complex key", YAML, "? [a, b]\n: c\n", "plain scalars"},
		{"yaml syntax", YAML, "a: [\n", "YAML"},
		{"yaml reserved key", YAML, "kinko: hello\n", "reserved"},
		{"json array", JSON, "[1, 2]", "must be an object"},
		{"json trailing", JSON, `{"a": 1} {}`, "after the top-level"},
		{"json syntax", JSON, `{"a": }`, "syntax error"},
		{"json duplicate", JSON, `{"a": 1, "a": 2}`, "duplicate key a"},
		{"json deep", JSON, strings.Repeat("[", 300) + strings.Repeat("]", 300), "nested deeper"},
		{"dotenv no equals", Dotenv, "A=1\njust words\n", "line 2: expected NAME=value"},
		{"dotenv unclosed", Dotenv, "A=\"open\n", "line 1: the quoted value is not closed"},
		{"dotenv after quote", Dotenv, "A='x' y\n", "after the closing quote"},
		{"ini no separator", INI, "[s]\nflag\n", "line 2: expected key = value"},
		{"ini bad header", INI, "[s\n", "no closing ]"},
		{"ini empty key", INI, "= v\n", "empty"},
		{"unknown format", Format("toml"), "a = 1", "unknown format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Seal(t.Context(), []byte(tc.in), SealOptions{Format: tc.format, Sources: []KeySource{testKey{}}})
			wantErr(t, err, ErrInvalid, tc.want)
		})
	}
	_, err := Seal(t.Context(), []byte("a: 1\n"), SealOptions{Format: YAML})
	wantErr(t, err, ErrInvalid, "no key source")
}

func TestSealedState(t *testing.T) {
	for _, tc := range roundTrips {
		t.Run(tc.name, func(t *testing.T) {
			sealed := seal(t, tc.format, tc.plain, SealOptions{})
			_, err := Seal(t.Context(), []byte(sealed), SealOptions{Format: tc.format, Sources: []KeySource{testKey{}}})
			wantErr(t, err, ErrAlreadySealed, "")
			_, err = unseal(tc.format, tc.plain)
			wantErr(t, err, ErrNotSealed, "")
		})
	}
}

func TestFormatFromName(t *testing.T) {
	tests := map[string]Format{"a.yaml": YAML, "dir/A.YML": YAML, "x.json": JSON, ".env": Dotenv, "prod.env": Dotenv,
		".env.production": Dotenv, "app.ini": INI, "setup.cfg": INI}
	for name, want := range tests {
		if got, err := FormatFromName(name); got != want || err != nil {
			t.Errorf("FormatFromName(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	_, err := FormatFromName("notes.txt")
	wantErr(t, err, ErrInvalid, "cannot tell the format of notes.txt")
}

func TestReseal(t *testing.T) {
	plain := "a: one\nb: two\nc: 3\n"
	sealed := seal(t, YAML, plain, SealOptions{})
	o, err := Open(t.Context(), []byte(sealed), OpenOptions{Format: YAML, Sources: []KeySource{testKey{}}})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if string(o.Plaintext()) != plain {
		t.Fatalf("plaintext = %q", o.Plaintext())
	}
	edited := "a: one\nb: TWO\nc: 3\nd: new\n"
	later := func() time.Time { return fixedNow().Add(time.Hour) }
	resealed, err := o.Reseal([]byte(edited), later)
	if err != nil {
		t.Fatal(err)
	}
	oldLines, newLines := lineMap(sealed), lineMap(string(resealed))
	if oldLines["a"] != newLines["a"] || oldLines["c"] != newLines["c"] {
		t.Errorf("unchanged values got new tokens")
	}
	if oldLines["b"] == newLines["b"] || newLines["d"] == "" {
		t.Errorf("changed values kept old tokens")
	}
	if !strings.Contains(string(resealed), "lastmodified: \"2025-01-02T04:04:05Z\"") {
		t.Errorf("lastmodified not updated:\n%s", resealed)
	}
	if got, err := unseal(YAML, string(resealed)); err != nil || got != edited {
		t.Fatalf("unseal resealed = %v\n%s", err, got)
	}
	if _, err := o.Reseal([]byte(sealed), nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("reseal of a sealed text: %v", err)
	}
}

// lineMap maps "key" to the rest of each "key: ..." line.
func lineMap(s string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok {
			m[k] = v
		}
	}
	return m
}

func TestEnv(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		plain  string
		want   []EnvVar
	}{
		{"yaml", YAML, "db:\n  password: pw\n  port: 5432\nservers:\n  - host: a\nempty: {}\nnone: null\nmixed-Case.key: v\n", []EnvVar{
			{"DB_PASSWORD", "pw"}, {"DB_PORT", "5432"}, {"SERVERS_0_HOST", "a"}, {"MIXED_CASE_KEY", "v"}}},
		{"json", JSON, `{"a": {"b": true}, "1x": 1.5}`, []EnvVar{{"A_B", "true"}, {"_1X", "1.5"}}},
		{"dotenv", Dotenv, "lower.name=1\nQ=\"a b\"\n", []EnvVar{{"lower.name", "1"}, {"Q", "a b"}}},
		{"ini", INI, "top = 1\n[db]\npass = p\n", []EnvVar{{"TOP", "1"}, {"DB_PASS", "p"}}},
		{"k8s", YAML, "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata:\n  tls.crt: Y2VydA==\n  both: ZnJvbS1kYXRh\nstringData:\n  both: from-stringData\n",
			[]EnvVar{{"tls.crt", "cert"}, {"both", "from-stringData"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sealed := seal(t, tc.format, tc.plain, SealOptions{})
			o, err := Open(t.Context(), []byte(sealed), OpenOptions{Format: tc.format, Sources: []KeySource{testKey{}}})
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			got, err := o.Env()
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Env() = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	sealed := seal(t, YAML, "a:\n  b: secret-1\na_b: secret-2\n", SealOptions{})
	o, err := Open(t.Context(), []byte(sealed), OpenOptions{Format: YAML, Sources: []KeySource{testKey{}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.Env()
	wantErr(t, err, ErrInvalid, "a.b and a_b both become the variable A_B")
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error shows a value: %v", err)
	}
}

func TestDotenvValues(t *testing.T) {
	plain := "A=plain value # comment\nB='single # not comment'\nC=\"esc \\\"q\\\" \\\\ \\n \\$x\"\nD=#notcomment\nE= #comment\nF=\"multi\nline\" # c\nexport G=g\n"
	want := []string{
		`1 A str "plain value"`, `1 B str "single # not comment"`, `1 C str "esc \"q\" \\ \n \\$x"`,
		`1 D str "#notcomment"`, `1 E str ""`, `1 F str "multi\nline"`, `1 G str "g"`,
	}
	if got := entriesOf(t, Dotenv, plain); !reflect.DeepEqual(got, want) {
		t.Fatalf("entries:\n got %q\nwant %q", got, want)
	}
	got, err := unseal(Dotenv, seal(t, Dotenv, plain, SealOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(entriesOf(t, Dotenv, got), want) {
		t.Fatalf("round trip:\n%s", got)
	}
}
