package logical

import "time"

// LeaseOptions are shared by Secret and Auth.
type LeaseOptions struct {
	TTL       time.Duration
	MaxTTL    time.Duration
	Renewable bool
	IssueTime time.Time
}

// Secret describes a lease the backend wants registered.
type Secret struct {
	LeaseOptions
	// InternalData is stored with the lease and handed back on renew and
	// revoke; it is never returned to clients.
	InternalData map[string]any
	LeaseID      string
}

// Auth describes who a caller is, or (in a login response) a token to mint.
type Auth struct {
	LeaseOptions
	ClientToken    string
	Accessor       string
	Policies       []string
	TokenPolicies  []string
	Metadata       map[string]string
	DisplayName    string
	EntityID       string
	Orphan         bool
	NumUses        int
	Period         time.Duration
	ExplicitMaxTTL time.Duration
	TokenType      string
	// InternalData is kept with the token and returned to the auth backend
	// on renew.
	InternalData map[string]any
	// Alias names the caller within the auth mount (login responses); core
	// links it to an identity entity.
	Alias *Alias
	// GroupAliases name the external groups the caller belongs to according
	// to the auth method (a JWT groups claim); core links them to identity
	// groups of type external.
	GroupAliases []*Alias
	// BoundCIDRs restricts the client addresses the minted token works from.
	BoundCIDRs []string
	// NoDefaultPolicy keeps "default" off the minted token.
	NoDefaultPolicy bool
	// MFARequirement is set by core (instead of a token) when the login
	// must be completed through sys/mfa/validate.
	MFARequirement *MFARequirement
}

// MFARequirement tells a client which second factors complete a login.
type MFARequirement struct {
	RequestID string
	// Constraints maps an enforcement name to the methods, any one of
	// which satisfies it.
	Constraints map[string][]MFAMethodRef
}

// MFAMethodRef names one MFA method a client may use.
type MFAMethodRef struct {
	Type         string
	ID           string
	UsesPasscode bool
	Name         string
}

// Alias is a caller's name within one auth mount (a username, a role ID,
// a JWT subject, a certificate name).
type Alias struct {
	Name     string
	Metadata map[string]string
}

// Response is what a backend returns.
type Response struct {
	Data     map[string]any
	Secret   *Secret
	Auth     *Auth
	Warnings []string
	// Redirect, Headers and raw bodies are for special cases (sys/metrics).
	Headers map[string][]string
	// Raw, when set, is written as the HTTP body with RawContentType and
	// RawStatus instead of the JSON envelope.
	Raw            []byte
	RawContentType string
	RawStatus      int
	// WrapInfo is set instead of Data/Auth when the response was wrapped.
	WrapInfo *WrapInfo
}

// WrapInfo describes a response-wrapping token.
type WrapInfo struct {
	Token           string
	Accessor        string
	TTL             time.Duration
	CreationTime    time.Time
	CreationPath    string
	WrappedAccessor string
}

// AddWarning appends a warning.
func (r *Response) AddWarning(w string) {
	r.Warnings = append(r.Warnings, w)
}

// DataResponse is a shortcut for a response carrying only data.
func DataResponse(data map[string]any) *Response {
	return &Response{Data: data}
}

// ListResponse is the canonical list shape: {"keys": [...]}.
func ListResponse(keys []string) *Response {
	if keys == nil {
		keys = []string{}
	}
	return &Response{Data: map[string]any{"keys": keys}}
}
