package core

import (
	"errors"
	"net"
	"strings"

	"github.com/kinko-dev/kinko/internal/audit"
	"github.com/kinko-dev/kinko/internal/detect"
	"github.com/kinko-dev/kinko/internal/logical"
)

// observer is the detector as the request pipeline sees it: Observe must
// not block.
type observer interface {
	Observe(ev detect.Event)
}

// observe counts a refused request and hands it, like every audited
// request, to the detector.
func (c *Core) observe(st *unsealedState, in *audit.Input, login bool) {
	if errors.Is(in.Err, logical.ErrPermissionDenied) {
		c.denied.Inc()
	}
	if st.detector == nil {
		return
	}
	st.detector.Observe(eventFor(in, login))
}

// eventFor turns an audited request into the detector's view of it: no
// token, only its accessor.
func eventFor(in *audit.Input, login bool) detect.Event {
	r := in.Request
	ev := detect.Event{
		RequestID: r.ID, Time: in.Time, Operation: string(r.Operation), Path: r.Path,
		MountPoint: in.MountPoint, MountType: in.MountType, Login: login,
		Failed: in.Err != nil, Denied: errors.Is(in.Err, logical.ErrPermissionDenied),
		RevokedParent: in.Err == errRevokedParentToken,
	}
	if r.Conn != nil {
		ev.RemoteAddr = r.Conn.RemoteAddr
		if host, _, err := net.SplitHostPort(ev.RemoteAddr); err == nil {
			ev.RemoteAddr = host
		}
	}
	if a := in.Auth; a != nil {
		ev.Accessor, ev.EntityID, ev.DisplayName, ev.Policies = a.Accessor, a.EntityID, a.DisplayName, a.Policies
		ev.Root = contains(a.Policies, "root")
	}
	return ev
}

// isLogin reports whether an unauthenticated request to an auth mount is
// a login (or an OIDC callback completing one).
func isLogin(fullPath string, unauthenticated bool) bool {
	return unauthenticated && strings.HasPrefix(fullPath, "auth/") &&
		(strings.Contains(fullPath, "/login") || strings.HasSuffix(fullPath, "/oidc/callback"))
}
