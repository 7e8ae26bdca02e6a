package policy

import (
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Names of the built-in policies.
const (
	RootPolicyName    = "root"
	DefaultPolicyName = "default"
)

// Capability names as they appear in policies and in sys/capabilities output.
const (
	CapDeny      = "deny"
	CapCreate    = "create"
	CapRead      = "read"
	CapUpdate    = "update"
	CapPatch     = "patch"
	CapDelete    = "delete"
	CapList      = "list"
	CapSudo      = "sudo"
	CapSubscribe = "subscribe"
	CapRecover   = "recover"
	// CapRoot is reported by ACL.Capabilities for the root policy only; it
	// cannot be written in a policy.
	CapRoot = "root"
)

// Limits on what Parse accepts, so that a policy cannot exhaust memory or
// stack while being parsed or compiled.
const (
	MaxPolicySize  = 1 << 20 // bytes of policy text
	MaxPaths       = 4096    // path blocks in one policy
	MaxNameLength  = 128     // bytes in a policy name
	maxNestDepth   = 32      // nesting of {} and [] in the text
	maxParamValues = 1024    // values listed for one parameter
)

// capBits is a set of capabilities.
type capBits uint16

const (
	bitDeny capBits = 1 << iota
	bitCreate
	bitRead
	bitUpdate
	bitPatch
	bitDelete
	bitList
	bitSudo
	bitSubscribe
	bitRecover
)

// capNames lists every capability in alphabetical order, which is the order
// ACL.Capabilities reports them in.
var capNames = []struct {
	name string
	bit  capBits
}{
	{CapCreate, bitCreate},
	{CapDelete, bitDelete},
	{CapDeny, bitDeny},
	{CapList, bitList},
	{CapPatch, bitPatch},
	{CapRead, bitRead},
	{CapRecover, bitRecover},
	{CapSubscribe, bitSubscribe},
	{CapSudo, bitSudo},
	{CapUpdate, bitUpdate},
}

func capByName(name string) (capBits, bool) {
	for _, c := range capNames {
		if c.name == name {
			return c.bit, true
		}
	}
	return 0, false
}

// names returns the capability names in b, alphabetically.
func (b capBits) names() []string {
	out := make([]string, 0, 4)
	for _, c := range capNames {
		if b&c.bit != 0 {
			out = append(out, c.name)
		}
	}
	return out
}

// Policy is one parsed, named ACL policy. It is immutable after Parse.
type Policy struct {
	Name  string       // lower-case
	Raw   string       // the text as written, returned by sys/policy reads
	Paths []*PathRules // in the order written
	// Templated reports that at least one path uses identity templating.
	Templated bool

	root bool
}

// IsRoot reports whether p is the built-in root policy.
func (p *Policy) IsRoot() bool { return p != nil && p.root }

// RootPolicy returns the built-in root policy, which grants everything.
func RootPolicy() *Policy { return &Policy{Name: RootPolicyName, root: true} }

// PathRules is one path block of a policy.
type PathRules struct {
	// Path is the pattern as written, without a leading "/", keeping a
	// trailing "*".
	Path string
	// Capabilities are the capability names granted, deduplicated and
	// sorted; just ["deny"] when the block denies.
	Capabilities []string
	// AllowedParameters and DeniedParameters map a lower-case parameter name
	// (or "*") to the values allowed or denied; an empty list means any
	// value. Values are strings (which may start or end with a "*" glob),
	// int64, float64 or bool. Nil when the block does not set them.
	AllowedParameters map[string][]any
	DeniedParameters  map[string][]any
	// RequiredParameters must all be present in create/update/patch data.
	RequiredParameters []string
	// MinWrappingTTL and MaxWrappingTTL, when non-zero, require the response
	// to be wrapped with a TTL in that range.
	MinWrappingTTL time.Duration
	MaxWrappingTTL time.Duration
	// SubscribeEventTypes is kept for Vault compatibility (event streams).
	SubscribeEventTypes []string
	// Templated reports identity templating in Path; such rules are skipped
	// by NewACL.
	Templated bool

	caps capBits
}

// NormalizeName lower-cases and trims a policy name and checks it: letters,
// digits, '-', '_' and '.', at most MaxNameLength bytes.
func NormalizeName(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		return "", logical.Errorf(logical.ErrInvalidRequest, "policy name must not be empty")
	}
	if len(n) > MaxNameLength {
		return "", logical.Errorf(logical.ErrInvalidRequest,
			"policy name is %d bytes long; the limit is %d", len(n), MaxNameLength)
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return "", logical.Errorf(logical.ErrInvalidRequest,
				"policy name %q has an invalid character at byte %d: use only letters, digits, '-', '_' and '.'",
				n, i)
		}
	}
	if n == "." || n == ".." {
		return "", logical.Errorf(logical.ErrInvalidRequest, "policy name %q is not allowed", n)
	}
	return n, nil
}

// DefaultPolicy is the text of the built-in "default" policy attached to
// tokens unless they opt out. It matches Vault's default policy in effect.
const DefaultPolicy = `# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
    capabilities = ["read"]
}

# Allow tokens to renew themselves
path "auth/token/renew-self" {
    capabilities = ["update"]
}

# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own capabilities on a path
path "sys/capabilities-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own entity by id or name
path "identity/entity/id/{{identity.entity.id}}" {
  capabilities = ["read"]
}
path "identity/entity/name/{{identity.entity.name}}" {
  capabilities = ["read"]
}

# Allow a token to look up its resultant ACL from all policies (used by UIs)
path "sys/internal/ui/resultant-acl" {
    capabilities = ["read"]
}

# Allow a token to renew a lease via lease_id in the request body; old path
# for old clients, new path for newer
path "sys/renew" {
    capabilities = ["update"]
}
path "sys/leases/renew" {
    capabilities = ["update"]
}

# Allow looking up lease properties. This requires knowing the lease ID ahead
# of time and does not divulge any sensitive information.
path "sys/leases/lookup" {
    capabilities = ["update"]
}

# Allow a token to manage its own cubbyhole
path "cubbyhole/*" {
    capabilities = ["create", "read", "update", "delete", "list"]
}

# Allow a token to wrap arbitrary values in a response-wrapping token
path "sys/wrapping/wrap" {
    capabilities = ["update"]
}

# Allow a token to look up the creation time and TTL of a given
# response-wrapping token
path "sys/wrapping/lookup" {
    capabilities = ["update"]
}

# Allow a token to unwrap a response-wrapping token
path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}

# Allow general purpose tools
path "sys/tools/hash" {
    capabilities = ["update"]
}
path "sys/tools/hash/*" {
    capabilities = ["update"]
}

# Allow checking the status of a Control Group request if the user has the
# accessor
path "sys/control-group/request" {
    capabilities = ["update"]
}

# Allow a token to make requests to the Authorization Endpoint for OIDC
# providers
path "identity/oidc/provider/+/authorize" {
    capabilities = ["read", "update"]
}
`
