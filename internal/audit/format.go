package audit

import (
	"bytes"
	"encoding/json"
	"net"
	"strconv"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Input is one request (and, for LogResponse, its outcome) to record.
type Input struct {
	// Request is the request with its full API path ("secret/data/app").
	Request *logical.Request
	// Auth is the caller as authenticated (nil before authentication or
	// for unauthenticated paths).
	Auth          *logical.Auth
	MountPoint    string
	MountType     string
	MountAccessor string
	// Response and Err are the outcome (LogResponse only).
	Response *logical.Response
	Err      error
	Time     time.Time

	// deferred is set when the request entry of a read waits to be written
	// with its response entry.
	deferred bool
	// shared keeps the formatted auth and request parts of the request
	// entry for the response entry (one device: the common case).
	shared struct {
		dev         *Device
		authRequest []byte
	}
}

// formatter turns an Input into one JSON line for one device, in Vault's
// audit entry shape:
//
//	{"time","type","auth":{…},"request":{…},"response":{…},"error"}
type formatter struct {
	h            hasher
	hmacAccessor bool
}

func (f formatter) format(dev *Device, typ string, in *Input, buf []byte) []byte {
	e := enc{b: buf, h: f.h}
	e.b = append(e.b, '{')
	e.timeField("time", in.Time)
	e.strField("type", typ)
	if in.shared.dev == dev && dev != nil {
		// the auth and request parts are the same in both entries
		e.b = append(e.b, in.shared.authRequest...)
	} else {
		start := len(e.b)
		if in.Auth != nil {
			e.field("auth")
			f.auth(&e, in.Auth, in.Request.ClientToken)
		}
		e.field("request")
		f.request(&e, in)
		in.shared.dev, in.shared.authRequest = dev, append(in.shared.authRequest[:0], e.b[start:]...)
	}
	if typ == "response" {
		e.field("response")
		f.response(&e, in)
	}
	if in.Err != nil {
		e.strField("error", in.Err.Error())
	}
	e.b = append(e.b, '}')
	return e.b
}

func (f formatter) accessor(e *enc, name, a string) {
	if f.hmacAccessor {
		e.hashedField(name, a)
	} else {
		e.strField(name, a)
	}
}

func (f formatter) request(e *enc, in *Input) {
	r := in.Request
	e.b = append(e.b, '{')
	e.strField("id", r.ID)
	e.strField("operation", string(r.Operation))
	e.strField("mount_point", in.MountPoint)
	e.strField("mount_type", in.MountType)
	e.strField("mount_accessor", in.MountAccessor)
	e.hashedField("client_token", r.ClientToken)
	if in.Auth != nil {
		f.accessor(e, "client_token_accessor", in.Auth.Accessor)
	}
	// the AWS access key that signed the request (a public ID, as AWS's
	// own logs show it), so requests can be traced to the key
	e.strField("access_key_id", r.AccessKeyID)
	e.field("namespace")
	e.b = append(e.b, `{"id":"root"}`...)
	e.field("path")
	e.str(r.Path)
	e.dataField("data", r.Data)
	if r.Conn != nil {
		host, port := splitAddr(r.Conn.RemoteAddr)
		e.strField("remote_address", host)
		e.intField("remote_port", int64(port))
	}
	e.intField("wrap_ttl", int64(r.WrapTTL/time.Second))
	e.b = append(e.b, '}')
}

func (f formatter) auth(e *enc, a *logical.Auth, token string) {
	e.b = append(e.b, '{')
	e.hashedField("client_token", token)
	f.accessor(e, "accessor", a.Accessor)
	e.strField("display_name", a.DisplayName)
	e.strList("policies", a.Policies)
	e.strList("token_policies", a.TokenPolicies)
	e.strMap("metadata", a.Metadata)
	e.strField("entity_id", a.EntityID)
	e.intField("remaining_uses", int64(a.NumUses))
	e.strField("token_type", a.TokenType)
	e.intField("token_ttl", int64(a.TTL/time.Second))
	if !a.IssueTime.IsZero() {
		e.strField("token_issue_time", a.IssueTime.UTC().Format(time.RFC3339))
	}
	e.b = append(e.b, '}')
}

func (f formatter) response(e *enc, in *Input) {
	e.b = append(e.b, '{')
	e.strField("mount_point", in.MountPoint)
	e.strField("mount_type", in.MountType)
	e.strField("mount_accessor", in.MountAccessor)
	if r := in.Response; r != nil {
		f.responseBody(e, r)
	}
	e.b = append(e.b, '}')
}

func (f formatter) responseBody(e *enc, r *logical.Response) {
	if r.Auth != nil {
		e.field("auth")
		f.auth(e, r.Auth, r.Auth.ClientToken)
		if r.Auth.MFARequirement != nil {
			e.field("mfa_requirement")
			e.b = append(e.b, '{')
			e.strField("mfa_request_id", r.Auth.MFARequirement.RequestID)
			e.b = append(e.b, '}')
		}
	}
	if r.Secret != nil {
		e.field("secret")
		e.b = append(e.b, '{')
		e.field("lease_id")
		e.str(r.Secret.LeaseID)
		e.b = append(e.b, '}')
	}
	if r.Raw != nil {
		e.dataField("data", map[string]any{"http_status_code": r.RawStatus, "http_content_type": r.RawContentType, "http_raw_body": string(r.Raw)})
	} else {
		e.dataField("data", r.Data)
	}
	e.strList("warnings", r.Warnings)
	if w := r.WrapInfo; w != nil {
		e.field("wrap_info")
		e.b = append(e.b, '{')
		e.field("ttl")
		e.b = strconv.AppendInt(e.b, int64(w.TTL/time.Second), 10)
		e.hashedField("token", w.Token)
		f.accessor(e, "accessor", w.Accessor)
		e.timeField("creation_time", w.CreationTime)
		e.strField("creation_path", w.CreationPath)
		f.accessor(e, "wrapped_accessor", w.WrappedAccessor)
		e.b = append(e.b, '}')
	}
}

// splitAddr splits "ip:port"; an address without a port is returned whole.
func splitAddr(addr string) (string, int) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	p, _ := strconv.Atoi(port)
	return host, p
}

func decodeNumber(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}
