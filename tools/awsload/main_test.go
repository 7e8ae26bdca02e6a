package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ten := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", []time.Duration{7}, 99, 7},
		{"p50 of ten", ten, 50, 5},
		{"p90 of ten", ten, 90, 9},
		{"p99 of ten", ten, 99, 10},
		{"p100 of ten", ten, 100, 10},
		{"tiny p", ten, 0.01, 1},
	} {
		if got := percentile(tc.samples, tc.p); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       time.Duration
		wantErr    bool
	}{
		{"plain", "42 (kinko) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 0 0", 3 * time.Second, false},
		{"spaces and parens in name", "42 (a) b (c) R 1 42 42 0 -1 0 0 0 0 0 1 2 0 0", 30 * time.Millisecond, false},
		{"no name", "42 kinko S 1", 0, true},
		{"short", "42 (kinko) S 1 2 3", 0, true},
		{"not a number", "42 (kinko) S 1 42 42 0 -1 4194560 100 0 0 0 x 50", 0, true},
	} {
		got, err := parseStat(tc.line)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s: got %v, %v; want %v, error %v", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseFlags(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{"setup", []string{"-setup-token=root"}, false},
		{"keys", []string{"-access-key=KNKOX", "-secret-key=s", "-c=16", "-d=1s", "--warmup=0s"}, false},
		{"no credentials", nil, true},
		{"half a key", []string{"-access-key=KNKOX"}, true},
		{"zero clients", []string{"-setup-token=root", "-c=0"}, true},
		{"zero duration", []string{"-setup-token=root", "-d=0s"}, true},
		{"stray argument", []string{"-setup-token=root", "extra"}, true},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: error %v, want error %v", tc.name, err, tc.wantErr)
		}
	}
}

func TestParseFlagsKeysFromEnvironment(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "KNKOENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
	var help strings.Builder
	if _, err := parseFlags([]string{"-help"}, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-help: %v", err)
	}
	if strings.Contains(help.String(), "envsecret") {
		t.Fatal("-help printed the secret key from the environment")
	}
	o, err := parseFlags(nil, io.Discard)
	if err != nil || o.accessKey != "KNKOENV" || o.secretKey != "envsecret" {
		t.Fatalf("keys from the environment: %+v %v", o, err)
	}
}
