package xdp

import (
	"fmt"
	"strings"
)

// Counter is one of the program's counters (bpf/ztx.h enum counter): what
// happened to a frame, and why. Every frame counts in exactly one.
type Counter uint32

// The counters, tied to the C enum through the generated constants.
const (
	PassNotZT            = Counter(ztxCounterCOUNTER_PASS_NOT_ZT)         // not IPv4/IPv6 UDP to a node port
	PassUnsupported      = Counter(ztxCounterCOUNTER_PASS_UNSUPPORTED)    // IPv4 options, IP fragments, IPv6 extension headers, stacked VLANs
	PassMalformed        = Counter(ztxCounterCOUNTER_PASS_MALFORMED)      // truncated or inconsistent headers, bad IPv4 checksum, short datagram
	PassControl          = Counter(ztxCounterCOUNTER_PASS_CONTROL)        // ZeroTier for this node that is not a trusted-path FRAME
	PassTrustedOther     = Counter(ztxCounterCOUNTER_PASS_TRUSTED_OTHER)  // trusted path, but fragmented, compressed or another verb
	PassTrustedBadID     = Counter(ztxCounterCOUNTER_PASS_TRUSTED_BAD_ID) // suite 2 from an untrusted source or with a wrong ID
	PassNoNetwork        = Counter(ztxCounterCOUNTER_PASS_NO_NETWORK)     // trusted FRAME for a network without an interface
	PassNoRoute          = Counter(ztxCounterCOUNTER_PASS_NO_ROUTE)       // for another node with no relay path
	PassNoPair           = Counter(ztxCounterCOUNTER_PASS_NO_PAIR)        // relay pair not introduced yet
	PassHops             = Counter(ztxCounterCOUNTER_PASS_HOPS)           // relay hop limit reached
	PassNoChecksum       = Counter(ztxCounterCOUNTER_PASS_NO_CSUM)        // IPv6 relay of a datagram that came without a UDP checksum
	PassError            = Counter(ztxCounterCOUNTER_PASS_ERROR)          // a helper failed (headroom)
	Trusted              = Counter(ztxCounterCOUNTER_TRUSTED)             // trusted FRAME delivered (XDP_REDIRECT)
	RelayTX              = Counter(ztxCounterCOUNTER_RELAY_TX)            // relayed out of the ingress interface (XDP_TX)
	RelayRedirect        = Counter(ztxCounterCOUNTER_RELAY_REDIRECT)      // relayed out of another interface (XDP_REDIRECT)
	NumCounters      int = int(ztxCounterCOUNTER_MAX)
)

var counterNames = [NumCounters]string{
	PassNotZT:        "pass_not_zt",
	PassUnsupported:  "pass_unsupported",
	PassMalformed:    "pass_malformed",
	PassControl:      "pass_control",
	PassTrustedOther: "pass_trusted_other",
	PassTrustedBadID: "pass_trusted_bad_id",
	PassNoNetwork:    "pass_no_network",
	PassNoRoute:      "pass_no_route",
	PassNoPair:       "pass_no_pair",
	PassHops:         "pass_hops",
	PassNoChecksum:   "pass_no_csum",
	PassError:        "pass_error",
	Trusted:          "trusted",
	RelayTX:          "relay_tx",
	RelayRedirect:    "relay_redirect",
}

// String is the counter's name in snake case, as ztctl and metrics show it.
func (c Counter) String() string {
	if int(c) < NumCounters && counterNames[c] != "" {
		return counterNames[c]
	}
	return fmt.Sprintf("Counter(%d)", uint32(c))
}

// Count is a counter's value.
type Count struct {
	Packets uint64
	Bytes   uint64 // frame lengths as received
}

// Counters holds every counter's value, indexed by Counter.
type Counters [NumCounters]Count

// String lists the counters that are not zero, as name=packets/bytesB.
func (c Counters) String() string {
	var b strings.Builder
	for i, v := range c {
		if v == (Count{}) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%v=%d/%dB", Counter(i), v.Packets, v.Bytes)
	}
	return b.String()
}
