package netconf

import (
	"errors"
	"fmt"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/dict"
	"github.com/ztx/ztx/headers/verbs"
)

// MaxUpdates is how many config updates an Assembler collects at once; a chunk of a new
// update replaces the least recently used one.
const MaxUpdates = 3

// Chunking errors.
var (
	ErrNotController = errors.New("netconf: identity is not the network's controller")
	ErrChunk         = errors.New("netconf: bad config chunk")
	ErrSignature     = errors.New("netconf: bad config chunk signature")
	ErrDuplicate     = errors.New("netconf: duplicate config chunk")
)

// Split cuts a serialized config dictionary into NETWORK_CONFIG chunks as a 1.14.1
// controller does: chunks of at most maxChunk bytes (0: verbs.MaxConfigChunk) in order, each
// with the running byte offset as chunk index, flags 0, the shared updateID (0 is replaced by
// 1) and the total length, signed by the network's controller signer. The chunks' Data alias
// conf.
func Split(signer *identity.Identity, nwid uint64, updateID uint64, conf []byte, maxChunk int) ([]verbs.ConfigChunk, error) {
	if signer.Address != Controller(nwid) {
		return nil, fmt.Errorf("%w: %s for network %016x", ErrNotController, signer.Address, nwid)
	}
	if maxChunk <= 0 {
		maxChunk = verbs.MaxConfigChunk
	}
	if len(conf) == 0 || len(conf) >= dict.NetworkConfigCapacity {
		return nil, fmt.Errorf("%w: config of %d bytes", ErrChunk, len(conf))
	}
	if updateID == 0 {
		updateID = 1
	}
	var out []verbs.ConfigChunk
	var msg []byte
	for p := 0; p < len(conf); p += maxChunk {
		k := verbs.ConfigChunk{
			NetworkID:     verbs.NetworkID(nwid),
			Data:          conf[p:min(p+maxChunk, len(conf))],
			UpdateID:      updateID,
			TotalLength:   uint32(len(conf)),
			ChunkIndex:    uint32(p),
			SignatureType: verbs.ConfigSignatureEd25519,
		}
		msg = k.AppendSignedMessage(msg[:0])
		sig, err := signer.Sign(msg)
		if err != nil {
			return nil, fmt.Errorf("netconf: signing chunk: %w", err)
		}
		k.Signature = sig[:]
		out = append(out, k)
	}
	return out, nil
}

// Assembler collects the signed chunks of a network's config updates and returns a config's
// dictionary bytes once all its chunks are in. It is not safe for concurrent use.
//
// Every chunk must be for the Assembler's network, pass verbs.ConfigChunk.Check and carry a
// valid signature by the controller before it touches any state. Unlike the reference
// (which sums chunk lengths), chunks of one update may not overlap and must agree on the
// total length, so a complete update is covered exactly once. Memory is bounded by
// MaxUpdates buffers of the capacity, and each update accepts at most capacity/1024+1 chunks.
// Legacy (unsigned) chunks are refused: only the packet's sender tells whether one may be
// trusted, so a caller that got one from the controller itself uses its Data as a whole config.
type Assembler struct {
	nwid       uint64
	controller *identity.Identity
	capacity   int
	clock      uint64
	slots      [MaxUpdates]update
}

type update struct {
	id       uint64
	used     uint64 // Assembler.clock when last touched; 0 = empty
	total    uint32
	have     uint32
	done     bool
	buf      []byte
	chunkIDs []uint64
	spans    [][2]uint32 // [start, end) of each chunk
}

// NewAssembler returns an Assembler for network nwid whose chunks controller signs. capacity
// bounds a config's size (0: dict.NetworkConfigCapacity).
func NewAssembler(nwid uint64, controller *identity.Identity, capacity int) (*Assembler, error) {
	if controller == nil || controller.Address != Controller(nwid) {
		return nil, fmt.Errorf("%w: network %016x", ErrNotController, nwid)
	}
	if capacity <= 0 {
		capacity = dict.NetworkConfigCapacity
	}
	return &Assembler{nwid: nwid, controller: controller, capacity: capacity}, nil
}

