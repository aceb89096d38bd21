package packet

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/ztx/ztx/crypto/identity"
)

// Packet header offsets (PROTOCOL.md part 1 §2.1).
const (
	IndexID      = 0  // 8 bytes: packet ID / IV
	IndexDest    = 8  // 5 bytes: destination address
	IndexSource  = 13 // 5 bytes: source address
	IndexFlags   = 18 // 1 byte: FFCCCHHH
	IndexMAC     = 19 // 8 bytes: MAC, trusted path ID or SIV tag half
	IndexVerb    = 27 // 1 byte: verb and verb flags; the payload region starts here
	IndexPayload = 28 // verb payload

	// MinPacketLength is the smallest packet: the header and the verb byte.
	MinPacketLength = IndexPayload
)

// Byte 18, the flags byte (§2.2).
const (
	FlagEncrypted  = 0x80 // legacy; set by senders only with suite 1, ignored on receipt
	FlagFragmented = 0x40 // fragments follow; set before armoring
	CipherMask     = 0x38 // cipher suite bits
	CipherShift    = 3
	HopsMask       = 0x07 // hop count, not authenticated
)

// Byte 27, the verb byte (§2.3).
const (
	VerbMask           = 0x1f // verb number
	VerbFlagCompressed = 0x80 // payload from IndexPayload is an LZ4 block
)

// Sizes, limits and timers (§2.4, §3).
const (
	DefaultPort         = 9993
	DefaultPhysMTU      = 1432  // default UDP payload per datagram
	MinPhysMTU          = 1400  // smallest configurable physical MTU
	MaxPhysPayload      = 10100 // largest UDP payload
	MaxHeadroom         = 224
	MaxPhysMTU          = MaxPhysPayload + MaxHeadroom
	MaxPacketFragments  = 7                                   // pieces of one packet, head included
	MaxPacketLength     = MaxPacketFragments * DefaultPhysMTU // 10024, largest assembled packet
	MinFragmentLength   = 16                                  // fragment header
	DefaultMTU          = 2800                                // virtual network MTU
	MinMTU              = 1280
	MaxMTU              = 10000
	MaxHops             = 7 // largest value of the hops field
	RelayMaxHops        = 3 // a relay forwards only while hops < 3
	BeaconLength        = 13
	ReceiveQueueSize    = 32   // reassembly ring entries
	ReceiveQueueTimeout = 5000 // ms
)

// Packet is a view of a packet's bytes: the whole UDP payload of an
// unfragmented packet, or an assembled one. It does not copy; setters write
// through to the underlying array. Accessors need len(p) >= MinPacketLength
// (Parse checks; a Packet from New or AppendHeader has it).
type Packet []byte

// Parse checks that b can be a packet and returns it as one. It accepts
// MinPacketLength to MaxPacketLength bytes and refuses fragments (0xff at
// IndexSource).
func Parse(b []byte) (Packet, error) {
	switch {
	case len(b) < MinPacketLength:
		return nil, fmt.Errorf("packet: %d bytes: %w", len(b), ErrTooShort)
	case len(b) > MaxPacketLength:
		return nil, fmt.Errorf("packet: %d bytes: %w", len(b), ErrTooLong)
	case b[IndexSource] == FragmentIndicator:
		return nil, fmt.Errorf("packet: %w", ErrIsFragment)
	}
	return Packet(b), nil
}

// RandomID returns a random packet ID.
func RandomID() uint64 {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return binary.BigEndian.Uint64(b[:])
}

