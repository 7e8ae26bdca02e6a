package rules

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// FuzzScan checks the line scanner's invariants on any input: each match
// lies inside the data at the line and column it reports, and scanning
// the same data twice gives the same matches.
func FuzzScan(f *testing.F) {
	f.Add([]byte("token: " + fakeGHP + "\npassword = \"Kinko-Fake-Pa55w0rd!\"\n"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\n" + fakePEMBody + "-----END RSA PRIVATE KEY-----\n"))
	f.Add([]byte("x=postgres://u:Kf4k3-Pg-Pa55@h/db " + fakeJWT + " " + fakeAKID))
	f.Add([]byte("key\x00\xff\n\n\r\nAIza" + fakeGoogle))
	m := mustMatcher(f, nil, Allow{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var first []Match
		m.Scan(data, func(x *Match) {
			if x.Start < 0 || x.End > len(data) || x.Start >= x.End {
				t.Fatalf("span [%d,%d) outside data of %d bytes", x.Start, x.End, len(data))
			}
			if !bytes.Equal(data[x.Start:x.End], x.Secret) {
				t.Fatalf("secret %q is not data[%d:%d]", x.Secret, x.Start, x.End)
			}
			if want := 1 + bytes.Count(data[:x.Start], []byte{'\n'}); x.Line != want || x.EndLine < x.Line {
				t.Fatalf("line %d-%d, want %d", x.Line, x.EndLine, want)
			}
			ls := bytes.LastIndexByte(data[:x.Start], '\n') + 1
			if want := utf8.RuneCount(data[ls:x.Start]) + 1; x.Column != want {
				t.Fatalf("column %d, want %d", x.Column, want)
			}
			first = append(first, *x)
		})
		n := 0
		m.Scan(data, func(x *Match) {
			if n >= len(first) || first[n].Start != x.Start || first[n].Rule != x.Rule {
				t.Fatal("second scan differs")
			}
			n++
		})
		if n != len(first) {
			t.Fatal("second scan found fewer")
		}
	})
}

// FuzzGenericFind checks the Go version of the generic assignment rule
// against its regular expression: every secret the regex captures is
// found, and every secret found is captured by the regex or overlaps one
// it captures (the matcher keeps the first of overlapping secrets).
func FuzzGenericFind(f *testing.F) {
	f.Add([]byte(`DB_PASSWORD = "Kinko-Fake-Pa55w0rd!"`))
	f.Add([]byte(`{"api_key": \"k1nk0-f4k3-4p1\", 'token':'abcdefgh12'}`))
	f.Add([]byte("a_token=x_password=longvalue1 secret:=`bq-value-1` auth => 'x'"))
	var generic *Rule
	rs, err := Build(nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range rs {
		if r.ID() == "generic-secret" {
			generic = r
		}
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.IndexByte(line, '\n') >= 0 {
			return
		}
		var fromRegex, fromFind [][2]int
		for _, loc := range generic.re.FindAllSubmatchIndex(line, -1) {
			for _, g := range generic.secretIdx {
				if loc[2*g] >= 0 {
					fromRegex = append(fromRegex, [2]int{loc[2*g], loc[2*g+1]})
					break
				}
			}
		}
		genericFind(line, func(_, _, vs, ve int) { fromFind = append(fromFind, [2]int{vs, ve}) })
		has := func(set [][2]int, s [2]int, overlap bool) bool {
			for _, x := range set {
				if x == s || (overlap && s[0] < x[1] && x[0] < s[1]) {
					return true
				}
			}
			return false
		}
		for _, s := range fromRegex {
			if !has(fromFind, s, false) {
				t.Fatalf("regex found %q, find did not (%v)", line[s[0]:s[1]], fromFind)
			}
		}
		for _, s := range fromFind {
			if !has(fromRegex, s, true) {
				t.Fatalf("find found %q, regex did not (%v)", line[s[0]:s[1]], fromRegex)
			}
		}
	})
}
