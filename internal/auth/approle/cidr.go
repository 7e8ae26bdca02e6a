package approle

import (
	"net/netip"
	"strings"
)

// parsePrefix parses a CIDR block or a bare address (a one-address block).
func parsePrefix(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-unmapBits(p.Addr())).Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// unmapBits is how many prefix bits an IPv4-mapped IPv6 address loses when
// unmapped.
func unmapBits(a netip.Addr) int {
	if a.Is4In6() {
		return 96
	}
	return 0
}

// cidrSubset reports whether every block of inner lies inside some block of
// outer. Unparsable blocks are never a subset.
func cidrSubset(inner, outer []string) bool {
	parents := make([]netip.Prefix, 0, len(outer))
	for _, o := range outer {
		if p, ok := parsePrefix(o); ok {
			parents = append(parents, p)
		}
	}
	for _, i := range inner {
		c, ok := parsePrefix(i)
		if !ok || !insideAny(c, parents) {
			return false
		}
	}
	return true
}

func insideAny(c netip.Prefix, parents []netip.Prefix) bool {
	for _, p := range parents {
		if p.Addr().Is4() == c.Addr().Is4() && p.Bits() <= c.Bits() && p.Contains(c.Addr()) {
			return true
		}
	}
	return false
}
