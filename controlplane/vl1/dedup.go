package vl1

import (
	"net/netip"

	"github.com/ztx/ztx/crypto/identity"
)

// dedup remembers the IDs of recently accepted packets, with the path they
// came in on, so that a replayed packet is dropped. The reference has no
// such check. The path is part of the key because the reference sends the
// very same packet from each of its sockets on purpose (to find a path
// from each), and every copy must be answered. Memory is bounded: a ring of dedupSize
// entries with a set for lookups; an ID is forgotten when its slot is
// reused.
type dedup struct {
	ring [dedupSize]dedupKey
	set  map[dedupKey]struct{}
	next int
}

const dedupSize = 16384

type dedupKey struct {
	src  identity.Address
	id   uint64
	from netip.AddrPort
}

// seen records (src, id, from) and reports whether it was already there.
func (d *dedup) seen(src identity.Address, id uint64, from netip.AddrPort) bool {
	k := dedupKey{src, id, from}
	if d.set == nil {
		d.set = make(map[dedupKey]struct{}, dedupSize)
	}
	if _, dup := d.set[k]; dup {
		return true
	}
	if old := d.ring[d.next]; old != (dedupKey{}) {
		delete(d.set, old)
	}
	d.ring[d.next] = k
	d.set[k] = struct{}{}
	d.next = (d.next + 1) % dedupSize
	return false
}
