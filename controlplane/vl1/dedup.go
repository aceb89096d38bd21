package vl1

import (
	"encoding/binary"
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
	ring [dedupSize]uint64
	set  map[uint64]struct{}
	next int
}

const dedupSize = 16384

// dedupKey folds (src, id, from) into 64 bits: the ID is the sender's
// random number, mixed with the address and path. A collision would drop
// one authenticated packet; with 16,384 remembered keys its odds are
// about 2^-50 per packet.
func dedupKey(src identity.Address, id uint64, from netip.AddrPort) uint64 {
	a := from.Addr().As16()
	hi := binary.LittleEndian.Uint64(a[:8])
	lo := binary.LittleEndian.Uint64(a[8:])
	h := id ^ mix64(uint64(src)<<16|uint64(from.Port()))
	h ^= mix64(hi ^ mix64(lo))
	if h == 0 {
		h = 1 // 0 marks an empty ring slot
	}
	return h
}

// mix64 is the splitmix64 finalizer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// seen records (src, id, from) and reports whether it was already there.
func (d *dedup) seen(src identity.Address, id uint64, from netip.AddrPort) bool {
	k := dedupKey(src, id, from)
	if d.set == nil {
		d.set = make(map[uint64]struct{}, dedupSize)
	}
	if _, dup := d.set[k]; dup {
		return true
	}
	if old := d.ring[d.next]; old != 0 {
		delete(d.set, old)
	}
	d.ring[d.next] = k
	d.set[k] = struct{}{}
	d.next = (d.next + 1) % dedupSize
	return false
}