// MaxChunks is the number of chunks one update may have.
func (a *Assembler) MaxChunks() int { return a.capacity/1024 + 1 }

// Add takes one chunk. It returns the assembled dictionary (a fresh slice, no NUL) when k
// completes its update, nil and no error when more chunks are needed, and an error when k is
// refused: ErrChunk (wrong network, malformed, empty, overlapping, mismatched total, too many
// chunks), ErrSignature, or ErrDuplicate for a chunk already taken (or of an update already
// complete), which callers ignore. A nil error means k verified, so a caller may forward it
// when k.Flags has verbs.ConfigFlagFastPropagate.
func (a *Assembler) Add(k verbs.ConfigChunk) ([]byte, error) {
	if uint64(k.NetworkID) != a.nwid {
		return nil, fmt.Errorf("%w: network %016x, expected %016x", ErrChunk, uint64(k.NetworkID), a.nwid)
	}
	if err := k.Check(a.capacity); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrChunk, err)
	}
	if len(k.Data) == 0 {
		return nil, fmt.Errorf("%w: empty chunk", ErrChunk)
	}
	cid := k.ChunkID()
	var s *update
	for i := range a.slots {
		u := &a.slots[i]
		if u.used != 0 && u.id == k.UpdateID {
			s = u
			break
		}
		if s == nil || u.used < s.used {
			s = u
		}
	}
	fresh := s.used == 0 || s.id != k.UpdateID
	if !fresh {
		if s.done {
			return nil, fmt.Errorf("%w: update %016x already complete", ErrDuplicate, k.UpdateID)
		}
		for _, id := range s.chunkIDs {
			if id == cid {
				return nil, fmt.Errorf("%w: chunk at %d of update %016x", ErrDuplicate, k.ChunkIndex, k.UpdateID)
			}
		}
	}
	if !a.controller.Verify(k.AppendSignedMessage(nil), k.Signature) {
		return nil, fmt.Errorf("%w: chunk at %d of update %016x", ErrSignature, k.ChunkIndex, k.UpdateID)
	}
	start, end := k.ChunkIndex, k.ChunkIndex+uint32(len(k.Data))
	if !fresh {
		if k.TotalLength != s.total {
			return nil, fmt.Errorf("%w: total %d, update %016x has %d", ErrChunk, k.TotalLength, k.UpdateID, s.total)
		}
		if len(s.chunkIDs) >= a.MaxChunks() {
			return nil, fmt.Errorf("%w: more than %d chunks", ErrChunk, a.MaxChunks())
		}
		for _, sp := range s.spans {
			if start < sp[1] && sp[0] < end {
				return nil, fmt.Errorf("%w: chunk [%d,%d) overlaps [%d,%d)", ErrChunk, start, end, sp[0], sp[1])
			}
		}
	} else {
		*s = update{id: k.UpdateID, total: k.TotalLength, buf: s.buf[:0], chunkIDs: s.chunkIDs[:0], spans: s.spans[:0]}
		if cap(s.buf) < int(k.TotalLength) {
			s.buf = make([]byte, 0, k.TotalLength)
		}
		s.buf = s.buf[:k.TotalLength]
	}
	a.clock++
	s.used = a.clock
	s.chunkIDs = append(s.chunkIDs, cid)
	s.spans = append(s.spans, [2]uint32{start, end})
	copy(s.buf[start:end], k.Data)
	s.have += end - start
	if s.have != s.total {
		return nil, nil
	}
	s.done = true
	out := append([]byte(nil), s.buf...)
	return out, nil
}

// Reset forgets every update in progress or completed.
func (a *Assembler) Reset() { a.slots = [MaxUpdates]update{} }
