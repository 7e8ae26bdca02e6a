package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDataParser(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw.txt")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		stdin   string
		want    map[string]any
		wantErr string
	}{
		{"plain", []string{"a=1", "b=two words"}, "", map[string]any{"a": "1", "b": "two words"}, ""},
		{"empty value", []string{"a="}, "", map[string]any{"a": ""}, ""},
		{"value with equals", []string{"a=b=c"}, "", map[string]any{"a": "b=c"}, ""},
		{"file", []string{"pw=@" + file}, "", map[string]any{"pw": "from-file\n"}, ""},
		{"escaped at", []string{`handle=\@kinko`}, "", map[string]any{"handle": "@kinko"}, ""},
		{"stdin value kept byte for byte", []string{"pw=-"}, "s3cret\n", map[string]any{"pw": "s3cret\n"}, ""},
		{"stdin json", []string{"-", "c=3"}, `{"a":"x","n":5,"o":{"k":true}}`,
			map[string]any{"a": "x", "n": json.Number("5"), "o": map[string]any{"k": true}, "c": "3"}, ""},
		{"arg after stdin json joins it in a list", []string{"-", "a=y"}, `{"a":"x"}`, map[string]any{"a": []any{"x", "y"}}, ""},
		{"repeated key becomes list", []string{"a=1", "a=2", "a=3"}, "", map[string]any{"a": []any{"1", "2", "3"}}, ""},
		{"missing equals", []string{"a=1", "oops"}, "", nil, "data argument 2 is not key=value"},
		{"empty key", []string{"=v"}, "", nil, "data argument 1 is not key=value"},
		{"missing file", []string{"pw=@" + filepath.Join(dir, "none")}, "", nil, "reading file"},
		{"stdin twice", []string{"a=-", "b=-"}, "x", nil, errStdinTwice.Error()},
		{"stdin json and value", []string{"-", "b=-"}, "{}", nil, errStdinTwice.Error()},
		{"stdin not json", []string{"-"}, "a=b", nil, "must hold a JSON object"},
		{"stdin json array", []string{"-"}, "[1]", nil, "must hold a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := newDataParser(strings.NewReader(tt.stdin)).parse(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestDataParserDoesNotEchoValues(t *testing.T) {
	_, err := newDataParser(nil).parse([]string{"hunter2-password"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v should not contain the argument", err)
	}
}

func TestParseStrings(t *testing.T) {
	got, err := newDataParser(nil).parseStrings([]string{"a=1", "b=2"})
	if err != nil || !reflect.DeepEqual(got, map[string]string{"a": "1", "b": "2"}) {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := newDataParser(nil).parseStrings([]string{"a=1", "a=2"}); err == nil {
		t.Error("a repeated key was accepted as a single string")
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"3600", time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"1h30m", 90 * time.Minute, false},
		{"7d", 7 * 24 * time.Hour, false},
		{"0", 0, false},
		{"", 0, true},
		{"-5", 0, true},
		{"-1h", 0, true},
		{"forever", 0, true},
		{"d", 0, true},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	var v durationValue
	if err := v.Set("1h"); err != nil || v.seconds() != "3600s" || v.String() != "1h" {
		t.Errorf("durationValue: %v %q %q", err, v.seconds(), v.String())
	}
}

func TestParseKVFlags(t *testing.T) {
	got, err := parseKVFlags("metadata", []string{"a=1", "b=x=y", "c="})
	if err != nil || !reflect.DeepEqual(got, map[string]string{"a": "1", "b": "x=y", "c": ""}) {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := parseKVFlags("metadata", []string{"novalue"}); err == nil {
		t.Error("k=v without = accepted")
	}
	if got, err := parseKVFlags("metadata", nil); got != nil || err != nil {
		t.Errorf("empty: %v, %v", got, err)
	}
}

func TestParseVersions(t *testing.T) {
	tests := []struct {
		in      []string
		want    []int
		wantErr bool
	}{
		{[]string{"1,2", "5"}, []int{1, 2, 5}, false},
		{[]string{" 3 ,"}, []int{3}, false},
		{nil, nil, false},
		{[]string{"0"}, nil, true},
		{[]string{"x"}, nil, true},
	}
	for _, tt := range tests {
		got, err := parseVersions(tt.in)
		if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseVersions(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestReadSecretFromPipe(t *testing.T) {
	c := newCLI(strings.NewReader("  key-one \nkey-two\n"), nil, nil, nil)
	got, err := c.readSecret("prompt: ")
	if err != nil || got != "key-one" {
		t.Errorf("got %q, %v", got, err)
	}
	c = newCLI(strings.NewReader("\n"), nil, nil, nil)
	if _, err := c.readSecret(""); err == nil {
		t.Error("empty input accepted")
	}
	c = newCLI(errReader{}, nil, nil, nil)
	if _, err := c.readSecret(""); err == nil {
		t.Error("read error swallowed")
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }
