package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Run refreshes cached reads every RefreshInterval and renews cached
// leases until ctx ends.
func (p *Proxy) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.every(ctx, p.cfg.RefreshInterval, p.RefreshNow) }()
	go func() { defer wg.Done(); p.every(ctx, min(p.cfg.RefreshInterval, time.Second), p.maintainLeases) }()
	wg.Wait()
}

func (p *Proxy) every(ctx context.Context, d time.Duration, fn func(context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}

// RefreshNow re-reads every cached response without a lease that was used
// within the last TTL: a changed answer replaces it, a 404 or 403 drops
// it, an unreachable server leaves it to expire at its time.
func (p *Proxy) RefreshNow(ctx context.Context) {
	_, entries := p.lru.Snapshot()
	now := p.cfg.Now()
	work := make(chan *entry)
	var wg sync.WaitGroup
	for range refreshWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range work {
				p.refreshOne(ctx, e)
			}
		}()
	}
	for _, e := range entries {
		if e.leased() || !now.Before(e.expires) || now.Sub(time.Unix(0, e.used.Load())) > p.cfg.TTL {
			continue
		}
		select {
		case work <- e:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
}

func (p *Proxy) refreshOne(ctx context.Context, old *entry) {
	tok, err := p.entryToken(ctx, old)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, upstreamTimeout)
	defer cancel()
	e, err := p.fetch(ctx, old.method, old.path, old.query, tok)
	if err != nil {
		p.log.Debug("refresh failed; the cached entry is kept until it expires", "path", old.path, "error", err)
		return
	}
	p.refreshes.Add(1)
	switch {
	case e.cacheable && !e.leased():
		e.used = old.used
		p.replace(old, e)
	case e.status == http.StatusNotFound || e.status == http.StatusForbidden:
		p.replace(old, nil)
		p.log.Info("a cached secret is gone or no longer allowed; dropped", "path", old.path, "status", e.status)
	}
}

// replace swaps old for e (drops old when e is nil), unless old is no
// longer the stored entry (invalidated or replaced meanwhile).
func (p *Proxy) replace(old, e *entry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cur, ok := p.lru.Peek(old.key); !ok || cur != old {
		return
	}
	if e == nil {
		p.lru.Remove(old.key)
		return
	}
	p.lru.Add(old.key, e)
}

// maintainLeases drops expired entries and renews the leases due.
func (p *Proxy) maintainLeases(ctx context.Context) {
	now := p.cfg.Now()
	p.lru.RemoveIf(func(_ string, e *entry) bool { return !now.Before(e.expires) })
	_, entries := p.lru.Snapshot()
	for _, e := range entries {
		if e.leased() && !e.renewAt.IsZero() && !now.Before(e.renewAt) {
			p.renewLease(ctx, e)
		}
	}
}

func (p *Proxy) renewLease(ctx context.Context, old *entry) {
	tok, err := p.entryToken(ctx, old)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, upstreamTimeout)
	defer cancel()
	newDur, renewable, err := p.renewRequest(ctx, tok, old)
	now := p.cfg.Now()
	e := *old
	if err != nil || newDur <= 0 {
		// retry at a third of what is left, unless that is under a second
		e.renewAt = time.Time{}
		if left := old.expires.Sub(now) / 3; left >= time.Second {
			e.renewAt = now.Add(left)
		}
		p.log.Warn("lease renewal failed", "path", old.path, "error", err)
		p.replace(old, &e)
		return
	}
	p.renewals.Add(1)
	e.renewable = renewable
	e.setLease(now, newDur)
	e.body = withLeaseDuration(old.body, newDur)
	p.replace(old, &e)
	p.log.Debug("lease renewed", "path", old.path, "ttl", newDur)
}

// renewRequest renews old's lease for its last duration and returns the
// granted duration.
func (p *Proxy) renewRequest(ctx context.Context, tok reqToken, old *entry) (time.Duration, bool, error) {
	body, _ := json.Marshal(map[string]any{"lease_id": old.leaseID, "increment": int64(old.leaseDur / time.Second)})
	u := *p.cfg.Upstream
	u.Path = strings.TrimRight(u.Path, "/") + "/v1/sys/leases/renew"
	u.RawPath, u.RawQuery = "", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, false, err
	}
	setToken(req.Header, tok)
	req.Header.Set("Content-Type", "application/json")
	p.upstream.Add(1)
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	var out struct {
		LeaseDuration int64 `json:"lease_duration"`
		Renewable     bool  `json:"renewable"`
	}
	if resp.StatusCode != http.StatusOK {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, refusedBodyLimit))
		p.noteRefused(tok, resp.StatusCode, head)
		return 0, false, &statusError{resp.StatusCode}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, false, err
	}
	return time.Duration(out.LeaseDuration) * time.Second, out.Renewable, nil
}

type statusError struct{ status int }

func (e *statusError) Error() string { return "the server answered " + http.StatusText(e.status) }

// withLeaseDuration returns body with its lease_duration set to d (body
// unchanged if it cannot be decoded).
func withLeaseDuration(body []byte, d time.Duration) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return body
	}
	m["lease_duration"] = int64(d / time.Second)
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return append(out, '\n')
}

// TokenChanged drops the entries holding leases read with the agent's
// token: they belong to the previous token, and die with it.
func (p *Proxy) TokenChanged() {
	p.mu.Lock()
	p.gen++
	n := p.lru.RemoveIf(func(_ string, e *entry) bool { return e.leased() && e.token == "" })
	p.mu.Unlock()
	if n > 0 {
		p.invalidated.Add(int64(n))
		p.log.Info("new token: dropped the cached leases of the previous one", "entries", n)
	}
}

// Invalidate drops the cached reads a write or delete of apiPath may have
// changed: those of apiPath itself, of the paths below it, of its parent
// (a list), and of its sibling views, the paths that differ from it in one
// segment other than the last (secret/metadata/x for secret/data/x,
// aws-sm/secrets/x for aws-sm/stage/x).
func (p *Proxy) Invalidate(apiPath string) {
	apiPath = strings.Trim(apiPath, "/")
	segs := strings.Split(apiPath, "/")
	parent := ""
	if i := strings.LastIndexByte(apiPath, '/'); i >= 0 {
		parent = apiPath[:i]
	}
	p.mu.Lock()
	p.gen++
	n := p.lru.RemoveIf(func(_ string, e *entry) bool {
		ep := strings.Trim(e.path, "/")
		return ep == apiPath || strings.HasPrefix(ep, apiPath+"/") || (parent != "" && ep == parent) || siblingView(segs, ep)
	})
	p.mu.Unlock()
	p.invalidated.Add(int64(n))
}

func siblingView(segs []string, path string) bool {
	other := strings.Split(path, "/")
	if len(other) != len(segs) || len(segs) < 2 {
		return false
	}
	diff := -1
	for i := range segs {
		if segs[i] != other[i] {
			if diff >= 0 {
				return false
			}
			diff = i
		}
	}
	return diff >= 0 && diff < len(segs)-1
}
