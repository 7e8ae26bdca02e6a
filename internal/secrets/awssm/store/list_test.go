package store

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// seed250 creates 250 secrets one minute apart: team<i%5>/svc<i>, tagged
// env=prod for even i, described "Database credentials" for i%3==0. It
// changes every 7th secret afterwards and reads every 10th a day later.
func seed250(t *testing.T) *env {
	e := newEnv(t)
	for i := range 250 {
		in := CreateSecretInput{Name: fmt.Sprintf("team%d/svc%03d", i%5, i), SecretString: str("v")}
		if i%2 == 0 {
			in.Tags = []Tag{{Key: "env", Value: "prod"}, {Key: "owner", Value: fmt.Sprintf("team%d", i%5)}}
		}
		if i%3 == 0 {
			in.Description = "Database credentials"
		}
		if _, err := e.s.CreateSecret(ctx, in); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
	}
	for i := 0; i < 250; i += 7 {
		e.s.TagResource(ctx, TagResourceInput{SecretId: fmt.Sprintf("team%d/svc%03d", i%5, i), Tags: []Tag{{Key: "touched", Value: "yes"}}})
		e.clock.Advance(time.Second)
	}
	e.clock.Advance(24 * time.Hour)
	for i := 0; i < 250; i += 10 {
		e.value(t, GetSecretValueInput{SecretId: fmt.Sprintf("team%d/svc%03d", i%5, i)})
	}
	return e
}

// listAll pages through ListSecrets with page size n.
func listAll(t *testing.T, s *Store, in ListSecretsInput, n int) ([]SecretListEntry, int) {
	t.Helper()
	in.MaxResults = intp(n)
	var all []SecretListEntry
	for pages := 1; ; pages++ {
		out, err := s.ListSecrets(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.SecretList) > n {
			t.Fatalf("page of %d > %d", len(out.SecretList), n)
		}
		all = append(all, out.SecretList...)
		if out.NextToken == "" {
			return all, pages
		}
		in.NextToken = out.NextToken
	}
}

func names(es []SecretListEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
	}
	return out
}

func TestListSecretsPagination(t *testing.T) {
	e := seed250(t)
	idx := func(n string) int { var i int; fmt.Sscanf(n[strings.Index(n, "svc")+3:], "%d", &i); return i }
	cases := []struct {
		name  string
		in    ListSecretsInput
		count int
		order func(a, b string) bool // expected order of names
	}{
		{"all by creation", ListSecretsInput{}, 250, func(a, b string) bool { return idx(a) < idx(b) }},
		{"desc", ListSecretsInput{SortOrder: "desc"}, 250, func(a, b string) bool { return idx(a) > idx(b) }},
		{"by name", ListSecretsInput{SortBy: "name"}, 250, func(a, b string) bool { return a < b }},
		{"by name desc, team1", ListSecretsInput{SortBy: "name", SortOrder: "desc", Filters: []Filter{{Key: "name", Values: []string{"team1/"}}}}, 50,
			func(a, b string) bool { return a > b }},
		{"prod", ListSecretsInput{Filters: []Filter{{Key: "tag-value", Values: []string{"prod"}}}}, 125, func(a, b string) bool { return idx(a) < idx(b) }},
		{"not prod", ListSecretsInput{Filters: []Filter{{Key: "tag-value", Values: []string{"!prod"}}}}, 125, nil},
		{"prod and database", ListSecretsInput{Filters: []Filter{{Key: "tag-key", Values: []string{"env"}}, {Key: "description", Values: []string{"database"}}}}, 42, nil},
		{"team0 or team3", ListSecretsInput{Filters: []Filter{{Key: "name", Values: []string{"team0", "team3"}}}}, 100, nil},
		{"by last changed", ListSecretsInput{SortBy: "last-changed-date", Filters: []Filter{{Key: "tag-key", Values: []string{"touched"}}}}, 36,
			func(a, b string) bool { return idx(a) < idx(b) }},
		{"by last accessed desc", ListSecretsInput{SortBy: "last-accessed-date", SortOrder: "desc"}, 250, nil},
	}
	for _, c := range cases {
		for _, page := range []int{1, 7, 100} {
			t.Run(fmt.Sprintf("%s/%d", c.name, page), func(t *testing.T) {
				got, pages := listAll(t, e.s, c.in, page)
				if len(got) != c.count {
					t.Fatalf("%d secrets, want %d", len(got), c.count)
				}
				if want := (c.count + page - 1) / page; pages != max(want, 1) {
					t.Fatalf("%d pages, want %d", pages, want)
				}
				ns := names(got)
				if len(slices.Compact(slices.Sorted(slices.Values(ns)))) != len(ns) {
					t.Fatal("duplicates across pages")
				}
				if c.order != nil && !sort.SliceIsSorted(ns, func(i, j int) bool { return c.order(ns[i], ns[j]) }) {
					t.Fatalf("order: %v", ns[:min(10, len(ns))])
				}
			})
		}
	}
	// last-accessed-date desc: the 25 read secrets first
	got, _ := listAll(t, e.s, ListSecretsInput{SortBy: "last-accessed-date", SortOrder: "desc"}, 100)
	for i, s := range got[:25] {
		if idx(s.Name)%10 != 0 || s.LastAccessedDate == nil {
			t.Fatalf("entry %d = %s", i, s.Name)
		}
	}
}

