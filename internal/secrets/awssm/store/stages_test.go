package store

import (
	"maps"
	"slices"
	"testing"
)

// TestUpdateSecretVersionStageSequence moves and removes labels step by
// step from versions v0 (AWSPREVIOUS), v1 (AWSCURRENT), v2 (BLUE).
func TestUpdateSecretVersionStageSequence(t *testing.T) {
	e := newEnv(t)
	e.create(t, "s", "v0")
	e.put(t, "s", 1, "v1")
	e.put(t, "s", 2, "v2", "BLUE")
	type m = map[string][]string
	steps := []struct {
		name string
		in   UpdateSecretVersionStageInput
		code string
		want m
	}{
		{"add a new label", UpdateSecretVersionStageInput{VersionStage: "GREEN", MoveToVersionId: tok(0)}, "",
			m{tok(0): labels("GREEN", StagePrevious), tok(1): {StageCurrent}, tok(2): {"BLUE"}}},
		{"move without RemoveFromVersionId", UpdateSecretVersionStageInput{VersionStage: "BLUE", MoveToVersionId: tok(1)}, CodeInvalidParameter,
			m{tok(0): labels("GREEN", StagePrevious), tok(1): {StageCurrent}, tok(2): {"BLUE"}}},
		{"move with the wrong RemoveFromVersionId", UpdateSecretVersionStageInput{VersionStage: "BLUE", MoveToVersionId: tok(1), RemoveFromVersionId: tok(0)}, CodeInvalidParameter,
			m{tok(0): labels("GREEN", StagePrevious), tok(1): {StageCurrent}, tok(2): {"BLUE"}}},
		{"move", UpdateSecretVersionStageInput{VersionStage: "BLUE", MoveToVersionId: tok(1), RemoveFromVersionId: tok(2)}, "",
			m{tok(0): labels("GREEN", StagePrevious), tok(1): labels("BLUE", StageCurrent)}},
		{"move onto its own version: no-op", UpdateSecretVersionStageInput{VersionStage: "BLUE", MoveToVersionId: tok(1)}, "",
			m{tok(0): labels("GREEN", StagePrevious), tok(1): labels("BLUE", StageCurrent)}},
		{"move AWSCURRENT back: AWSPREVIOUS follows", UpdateSecretVersionStageInput{VersionStage: StageCurrent, MoveToVersionId: tok(2), RemoveFromVersionId: tok(1)}, "",
			m{tok(0): {"GREEN"}, tok(1): labels("BLUE", StagePrevious), tok(2): {StageCurrent}}},
		{"AWSCURRENT without RemoveFromVersionId", UpdateSecretVersionStageInput{VersionStage: StageCurrent, MoveToVersionId: tok(0)}, CodeInvalidParameter,
			m{tok(0): {"GREEN"}, tok(1): labels("BLUE", StagePrevious), tok(2): {StageCurrent}}},
		{"AWSCURRENT onto AWSPREVIOUS's version", UpdateSecretVersionStageInput{VersionStage: StageCurrent, MoveToVersionId: tok(1), RemoveFromVersionId: tok(2)}, "",
			m{tok(0): {"GREEN"}, tok(1): labels("BLUE", StageCurrent), tok(2): {StagePrevious}}},
		{"remove AWSCURRENT", UpdateSecretVersionStageInput{VersionStage: StageCurrent, RemoveFromVersionId: tok(1)}, CodeInvalidParameter,
			m{tok(0): {"GREEN"}, tok(1): labels("BLUE", StageCurrent), tok(2): {StagePrevious}}},
		{"remove a label the version lacks", UpdateSecretVersionStageInput{VersionStage: "GREEN", RemoveFromVersionId: tok(1)}, CodeInvalidParameter,
			m{tok(0): {"GREEN"}, tok(1): labels("BLUE", StageCurrent), tok(2): {StagePrevious}}},
		{"remove: the version is deprecated", UpdateSecretVersionStageInput{VersionStage: "GREEN", RemoveFromVersionId: tok(0)}, "",
			m{tok(1): labels("BLUE", StageCurrent), tok(2): {StagePrevious}}},
		{"remove AWSPREVIOUS", UpdateSecretVersionStageInput{VersionStage: StagePrevious, RemoveFromVersionId: tok(2)}, "",
			m{tok(1): labels("BLUE", StageCurrent)}},
		{"label a deprecated version", UpdateSecretVersionStageInput{VersionStage: StagePending, MoveToVersionId: tok(0)}, "",
			m{tok(0): {StagePending}, tok(1): labels("BLUE", StageCurrent)}},
		{"unknown MoveToVersionId", UpdateSecretVersionStageInput{VersionStage: "X", MoveToVersionId: tok(9)}, CodeInvalidParameter,
			m{tok(0): {StagePending}, tok(1): labels("BLUE", StageCurrent)}},
		{"unknown RemoveFromVersionId", UpdateSecretVersionStageInput{VersionStage: "X", RemoveFromVersionId: tok(9)}, CodeInvalidParameter,
			m{tok(0): {StagePending}, tok(1): labels("BLUE", StageCurrent)}},
		{"neither", UpdateSecretVersionStageInput{VersionStage: "X"}, CodeInvalidParameter,
			m{tok(0): {StagePending}, tok(1): labels("BLUE", StageCurrent)}},
		{"empty label", UpdateSecretVersionStageInput{MoveToVersionId: tok(0)}, CodeInvalidParameter,
			m{tok(0): {StagePending}, tok(1): labels("BLUE", StageCurrent)}},
		{"short version ID", UpdateSecretVersionStageInput{VersionStage: "X", MoveToVersionId: "v"}, CodeInvalidParameter,
			m{tok(0): {StagePending}, tok(1): labels("BLUE", StageCurrent)}},
	}
	for _, st := range steps {
		in := st.in
		in.SecretId = "s"
		_, err := e.s.UpdateSecretVersionStage(ctx, in)
		wantCode(t, err, st.code)
		if got := e.stages(t, "s"); !maps.EqualFunc(got, st.want, slices.Equal[[]string]) {
			t.Fatalf("%s: stages %v, want %v", st.name, got, st.want)
		}
		checkInvariants(t, e.s)
	}
}

func TestUpdateSecretVersionStageLimits(t *testing.T) {
	e := newEnv(t)
	e.create(t, "s", "v0")
	e.put(t, "s", 1, "v1", "L")
	for i := 0; i < MaxLabelsPerVer-1; i++ {
		if _, err := e.s.UpdateSecretVersionStage(ctx, UpdateSecretVersionStageInput{SecretId: "s", VersionStage: tok(i), MoveToVersionId: tok(0)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.s.UpdateSecretVersionStage(ctx, UpdateSecretVersionStageInput{SecretId: "s", VersionStage: "L", MoveToVersionId: tok(0), RemoveFromVersionId: tok(1)})
	wantCode(t, err, CodeLimitExceeded)
	_, err = e.s.UpdateSecretVersionStage(ctx, UpdateSecretVersionStageInput{SecretId: "nope", VersionStage: "L", MoveToVersionId: tok(0)})
	wantCode(t, err, CodeResourceNotFound)
	e.s.DeleteSecret(ctx, DeleteSecretInput{SecretId: "s"})
	_, err = e.s.UpdateSecretVersionStage(ctx, UpdateSecretVersionStageInput{SecretId: "s", VersionStage: "L", MoveToVersionId: tok(0), RemoveFromVersionId: tok(1)})
	wantCode(t, err, CodeInvalidRequest)
}
