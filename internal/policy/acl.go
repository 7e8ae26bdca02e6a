package policy

import (
	"errors"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// ACL is the compiled, immutable union of a set of policies. It is safe for
// concurrent use.
type ACL struct {
	root   bool
	exact  map[string]*perms
	prefix prefixTree[*perms]
	// wc holds the "+" rules keyed by their literal text before the first
	// "+", each list best first; only lists whose key prefixes a path can
	// match it.
	wc    prefixTree[[]*wcRule]
	hasWC bool
}

// perms is the merged rule for one pattern.
type perms struct {
	caps     capBits
	minWrap  time.Duration
	maxWrap  time.Duration
	allowed  map[string][]any
	denied   map[string][]any
	required []string
	// params is set when any parameter constraint exists, so the common
	// case skips parameter checks entirely.
	params bool
}

// ErrRootWithOthers is returned by NewACL when the root policy is combined
// with other policies, which Vault refuses as well.
var ErrRootWithOthers = errors.New("policy: the root policy cannot be combined with other policies")

// NewACL compiles policies into an ACL. Nil policies are skipped; rules of the
// same pattern are merged. The root policy must come alone.
func NewACL(policies ...*Policy) (*ACL, error) {
	a := &ACL{exact: make(map[string]*perms)}
	for _, p := range policies {
		if p.IsRoot() {
			if countNonNil(policies) != 1 {
				return nil, ErrRootWithOthers
			}
			a.root = true
			return a, nil
		}
	}
	prefixes := make(map[string]*perms)
	wcs := make(map[string]*perms)
	for _, p := range policies {
		if p == nil {
			continue
		}
		for _, pr := range p.Paths {
			if pr.Templated {
				continue // identity templating is not resolved; Vault skips it too
			}
			switch {
			case hasSegmentWildcard(pr.Path):
				mergeInto(wcs, pr.Path, pr)
			case strings.HasSuffix(pr.Path, "*"):
				mergeInto(prefixes, strings.TrimSuffix(pr.Path, "*"), pr)
			default:
				mergeInto(a.exact, pr.Path, pr)
			}
		}
	}
	for k, v := range prefixes {
		a.prefix.insert(k, v)
	}
	for k, v := range wcs {
		r := newWCRule(k, v)
		if list := a.wc.get(r.lit); list != nil {
			*list = append(*list, r)
		} else {
			a.wc.insert(r.lit, []*wcRule{r})
		}
		a.hasWC = true
	}
	sortAll(&a.wc.root)
	return a, nil
}

func sortAll(n *rnode[[]*wcRule]) {
	sortWC(n.val)
	for _, c := range n.children {
		sortAll(c)
	}
}

func countNonNil(ps []*Policy) int {
	n := 0
	for _, p := range ps {
		if p != nil {
			n++
		}
	}
	return n
}

// mergeInto adds rule pr to m[key], merging as Vault does: deny sticks and
// clears everything else, capabilities are unioned, the smaller wrapping TTL
// bounds win, parameter lists are merged with an empty list (any value)
// taking over.
func mergeInto(m map[string]*perms, key string, pr *PathRules) {
	ex, ok := m[key]
	if !ok {
		ex = &perms{}
		m[key] = ex
	}
	if ex.caps&bitDeny != 0 {
		return
	}
	if pr.caps&bitDeny != 0 {
		*ex = perms{caps: bitDeny}
		return
	}
	ex.caps |= pr.caps
	ex.maxWrap = minPositive(ex.maxWrap, pr.MaxWrappingTTL)
	ex.minWrap = minPositive(ex.minWrap, pr.MinWrappingTTL)
	ex.allowed = mergeParams(ex.allowed, pr.AllowedParameters)
	ex.denied = mergeParams(ex.denied, pr.DeniedParameters)
	for _, r := range pr.RequiredParameters {
		if !containsString(ex.required, r) {
			ex.required = append(ex.required, r)
		}
	}
	ex.params = len(ex.allowed) > 0 || len(ex.denied) > 0 || len(ex.required) > 0
}

func minPositive(cur, next time.Duration) time.Duration {
	if next > 0 && (cur == 0 || next < cur) {
		return next
	}
	return cur
}

func mergeParams(dst, src map[string][]any) map[string][]any {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string][]any, len(src))
	}
	for k, v := range src {
		old, had := dst[k]
		if len(v) == 0 || (had && len(old) == 0) {
			dst[k] = []any{}
			continue
		}
		merged := make([]any, 0, len(v)+len(old))
		dst[k] = append(append(merged, v...), old...)
	}
	return dst
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Root reports whether the ACL comes from the root policy.
func (a *ACL) Root() bool { return a.root }

