package packet

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Queue reassembles fragmented packets (§3.2). It is a ring of
// ReceiveQueueSize entries keyed by packet ID: pieces may arrive in any
// order, the total is learned from any fragment, duplicates are ignored, and
// a packet is complete when its head and all total-1 fragments are present.
// A piece of a packet not in the ring takes the next slot round-robin,
// evicting whatever was there (as the reference does).
//
// Unlike the reference, an entry older than ReceiveQueueTimeout ms is
// treated as gone: a late piece for it starts afresh, and Expire frees such
// entries. The time is the caller's `now` in milliseconds; the Queue reads
// no clock and starts no goroutines.
//
// Memory is bounded: an entry never holds more than MaxPacketLength bytes
// (a packet that would grow beyond that is dropped), and piece buffers are
// reused. The zero Queue is ready to use. A Queue is not safe for
// concurrent use.
type Queue struct {
	entries [ReceiveQueueSize]rxEntry
	next    int
	Stats   QueueStats
}

// QueueStats counts what a Queue did with the pieces it was given.
type QueueStats struct {
	Assembled  uint64 // packets completed
	Duplicates uint64 // pieces already present, ignored
	Rejected   uint64 // pieces refused (malformed, inconsistent, oversize)
	Evicted    uint64 // incomplete packets overwritten by the ring
	Expired    uint64 // incomplete packets dropped after the timeout
}

type rxEntry struct {
	used    bool
	id      uint64
	created int64 // ms, when the first piece arrived
	total   int   // pieces including the head; 0 until a fragment arrives
	have    uint8 // bit i set: piece i present (bit 0 = head)
	size    int   // bytes held
	pieces  [MaxPacketFragments][]byte
}

func (e *rxEntry) reset() {
	e.used, e.total, e.have, e.size = false, 0, 0, 0
	for i := range e.pieces {
		e.pieces[i] = e.pieces[i][:0]
	}
}

// Add classifies a datagram and feeds it to AddHead or AddFragment. A
// packet without FlagFragmented is complete by itself and is appended to
// dst as is.
func (q *Queue) Add(dst, b []byte, now int64) (out []byte, done bool, err error) {
	switch Classify(b) {
	case KindFragment:
		return q.AddFragment(dst, b, now)
	case KindPacket:
		if Packet(b).Fragmented() {
			return q.AddHead(dst, b, now)
		}
		if len(b) > MaxPacketLength {
			q.Stats.Rejected++
			return dst, false, fmt.Errorf("reassembly: %d bytes: %w", len(b), ErrTooLong)
		}
		return append(dst, b...), true, nil
	}
	q.Stats.Rejected++
	return dst, false, fmt.Errorf("reassembly: %d-byte datagram (%v): %w", len(b), Classify(b), ErrTooShort)
}

// AddHead adds the head of a fragmented packet (a packet datagram with
// FlagFragmented). If that completes the packet, it is appended to dst and
// done is true; otherwise out is dst.
func (q *Queue) AddHead(dst, head []byte, now int64) (out []byte, done bool, err error) {
	if _, err := Parse(head); err != nil {
		q.Stats.Rejected++
		return dst, false, fmt.Errorf("reassembly: head: %w", err)
	}
	if !Packet(head).Fragmented() {
		q.Stats.Rejected++
		return dst, false, fmt.Errorf("reassembly: head: %w", ErrNotFragmented)
	}
	e := q.entry(binary.BigEndian.Uint64(head), now)
	return q.put(e, dst, 0, head, now)
}

// AddFragment adds a fragment datagram. If that completes its packet, the
// packet is appended to dst and done is true; otherwise out is dst.
func (q *Queue) AddFragment(dst, frag []byte, now int64) (out []byte, done bool, err error) {
	f, err := ParseFragment(frag)
	if err != nil {
		q.Stats.Rejected++
		return dst, false, fmt.Errorf("reassembly: %w", err)
	}
	e := q.entry(f.PacketID(), now)
	if e.total != 0 && e.total != f.Total() {
		q.Stats.Rejected++
		return dst, false, fmt.Errorf("reassembly: fragment says %d pieces, earlier ones %d: %w", f.Total(), e.total, ErrFragmentsClash)
	}
	if e.total == 0 {
		// Pieces numbered at or above the total can only come from a head,
		// which is always number 0, so nothing held is out of range.
		e.total = f.Total()
	}
	return q.put(e, dst, f.Number(), f.Chunk(), now)
}

// put stores piece n in e and assembles the packet when it is complete.
func (q *Queue) put(e *rxEntry, dst []byte, n int, data []byte, now int64) ([]byte, bool, error) {
	if e.have&(1<<n) != 0 {
		q.Stats.Duplicates++
		return dst, false, nil
	}
	if e.size+len(data) > MaxPacketLength {
		q.Stats.Rejected++
		e.reset()
		return dst, false, fmt.Errorf("reassembly: packet %016x: %w", e.id, ErrTooLong)
	}
	e.pieces[n] = append(e.pieces[n][:0], data...)
	e.have |= 1 << n
	e.size += len(data)
	if e.have&1 == 0 || e.total == 0 || bits.OnesCount8(e.have) != e.total {
		return dst, false, nil
	}
	for i := 0; i < e.total; i++ {
		dst = append(dst, e.pieces[i]...)
	}
	q.Stats.Assembled++
	e.reset()
	return dst, true, nil
}

// entry finds the live entry for id, or claims the next ring slot for it.
func (q *Queue) entry(id uint64, now int64) *rxEntry {
	for i := range q.entries {
		e := &q.entries[i]
		if e.used && e.id == id {
			if !q.expired(e, now) {
				return e
			}
			q.Stats.Expired++
			e.reset()
			e.used, e.id, e.created = true, id, now
			return e
		}
	}
	e := &q.entries[q.next]
	q.next = (q.next + 1) % len(q.entries)
	if e.used {
		if q.expired(e, now) {
			q.Stats.Expired++
		} else {
			q.Stats.Evicted++
		}
		e.reset()
	}
	e.used, e.id, e.created = true, id, now
	return e
}

func (q *Queue) expired(e *rxEntry, now int64) bool {
	return now-e.created > ReceiveQueueTimeout
}

// Expire drops the incomplete packets older than ReceiveQueueTimeout and
// returns how many it dropped. Calling it is optional (stale entries are
// also recognised when a piece arrives); it frees their memory sooner.
func (q *Queue) Expire(now int64) int {
	n := 0
	for i := range q.entries {
		e := &q.entries[i]
		if e.used && q.expired(e, now) {
			e.reset()
			e.pieces = [MaxPacketFragments][]byte{}
			n++
		}
	}
	q.Stats.Expired += uint64(n)
	return n
}

// Len is the number of incomplete packets held.
func (q *Queue) Len() int {
	n := 0
	for i := range q.entries {
		if q.entries[i].used {
			n++
		}
	}
	return n
}
