package packet

import (
	"encoding/binary"
	"fmt"

	"github.com/ztx/ztx/crypto/identity"
)

// Fragment header offsets (§3.1).
const (
	FragIndexPacketID  = 0  // 8 bytes: on-wire bytes 0..7 of the head
	FragIndexDest      = 8  // 5 bytes: destination address
	FragIndexIndicator = 13 // 1 byte: FragmentIndicator
	FragIndexCounts    = 14 // 1 byte: total pieces << 4 | this piece's number
	FragIndexHops      = 15 // 1 byte: hop count (low 3 bits)
	FragIndexPayload   = 16 // chunk of the armored packet

	// FragmentIndicator at FragIndexIndicator marks a fragment; no address
	// starts with it.
	FragmentIndicator = identity.ReservedPrefix
)

// Frag is a view of a fragment datagram (pieces 1 to N-1 of a packet whose
// head is a Packet with FlagFragmented). Accessors need
// len(f) >= MinFragmentLength; Classify and ParseFragment check.
type Frag []byte

// ParseFragment checks that b is a fragment the reassembly would accept: more
// than 16 bytes, the indicator at offset 13, total pieces 2 to 7 and piece
// number 1 to total-1 (§3.2). The reference does not compare the piece number
// with the total; a piece numbered at or above the total could never
// complete a packet, so it is refused here.
func ParseFragment(b []byte) (Frag, error) {
	if len(b) <= MinFragmentLength {
		return nil, fmt.Errorf("fragment: %d bytes: %w", len(b), ErrTooShort)
	}
	if b[FragIndexIndicator] != FragmentIndicator {
		return nil, fmt.Errorf("fragment: %w", ErrNotFragment)
	}
	f := Frag(b)
	total, n := f.Total(), f.Number()
	if total < 2 || total > MaxPacketFragments || n < 1 || n >= total {
		return nil, fmt.Errorf("fragment %d of %d: %w", n, total, ErrBadFragment)
	}
	return f, nil
}

// AppendFragment appends a fragment datagram carrying chunk to dst. id is the
// head's on-wire ID (after armoring), total the number of pieces including
// the head, number this piece's number (1 to total-1), hops 0 at the origin.
func AppendFragment(dst []byte, id uint64, dest identity.Address, total, number int, chunk []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, id)
	dst = dest.AppendTo(dst)
	dst = append(dst, FragmentIndicator, byte(total&0xf)<<4|byte(number&0xf), 0)
	return append(dst, chunk...)
}

// PacketID is the ID of the packet this fragment belongs to.
func (f Frag) PacketID() uint64 { return binary.BigEndian.Uint64(f[FragIndexPacketID:]) }

// Dest is the destination address.
func (f Frag) Dest() identity.Address { return identity.AddressFromBytes(f[FragIndexDest:]) }

// Total is the number of pieces of the packet, head included.
func (f Frag) Total() int { return int(f[FragIndexCounts] >> 4) }

// Number is this piece's number (the head is 0).
func (f Frag) Number() int { return int(f[FragIndexCounts] & 0xf) }

// Hops is the fragment's hop count.
func (f Frag) Hops() int { return int(f[FragIndexHops] & HopsMask) }

// IncrementHops adds one to the hop count, masked to 3 bits (§3.2); a relay
// forwards a fragment only while Hops() < RelayMaxHops.
func (f Frag) IncrementHops() { f[FragIndexHops] = (f[FragIndexHops] + 1) & HopsMask }

// Chunk is the piece of the armored packet this fragment carries.
func (f Frag) Chunk() []byte { return f[FragIndexPayload:] }

// Pieces is the number of pieces (head included) Fragment makes of a packet
// of size bytes for the given MTU, or 0 if the MTU is too small to carry
// anything.
func Pieces(size, mtu int) int {
	if mtu <= MinFragmentLength || mtu < MinPacketLength {
		return 0
	}
	if size <= mtu {
		return 1
	}
	per := mtu - MinFragmentLength
	return 1 + (size-mtu+per-1)/per
}

// Fragment cuts an armored packet into datagrams of at most mtu bytes
// (§3.1). A packet that fits is returned alone, as is. Otherwise the head is
// pkt[:mtu] (not copied) and each further piece is a new fragment datagram
// with a chunk of at most mtu-16 bytes. FlagFragmented (set before armoring)
// must be set exactly when the packet does not fit, and at most 7 pieces
// may be needed.
func Fragment(pkt Packet, mtu int) ([][]byte, error) {
	if len(pkt) < MinPacketLength {
		return nil, fmt.Errorf("fragment: %w", ErrTooShort)
	}
	n := Pieces(len(pkt), mtu)
	switch {
	case n == 0:
		return nil, fmt.Errorf("fragment: MTU %d: %w", mtu, ErrBadMTU)
	case n > MaxPacketFragments:
		return nil, fmt.Errorf("fragment: %d bytes at MTU %d: %w", len(pkt), mtu, ErrTooManyPieces)
	case (n > 1) != pkt.Fragmented():
		return nil, fmt.Errorf("fragment: %d bytes at MTU %d: %w", len(pkt), mtu, ErrFlagMismatch)
	case n == 1:
		return [][]byte{pkt}, nil
	}
	out := make([][]byte, 1, n)
	out[0] = pkt[:mtu]
	rest := pkt[mtu:]
	buf := make([]byte, 0, len(rest)+(n-1)*MinFragmentLength)
	id, dest := pkt.ID(), pkt.Dest()
	per := mtu - MinFragmentLength
	for k := 1; k < n; k++ {
		chunk := rest[:min(per, len(rest))]
		rest = rest[len(chunk):]
		start := len(buf)
		buf = AppendFragment(buf, id, dest, n, k, chunk)
		out = append(out, buf[start:len(buf):len(buf)])
	}
	return out, nil
}

// FragmentEven cuts an armored packet into as many datagrams as Fragment
// does, but of equal sizes (the last may be a byte or so shorter) instead
// of a full head and a short tail. Receivers reassemble either alike;
// equal sizes let a run of packets to one peer leave as a single UDP GSO
// send. The pieces are appended to out; the fragments are built in buf's
// storage when it has room (pass buf[:0] of a reused buffer), else in a
// new one. The head aliases pkt.
func FragmentEven(pkt Packet, mtu int, out [][]byte, buf []byte) ([][]byte, error) {
	if len(pkt) < MinPacketLength {
		return nil, fmt.Errorf("fragment: %w", ErrTooShort)
	}
	n := Pieces(len(pkt), mtu)
	size := 0
	if n > 1 && n <= MaxPacketFragments && pkt.Fragmented() {
		size = (len(pkt) + (n-1)*MinFragmentLength + n - 1) / n
	}
	if size < MinPacketLength || size > mtu {
		pieces, err := Fragment(pkt, mtu)
		return append(out, pieces...), err
	}
	out = append(out, pkt[:size])
	rest := pkt[size:]
	if need := len(rest) + (n-1)*MinFragmentLength; cap(buf) < need {
		buf = make([]byte, 0, need)
	}
	buf = buf[:0]
	id, dest := pkt.ID(), pkt.Dest()
	per := size - MinFragmentLength
	for k := 1; k < n; k++ {
		chunk := rest[:min(per, len(rest))]
		rest = rest[len(chunk):]
		start := len(buf)
		buf = AppendFragment(buf, id, dest, n, k, chunk)
		out = append(out, buf[start:len(buf):len(buf)])
	}
	return out, nil
}
