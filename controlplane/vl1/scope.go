package vl1

import (
	"net/netip"

	"github.com/ztx/ztx/headers/inet"
)

const (
	scopePseudoPrivate = int(inet.ScopePseudoPrivate)
	scopeGlobal        = int(inet.ScopeGlobal)
	scopeShared        = int(inet.ScopeShared)
	scopePrivate       = int(inet.ScopePrivate)
)

func scopeOf(ip netip.Addr) int { return int(inet.ScopeOf(ip)) }