// AppendHeader appends a 28-byte packet header to dst: ID, addresses, flags
// 0 (suite 0, hops 0), MAC 0 and the verb byte. The payload follows by
// appending; the packet is dst[len(dst):] of the input. Use it to build in
// place behind headroom.
func AppendHeader(dst []byte, id uint64, dest, src identity.Address, verb Verb) []byte {
	dst = binary.BigEndian.AppendUint64(dst, id)
	dst = dest.AppendTo(dst)
	dst = src.AppendTo(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	return append(dst, byte(verb&VerbMask))
}

// New returns a packet from src to dest with a random ID and the given verb
// and no payload, with room for DefaultPhysMTU bytes. Append the payload
// with AppendPayload or the built-in append.
func New(dest, src identity.Address, verb Verb) Packet {
	return Packet(AppendHeader(make([]byte, 0, DefaultPhysMTU), RandomID(), dest, src, verb))
}

// AppendPayload appends b to the payload and returns the grown packet.
func (p Packet) AppendPayload(b ...byte) Packet { return append(p, b...) }

// ID is the packet ID, the big-endian integer of bytes 0..7 (after armoring
// with suite 3, the first tag half).
func (p Packet) ID() uint64 { return binary.BigEndian.Uint64(p[IndexID:]) }

// SetID writes the packet ID.
func (p Packet) SetID(id uint64) { binary.BigEndian.PutUint64(p[IndexID:], id) }

// Dest is the destination address.
func (p Packet) Dest() identity.Address { return identity.AddressFromBytes(p[IndexDest:]) }

// SetDest writes the destination address.
func (p Packet) SetDest(a identity.Address) { a.Put(p[IndexDest:]) }

// Source is the source address.
func (p Packet) Source() identity.Address { return identity.AddressFromBytes(p[IndexSource:]) }

// SetSource writes the source address.
func (p Packet) SetSource(a identity.Address) { a.Put(p[IndexSource:]) }

// Flags is the whole flags byte (FFCCCHHH).
func (p Packet) Flags() byte { return p[IndexFlags] }

// Fragmented reports whether fragments follow this packet (head).
func (p Packet) Fragmented() bool { return p[IndexFlags]&FlagFragmented != 0 }

// SetFragmented sets or clears the fragmented flag. It is authenticated, so
// set it before armoring.
func (p Packet) SetFragmented(on bool) {
	if on {
		p[IndexFlags] |= FlagFragmented
	} else {
		p[IndexFlags] &^= FlagFragmented
	}
}

// Cipher is the cipher suite field.
func (p Packet) Cipher() Suite { return Suite(p[IndexFlags] & CipherMask >> CipherShift) }

// Hops is the hop count.
func (p Packet) Hops() int { return int(p[IndexFlags] & HopsMask) }

// IncrementHops adds one to the hop count, wrapping from 7 to 0 within the
// field (§2.2). Relays check Hops() < RelayMaxHops first.
func (p Packet) IncrementHops() {
	f := p[IndexFlags]
	p[IndexFlags] = f&^HopsMask | (f+1)&HopsMask
}

// MAC is the MAC field as a big-endian integer.
func (p Packet) MAC() uint64 { return binary.BigEndian.Uint64(p[IndexMAC:]) }

// TrustedPathID is the trusted path ID carried by a suite 2 packet in the
// MAC field. The receiver accepts the packet only if the ID matches the one
// configured for the path it arrived on (PROTOCOL.md §10).
func (p Packet) TrustedPathID() uint64 { return p.MAC() }

// Verb is the verb number (meaningful after dearmoring for suites 1 and 3).
func (p Packet) Verb() Verb { return Verb(p[IndexVerb] & VerbMask) }

// SetVerb writes the verb number and clears the verb flags.
func (p Packet) SetVerb(v Verb) { p[IndexVerb] = byte(v & VerbMask) }

// Compressed reports whether the payload is LZ4-compressed.
func (p Packet) Compressed() bool { return p[IndexVerb]&VerbFlagCompressed != 0 }

// Payload is the verb payload, from IndexPayload to the end.
func (p Packet) Payload() []byte { return p[IndexPayload:] }

// String summarises the outer header for logs.
func (p Packet) String() string {
	if len(p) < MinPacketLength {
		return fmt.Sprintf("packet(%d bytes, too short)", len(p))
	}
	return fmt.Sprintf("%016x %v->%v %v hops=%d len=%d", p.ID(), p.Source(), p.Dest(), p.Cipher(), p.Hops(), len(p))
}
