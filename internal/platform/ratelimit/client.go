package ratelimit

import "net/netip"

// ClientKey is the value a client's address is counted under. An IPv4
// address counts on its own (one address is typically one household or one
// NAT). IPv6 counts per /64: a single subscriber or host is normally handed
// a whole /64 and can pick any of its 2^64 addresses at will, so counting
// each one separately would let one client step around every limit. An IPv4
// address mapped into IPv6 counts as the IPv4 address it is, so a dual-stack
// listener does not give the same client two counters. A value that is not
// an address is returned as it is.
func ClientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}
