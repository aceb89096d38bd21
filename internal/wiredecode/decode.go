// Package wiredecode turns captured ZeroTier datagrams into readable
// records: header fields, fragment reassembly and, for packets between
// nodes whose keys it can compute, the MAC check, the verb and the decoded
// payload. It is the engine behind `ztctl wire decode` and a regression
// harness for the wire layer; it does no I/O.
package wiredecode

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/headers/verbs"
)

// Datagram is one UDP payload with its endpoints.
type Datagram struct {
	Frame    int
	Time     time.Time
	Src, Dst netip.AddrPort
	Payload  []byte
}

// Auth is the outcome of authenticating a packet.
type Auth string

// Authentication outcomes.
const (
	AuthOK      Auth = "ok"      // MAC (or trusted path ID) verified
	AuthFailed  Auth = "failed"  // the key is known and the MAC is wrong
	AuthNoKey   Auth = "no-key"  // neither end's secret identity is known
	AuthUnknown Auth = "unknown" // the peer's public identity was never seen
)

// Record describes one datagram, or one packet completed by a fragment.
type Record struct {
	Frame int     `json:"frame"`
	Time  float64 `json:"time"` // seconds since the first datagram
	Src   string  `json:"src"`
	Dst   string  `json:"dst"`
	Len   int     `json:"len"`
	Kind  string  `json:"kind"` // packet, fragment, beacon, other

	// Packet header (packets and assembled packets).
	PacketID   string `json:"packetId,omitempty"`
	Dest       string `json:"dest,omitempty"`
	Source     string `json:"source,omitempty"`
	Cipher     string `json:"cipher,omitempty"`
	Hops       int    `json:"hops"`
	Fragmented bool   `json:"fragmented,omitempty"`
	MAC        string `json:"mac,omitempty"`

	// Fragment header (fragments).
	FragmentNumber int `json:"fragmentNumber,omitempty"`
	FragmentTotal  int `json:"fragmentTotal,omitempty"`

	// Assembled is set on the record of the piece that completed a
	// fragmented packet; the header and payload fields then describe the
	// whole packet.
	Assembled    bool `json:"assembled,omitempty"`
	AssembledLen int  `json:"assembledLen,omitempty"`

	Auth       Auth   `json:"auth,omitempty"`
	Verb       string `json:"verb,omitempty"`
	VerbNumber int    `json:"verbNumber"`
	Compressed bool   `json:"compressed,omitempty"`
	// Plaintext is the payload after the verb byte, decrypted and
	// decompressed (a HELLO's moon region stays as on the wire).
	Plaintext string   `json:"plaintext,omitempty"`
	Decoded   any      `json:"decoded,omitempty"`
	Details   *Details `json:"details,omitempty"`
	Summary   string   `json:"summary,omitempty"`
	Error     string   `json:"error,omitempty"`
	Data      string   `json:"data,omitempty"` // non-ZeroTier datagrams, hex
}

// Stats counts what a Decoder has seen.
type Stats struct {
	Datagrams     int `json:"datagrams"`
	Packets       int `json:"packets"` // whole ZeroTier packets (assembled ones once)
	Fragments     int `json:"fragments"`
	Authenticated int `json:"authenticated"`
	Failed        int `json:"failed"`
	NoKey         int `json:"noKey"`
	Other         int `json:"other"` // datagrams that are not ZeroTier
}

// Decoder keeps what decoding a capture learns: identities and keys, and
// fragments waiting for their siblings.
type Decoder struct {
	ids     map[identity.Address]*identity.Identity
	keys    map[[2]identity.Address]*packet.Key
	queue   packet.Queue
	configs map[uint64]*configAssembly
	start   time.Time
	Stats   Stats
}

// New returns a Decoder that knows the given identities; those with
// private keys let it compute the keys of every pair they belong to.
func New(ids ...*identity.Identity) *Decoder {
	d := &Decoder{
		ids:  make(map[identity.Address]*identity.Identity),
		keys: make(map[[2]identity.Address]*packet.Key),
	}
	for _, id := range ids {
		d.Learn(id)
	}
	return d
}

// Learn adds an identity; a secret one replaces a public one.
func (d *Decoder) Learn(id *identity.Identity) {
	if old, ok := d.ids[id.Address]; ok && (old.HasPrivate() || !id.HasPrivate()) {
		return
	}
	d.ids[id.Address] = id
}

// key returns the packet key shared by a and b, if it can be computed.
func (d *Decoder) key(a, b identity.Address) (*packet.Key, Auth) {
	pair := [2]identity.Address{min(a, b), max(a, b)}
	if k, ok := d.keys[pair]; ok {
		return k, AuthOK
	}
	ia, okA := d.ids[a]
	ib, okB := d.ids[b]
	if !okA || !okB {
		if (okA && ia.HasPrivate()) || (okB && ib.HasPrivate()) {
			return nil, AuthUnknown
		}
		return nil, AuthNoKey
	}
	if !ia.HasPrivate() {
		ia, ib = ib, ia
	}
	if !ia.HasPrivate() {
		return nil, AuthNoKey
	}
	shared, err := ia.Agree(ib)
	if err != nil {
		return nil, AuthNoKey
	}
	k, err := packet.NewKey(&shared)
	if err != nil {
		return nil, AuthNoKey
	}
	d.keys[pair] = k
	return k, AuthOK
}