// lookup finds the winning rule for path, with Vault's special handling of
// list requests: a trailing slash is also tried without it.
func (a *ACL) lookup(path string, list bool) *perms {
	for len(path) > 0 && path[0] == '/' {
		path = path[1:]
	}
	if p, ok := a.exact[path]; ok {
		return p
	}
	trimmed, hadSlash := strings.CutSuffix(path, "/")
	if list {
		if p, ok := a.exact[trimmed]; ok {
			return p
		}
		if hadSlash {
			if p := a.nonExact(trimmed); p != nil {
				return p
			}
		}
	}
	return a.nonExact(path)
}

// nonExact returns the best glob or "+" rule matching path, or nil.
func (a *ACL) nonExact(path string) *perms {
	pp, plen, found := a.prefix.longest(path)
	if !a.hasWC {
		return pp
	}
	var best *wcRule
	nseg := strings.Count(path, "/") + 1
	a.wc.walk(path, func(_ int, rules []*wcRule) {
		for _, r := range rules {
			if r.match(path, nseg) {
				if best == nil || r.cand().beats(best.cand()) {
					best = r
				}
				return
			}
		}
	})
	switch {
	case best == nil:
		return pp
	case !found:
		return best.p
	}
	pc := candidate{firstWC: plen, prefix: true, length: plen, pattern: path[:plen]}
	if best.cand().beats(pc) {
		return best.p
	}
	return pp
}

// Capabilities returns the capabilities the ACL grants on path, sorted:
// ["root"] for the root ACL, ["deny"] when the winning rule denies or grants
// nothing, or when no rule matches.
func (a *ACL) Capabilities(path string) []string {
	if a.root {
		return []string{CapRoot}
	}
	p := a.lookup(path, true)
	if p == nil || p.caps == 0 || p.caps&bitDeny != 0 {
		return []string{CapDeny}
	}
	return p.caps.names()
}

// Result is the outcome of Check.
type Result struct {
	Allowed bool
	// Sudo reports that the winning rule grants sudo (always true for
	// root), which paths marked as root-protected require.
	Sudo bool
	// IsRoot reports the root ACL.
	IsRoot bool
}

// Allow reports whether op on path with request data is allowed, and whether
// the caller holds sudo on path. It is Check for an unwrapped request.
func (a *ACL) Allow(op logical.Operation, path string, data map[string]any) (allowed, sudo bool) {
	r := a.Check(op, path, data, 0)
	return r.Allowed, r.Sudo
}

// Check decides op on path. Each operation needs its capability; renew and
// revoke need update; help needs any capability; other operations are
// refused. data is the request data, checked against parameter constraints
// for create, update and patch only. wrapTTL is the response-wrapping TTL the
// caller asked for, 0 when not wrapping; rules with min/max_wrapping_ttl
// refuse requests outside their range, unwrapped ones included.
func (a *ACL) Check(op logical.Operation, path string, data map[string]any, wrapTTL time.Duration) Result {
	if a.root {
		return Result{Allowed: true, Sudo: true, IsRoot: true}
	}
	p := a.lookup(path, op == logical.ListOperation)
	if p == nil {
		return Result{}
	}
	res := Result{Sudo: p.caps&bitSudo != 0}
	if p.caps&bitDeny != 0 {
		return Result{}
	}
	var need capBits
	switch op {
	case logical.ReadOperation:
		need = bitRead
	case logical.ListOperation:
		need = bitList
	case logical.CreateOperation:
		need = bitCreate
	case logical.UpdateOperation, logical.RenewOperation, logical.RevokeOperation:
		need = bitUpdate
	case logical.PatchOperation:
		need = bitPatch
	case logical.DeleteOperation:
		need = bitDelete
	case logical.HelpOperation:
		res.Allowed = p.caps != 0
		return res
	default:
		return res
	}
	if p.caps&need == 0 || !wrapOK(p, wrapTTL) {
		return res
	}
	if p.params && (op == logical.CreateOperation || op == logical.UpdateOperation || op == logical.PatchOperation) {
		res.Allowed = paramsOK(p, data)
		return res
	}
	res.Allowed = true
	return res
}

func wrapOK(p *perms, ttl time.Duration) bool {
	if p.maxWrap > 0 && (ttl <= 0 || ttl > p.maxWrap) {
		return false
	}
	if p.minWrap > 0 && (ttl <= 0 || ttl < p.minWrap) {
		return false
	}
	return p.minWrap == 0 || p.maxWrap == 0 || p.minWrap <= p.maxWrap
}
