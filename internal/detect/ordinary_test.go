package detect

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// actor is one identity of the simulated ordinary workload.
type actor struct {
	entity   string // empty for a token without entity
	accessor string
	human    bool
	weight   float64  // share of the traffic
	paths    []string // its secrets
	addrs    []string // its client addresses
	burst    int      // reads per visit (pooled services read in bursts)
}

// ordinaryActors builds 20 identities: services with their own secrets
// and a stable address, people who log in (sometimes mistyping their
// password) from their office or home, two long-lived tokens without an
// entity, and a backup job that reads everything it owns every six hours.
func ordinaryActors() []*actor {
	var as []*actor
	for i := range 12 {
		a := &actor{entity: fmt.Sprintf("svc-%02d", i), accessor: fmt.Sprintf("acc-svc-%02d", i), weight: 1, burst: 1,
			addrs: []string{fmt.Sprintf("10.20.%d.%d", i, 10+i)}}
		if i%3 == 0 {
			a.addrs = []string{fmt.Sprintf("2001:db8:20:%x::%x", i, 100+i)}
		}
		for j := range 2 + i%4 {
			a.paths = append(a.paths, fmt.Sprintf("secret/data/svc-%02d/%s", i, []string{"db", "api-key", "tls", "queue", "s3"}[j]))
		}
		if i%4 == 1 {
			a.paths = append(a.paths, fmt.Sprintf("database/creds/svc-%02d", i))
		}
		as = append(as, a)
	}
	as[0].weight, as[0].burst = 6, 12 // a busy service with a connection pool
	for i := range 5 {
		u := fmt.Sprintf("user%d", i)
		a := &actor{entity: "ent-" + u, accessor: "acc-" + u, human: true, weight: 0.6, burst: 1,
			paths: []string{"secret/data/team/" + u, "secret/data/team/shared", "secret/data/team/wiki-token"},
			addrs: []string{fmt.Sprintf("192.0.2.%d", 30+i), fmt.Sprintf("192.0.2.%d", 60+i)}}
		if i == 0 {
			a.addrs = append(a.addrs, "198.51.100.77") // works from home too
		}
		as = append(as, a)
	}
	for i := range 2 {
		as = append(as, &actor{accessor: fmt.Sprintf("acc-ci-%d", i), weight: 0.8, burst: 1,
			paths: []string{fmt.Sprintf("secret/data/ci/deploy-%d", i), "secret/data/ci/registry"},
			addrs: []string{fmt.Sprintf("10.99.0.%d", 5+i)}})
	}
	as = append(as, &actor{entity: "backup", accessor: "acc-backup", weight: 0, burst: 1,
		paths: []string{"secret/data/backup/s3", "secret/data/backup/gpg", "secret/data/backup/db-a",
			"secret/data/backup/db-b", "secret/data/backup/db-c", "secret/data/backup/ssh"},
		addrs: []string{"10.30.0.4"}})
	return as
}

// workload generates ordinary traffic over simulated time.
type workload struct {
	rng    *rand.Rand
	s      seq
	at     time.Time
	actors []*actor
	total  float64
	out    []Event
}

func (w *workload) pick() *actor {
	x := w.rng.Float64() * w.total
	for _, a := range w.actors {
		if x -= a.weight; x < 0 {
			return a
		}
	}
	return w.actors[0]
}

func (w *workload) ev(a *actor, op, path string) Event {
	return Event{RequestID: w.s.id(), Time: w.at, Operation: op, Path: path, MountPoint: "secret/", MountType: "kv",
		RemoteAddr: a.addrs[w.rng.IntN(len(a.addrs))], Accessor: a.accessor, EntityID: a.entity,
		DisplayName: a.entity, Policies: []string{"default", a.entity}}
}

