package vl1

// replyTable remembers the packets we expect an OK to, as the reference
// does: the upper 32 bits of each sent packet ID, in 256 buckets (by the
// lowest byte of those bits) of 32 slots each, overwritten in a ring. An OK
// whose in-re ID is not there is dropped.
type replyTable struct {
	slots [256][32]uint32
	next  [256]uint8
}

func (t *replyTable) init() {}

func (t *replyTable) expect(id uint64) {
	hi := uint32(id >> 32)
	b := byte(hi)
	t.slots[b][t.next[b]%32] = hi
	t.next[b]++
}

func (t *replyTable) expecting(id uint64) bool {
	hi := uint32(id >> 32)
	for _, v := range &t.slots[byte(hi)] {
		if v == hi {
			return true
		}
	}
	return false
}