// Decode describes one datagram.
func (d *Decoder) Decode(dg Datagram) Record {
	if d.Stats.Datagrams == 0 {
		d.start = dg.Time
	}
	d.Stats.Datagrams++
	r := Record{
		Frame: dg.Frame,
		Time:  dg.Time.Sub(d.start).Seconds(),
		Src:   dg.Src.String(),
		Dst:   dg.Dst.String(),
		Len:   len(dg.Payload),
	}
	now := dg.Time.UnixMilli()
	switch packet.Classify(dg.Payload) {
	case packet.KindFragment:
		d.Stats.Fragments++
		r.Kind = "fragment"
		f, err := packet.ParseFragment(dg.Payload)
		if err != nil {
			r.Error = err.Error()
			break
		}
		r.PacketID = fmt.Sprintf("%016x", f.PacketID())
		r.Dest = f.Dest().String()
		r.Hops = f.Hops()
		r.FragmentNumber, r.FragmentTotal = f.Number(), f.Total()
		whole, done, err := d.queue.AddFragment(nil, dg.Payload, now)
		if err != nil {
			r.Error = err.Error()
		} else if done {
			d.packet(&r, whole)
		}
	case packet.KindPacket:
		r.Kind = "packet"
		pkt, err := packet.Parse(dg.Payload)
		if err != nil {
			r.Error = err.Error()
			break
		}
		header(&r, pkt)
		if !pkt.Fragmented() {
			d.packet(&r, append([]byte(nil), dg.Payload...))
			break
		}
		whole, done, err := d.queue.AddHead(nil, dg.Payload, now)
		if err != nil {
			r.Error = err.Error()
		} else if done {
			d.packet(&r, whole)
		}
	case packet.KindBeacon:
		r.Kind = "beacon"
		if a, ok := packet.BeaconAddress(dg.Payload); ok {
			r.Source = a.String()
		}
	default:
		d.Stats.Other++
		r.Kind = "other"
		r.Data = hex.EncodeToString(dg.Payload)
	}
	return r
}

func header(r *Record, pkt packet.Packet) {
	r.PacketID = fmt.Sprintf("%016x", pkt.ID())
	r.Dest = pkt.Dest().String()
	r.Source = pkt.Source().String()
	r.Cipher = pkt.Cipher().String()
	r.Hops = pkt.Hops()
	r.Fragmented = pkt.Fragmented()
	r.MAC = fmt.Sprintf("%016x", pkt.MAC())
}

// packet authenticates and decodes a whole packet (owned by the caller).
func (d *Decoder) packet(r *Record, buf []byte) {
	d.Stats.Packets++
	pkt, err := packet.Parse(buf)
	if err != nil {
		r.Error = err.Error()
		return
	}
	if r.Kind == "fragment" {
		header(r, pkt)
	}
	if pkt.Fragmented() && len(buf) != r.Len {
		r.Assembled, r.AssembledLen = true, len(buf)
	}
	// A HELLO carries its sender's identity in the clear.
	if pkt.Cipher() == packet.SuitePoly1305None && pkt.Verb() == packet.VerbHello {
		if h, err := verbs.ParseHello(pkt.Payload()); err == nil && h.Identity != nil && h.Identity.Address == pkt.Source() {
			d.Learn(h.Identity)
		}
	}
	key, auth := d.key(pkt.Source(), pkt.Dest())
	r.Auth = auth
	if key == nil {
		d.Stats.NoKey++
		return
	}
	if pkt.Cipher() == packet.SuiteTrustedPath {
		// The path's trust is the receiver's configuration, not in the capture.
		r.Auth = AuthNoKey
		r.Summary = fmt.Sprintf("trusted path id %016x", pkt.TrustedPathID())
		d.Stats.NoKey++
		return
	}
	if err := key.Dearmor(pkt); err != nil {
		r.Auth = AuthFailed
		r.Error = err.Error()
		d.Stats.Failed++
		return
	}
	d.Stats.Authenticated++
	r.Compressed = pkt.Compressed()
	plain, err := packet.Decompress(pkt)
	if err != nil {
		r.Error = err.Error()
		return
	}
	r.Verb = plain.Verb().String()
	r.VerbNumber = int(plain.Verb())
	r.Plaintext = hex.EncodeToString(plain.Payload())
	d.payload(r, key, plain)
}

// payload decodes the verb's payload and learns identities it carries.
func (d *Decoder) payload(r *Record, key *packet.Key, pkt packet.Packet) {
	msg, err := verbs.Decode(byte(pkt.Verb()), pkt.Payload())
	if err != nil {
		r.Error = fmt.Sprintf("decoding %s payload: %v", pkt.Verb(), err)
		return
	}
	switch m := msg.(type) {
	case verbs.Hello:
		if m.Sealed != nil {
			start, err := verbs.HelloCryptOffset(pkt.Payload())
			if err == nil {
				region := append([]byte(nil), pkt.Payload()[start:]...)
				off := packet.IndexPayload + start
				tmp := append([]byte(nil), pkt...)
				if err := key.CryptField(tmp, off, len(tmp)); err == nil {
					copy(region, tmp[off:])
					if err := m.OpenMoons(region); err != nil {
						r.Error = fmt.Sprintf("HELLO moon list: %v", err)
					}
				}
			}
		}
		msg = m
	case verbs.OK:
		if w, ok := m.Body.(verbs.OKWhois); ok {
			for _, id := range w.Identities {
				d.Learn(id)
			}
		}
	}
	r.Decoded = msg
	d.details(r, msg)
	if s, ok := msg.(fmt.Stringer); ok {
		r.Summary = s.String()
	}
}

// ErrNoPackets is returned by checks on an empty capture.
var ErrNoPackets = errors.New("wiredecode: no ZeroTier packets")