func TestListSecretsTokensAndDeletion(t *testing.T) {
	e := seed250(t)
	out, err := e.s.ListSecrets(ctx, ListSecretsInput{MaxResults: intp(10)})
	if err != nil || out.NextToken == "" {
		t.Fatal(err)
	}
	bad := []ListSecretsInput{
		{NextToken: "not base64!"},
		{NextToken: "e30"}, // {}
		{NextToken: out.NextToken, SortBy: "name"},
		{NextToken: out.NextToken, Filters: []Filter{{Key: "name", Values: []string{"team"}}}},
		{NextToken: out.NextToken, IncludePlannedDeletion: true},
		{NextToken: strings.Repeat("a", 4097)},
	}
	for _, in := range bad {
		_, err := e.s.ListSecrets(ctx, in)
		wantCode(t, err, CodeInvalidNextToken)
	}
	// a secret deleted between pages does not shift the next page
	next, err := e.s.ListSecrets(ctx, ListSecretsInput{MaxResults: intp(10), NextToken: out.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	e.s.DeleteSecret(ctx, DeleteSecretInput{SecretId: out.SecretList[3].Name})
	again, err := e.s.ListSecrets(ctx, ListSecretsInput{MaxResults: intp(10), NextToken: out.NextToken})
	if err != nil || !slices.Equal(names(again.SecretList), names(next.SecretList)) {
		t.Fatalf("page moved: %v vs %v (%v)", names(again.SecretList), names(next.SecretList), err)
	}
	all, _ := listAll(t, e.s, ListSecretsInput{}, 100)
	withDeleted, _ := listAll(t, e.s, ListSecretsInput{IncludePlannedDeletion: true}, 100)
	if len(all) != 249 || len(withDeleted) != 250 {
		t.Fatalf("%d listed, %d with planned deletion", len(all), len(withDeleted))
	}
	for _, in := range []ListSecretsInput{
		{MaxResults: intp(0)}, {MaxResults: intp(101)}, {SortBy: "size"}, {SortOrder: "up"},
		{Filters: make([]Filter, 11)},
		{Filters: []Filter{{Key: "name"}}},
		{Filters: []Filter{{Key: "name", Values: make([]string, 11)}}},
		{Filters: []Filter{{Key: "name", Values: []string{"a#b"}}}},
		{Filters: []Filter{{Key: "name", Values: []string{strings.Repeat("a", 513)}}}},
		{Filters: []Filter{{Key: "Name", Values: []string{"a"}}}},
	} {
		_, err := e.s.ListSecrets(ctx, in)
		wantCode(t, err, CodeInvalidParameter)
	}
}

func TestListSecretsFilters(t *testing.T) {
	e := newEnv(t)
	e.s.CreateSecret(ctx, CreateSecretInput{Name: "prod/DbCreds", Description: "Main Database", Tags: []Tag{{Key: "Team", Value: "core"}}})
	e.s.CreateSecret(ctx, CreateSecretInput{Name: "dev/api-key", Description: "api key for testing", Tags: []Tag{{Key: "team", Value: "Edge"}}})
	e.s.CreateSecret(ctx, CreateSecretInput{Name: "plain"})
	cases := []struct {
		f    []Filter
		want string
	}{
		{[]Filter{{Key: "name", Values: []string{"prod/"}}}, "prod/DbCreds"},
		{[]Filter{{Key: "name", Values: []string{"Prod/"}}}, ""},
		{[]Filter{{Key: "name", Values: []string{"!prod"}}}, "dev/api-key,plain"},
		{[]Filter{{Key: "name", Values: []string{"!prod", "!dev"}}}, "plain"},
		{[]Filter{{Key: "name", Values: []string{"dev", "!dev/api"}}}, ""},
		{[]Filter{{Key: "description", Values: []string{"main data"}}}, "prod/DbCreds"},
		{[]Filter{{Key: "description", Values: []string{"API"}}}, "dev/api-key"},
		{[]Filter{{Key: "description", Values: []string{"!api"}}}, "plain,prod/DbCreds"},
		{[]Filter{{Key: "tag-key", Values: []string{"team"}}}, "dev/api-key"},
		{[]Filter{{Key: "tag-key", Values: []string{"Te"}}}, "prod/DbCreds"},
		{[]Filter{{Key: "tag-key", Values: []string{"!Team"}}}, "dev/api-key,plain"},
		{[]Filter{{Key: "tag-value", Values: []string{"E"}}}, "dev/api-key"},
		{[]Filter{{Key: "primary-region", Values: []string{"us-east"}}}, "dev/api-key,plain,prod/DbCreds"},
		{[]Filter{{Key: "primary-region", Values: []string{"eu"}}}, ""},
		{[]Filter{{Key: "owning-service", Values: []string{"rds"}}}, ""},
		{[]Filter{{Key: "owning-service", Values: []string{"!rds"}}}, "dev/api-key,plain,prod/DbCreds"},
		{[]Filter{{Key: "all", Values: []string{"creds"}}}, "prod/DbCreds"},
		{[]Filter{{Key: "all", Values: []string{"DATABASE"}}}, "prod/DbCreds"},
		{[]Filter{{Key: "all", Values: []string{"edge"}}}, "dev/api-key"},
		{[]Filter{{Key: "all", Values: []string{"key core"}}}, "dev/api-key,prod/DbCreds"},
		{[]Filter{{Key: "all", Values: []string{"!core"}}}, "dev/api-key,plain"},
		{[]Filter{{Key: "all", Values: []string{"!"}}}, "dev/api-key,plain,prod/DbCreds"},
		{[]Filter{{Key: "name", Values: []string{""}}}, "dev/api-key,plain,prod/DbCreds"},
		{[]Filter{{Key: "name", Values: []string{"d"}}, {Key: "tag-value", Values: []string{"Edge"}}}, "dev/api-key"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.f), func(t *testing.T) {
			got, _ := listAll(t, e.s, ListSecretsInput{Filters: c.f, SortBy: "name"}, 100)
			if g := strings.Join(names(got), ","); g != c.want {
				t.Fatalf("got %q, want %q", g, c.want)
			}
		})
	}
}

func TestWords(t *testing.T) {
	cases := map[string]string{
		"credsDatabase#892": "creds database 892",
		"My_Secret":         "my secret",
		"prod/DbCreds":      "prod db creds",
		"abc123def":         "abc 123 def",
		"HTTPServer":        "httpserver",
		"":                  "",
		"--":                "",
	}
	for in, want := range cases {
		if got := strings.Join(words(in), " "); got != want {
			t.Errorf("words(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestListSecretVersionIds(t *testing.T) {
	e := newEnv(t)
	e.create(t, "s", "v0")
	for i := 1; i <= 9; i++ {
		e.clock.Advance(time.Minute)
		e.put(t, "s", i, "v")
	}
	e.s.DeleteSecret(ctx, DeleteSecretInput{SecretId: "s"})
	var ids []string
	next := ""
	for {
		out, err := e.s.ListSecretVersionIds(ctx, ListSecretVersionIdsInput{SecretId: "s", IncludeDeprecated: true, MaxResults: intp(4), NextToken: next})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out.Versions {
			ids = append(ids, v.VersionId)
		}
		if next = out.NextToken; next == "" {
			break
		}
	}
	want := []string{}
	for i := 9; i >= 0; i-- {
		want = append(want, tok(i))
	}
	if !slices.Equal(ids, want) {
		t.Fatalf("versions %v", ids)
	}
	out, err := e.s.ListSecretVersionIds(ctx, ListSecretVersionIdsInput{SecretId: "s"})
	if err != nil || len(out.Versions) != 2 || out.Versions[0].VersionId != tok(9) || !slices.Equal(out.Versions[1].VersionStages, []string{StagePrevious}) {
		t.Fatalf("labelled only: %+v, %v", out, err)
	}
	first, _ := e.s.ListSecretVersionIds(ctx, ListSecretVersionIdsInput{SecretId: "s", MaxResults: intp(1)})
	for _, in := range []ListSecretVersionIdsInput{
		{SecretId: "s", NextToken: first.NextToken, IncludeDeprecated: true},
		{SecretId: "s", NextToken: "x"},
	} {
		_, err := e.s.ListSecretVersionIds(ctx, in)
		wantCode(t, err, CodeInvalidNextToken)
	}
	_, err = e.s.ListSecretVersionIds(ctx, ListSecretVersionIdsInput{SecretId: "s", MaxResults: intp(101)})
	wantCode(t, err, CodeInvalidParameter)
	_, err = e.s.ListSecretVersionIds(ctx, ListSecretVersionIdsInput{SecretId: "nope"})
	wantCode(t, err, CodeResourceNotFound)
}