// visit is one interaction of an actor: mostly secret reads, sometimes a
// list, a write, a token renewal, a login, or a denied request.
func (w *workload) visit(a *actor) {
	r := w.rng.Float64()
	switch {
	case a.human && r < 0.08:
		w.login(a)
	case r < 0.01:
		ev := w.ev(a, "read", "secret/data/team/admin-only") // not allowed: a legitimate mistake
		ev.Denied, ev.Failed = true, true
		w.out = append(w.out, ev)
	case r < 0.05:
		w.out = append(w.out, w.ev(a, "list", "secret/metadata/"))
	case r < 0.08:
		w.out = append(w.out, w.ev(a, "update", "auth/token/renew-self"))
	case r < 0.10:
		w.out = append(w.out, w.ev(a, "update", a.paths[w.rng.IntN(len(a.paths))]))
	default:
		for range a.burst {
			w.out = append(w.out, w.ev(a, "read", a.paths[w.rng.IntN(len(a.paths))]))
			w.at = w.at.Add(time.Duration(w.rng.IntN(300)) * time.Millisecond)
		}
	}
}

// login is a human's login; one in twenty mistypes the password first.
func (w *workload) login(a *actor) {
	ev := w.ev(a, "update", "auth/userpass/login/"+a.entity[len("ent-"):])
	ev.Accessor, ev.EntityID, ev.Login = "", "", true
	if w.rng.IntN(20) == 0 {
		bad := ev
		bad.Failed, bad.Denied = true, true
		w.out = append(w.out, bad)
		w.at = w.at.Add(5 * time.Second)
		ev.RequestID, ev.Time = w.s.id(), w.at
	}
	w.out = append(w.out, ev)
}

func ordinaryTraffic(n int, seed uint64) []Event {
	w := &workload{rng: rand.New(rand.NewPCG(seed, 42)), at: t0, actors: ordinaryActors()}
	for _, a := range w.actors {
		w.total += a.weight
	}
	backup := w.actors[len(w.actors)-1]
	nextBackup := t0
	for len(w.out) < n {
		if !w.at.Before(nextBackup) {
			for _, p := range backup.paths {
				w.out = append(w.out, w.ev(backup, "read", p))
			}
			nextBackup = nextBackup.Add(6 * time.Hour)
		}
		w.visit(w.pick())
		// a visit every two minutes on average, exponentially spaced
		w.at = w.at.Add(time.Duration(-math.Log(1-w.rng.Float64()) * float64(2*time.Minute)))
	}
	return w.out[:n]
}

// TestOrdinaryTrafficHasNoFinding is the false-positive test: 10,000
// ordinary requests from 20 identities over three and a half simulated
// days, with the default rules, raise nothing.
func TestOrdinaryTrafficHasNoFinding(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			evs := ordinaryTraffic(10_000, seed)
			f := newFx(t)
			f.feed(evs...)
			if got := f.d.Findings(FindingQuery{}); len(got) != 0 {
				for _, fd := range got {
					t.Errorf("%s: %s", fd.Rule, fd.Summary)
				}
			}
			st := f.d.Stats()
			if st.Processed != 10_000 || st.Dropped != 0 || st.TrackedIdentities != 20 {
				t.Fatalf("stats %+v", st)
			}
			if span := evs[len(evs)-1].Time.Sub(evs[0].Time); span < 3*day {
				t.Fatalf("traffic spans only %s", span)
			}
			// The profiles are learned, so the test is not vacuous: most
			// identities would be judged, and one stolen-token read after
			// the same traffic raises findings.
			if paths, nets := learnedProfiles(f.d); paths < 15 || nets < 15 {
				t.Fatalf("only %d path and %d network profiles learned", paths, nets)
			}
			last := evs[len(evs)-1]
			thief := Event{RequestID: "thief", Time: last.Time.Add(time.Minute), Operation: "read", Path: "secret/data/svc-05/db",
				EntityID: "svc-00", Accessor: "acc-svc-00", RemoteAddr: "203.0.113.9"}
			f.feed(thief)
			got := f.d.Findings(FindingQuery{})
			rules := map[string]bool{}
			for _, fd := range got {
				rules[fd.Rule] = true
			}
			if !rules[RuleNewSecretAccess] || !rules[RuleNewCIDR] || len(got) != 2 {
				t.Fatalf("stolen token read raised %+v", got)
			}
		})
	}
}

// learnedProfiles counts the profiles whose path and network sets are
// learned. It reads detector state, so the detector must be idle.
func learnedProfiles(d *Detector) (paths, nets int) {
	for _, n := range d.eng.profiles.items {
		if n.val.pathsLearned {
			paths++
		}
		if n.val.netsLearned {
			nets++
		}
	}
	return paths, nets
}
