package vl1

import "github.com/ztx/ztx/crypto/identity"

// dedup remembers the IDs of recently accepted packets so that a replayed
// (or, with broadcast multipath, duplicated) packet is dropped. The
// reference has no such check. Memory is bounded: a ring of dedupSize
// entries with a set for lookups; an ID is forgotten when its slot is
// reused.
type dedup struct {
	ring [dedupSize]dedupKey
	set  map[dedupKey]struct{}
	next int
}

const dedupSize = 16384

type dedupKey struct {
	src identity.Address
	id  uint64
}

// seen records (src, id) and reports whether it was already there.
func (d *dedup) seen(src identity.Address, id uint64) bool {
	k := dedupKey{src, id}
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
