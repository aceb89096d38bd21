package packet

import (
	"sync"

	"github.com/pierrec/lz4/v4"
)

// LZ4 payload compression (§5): the payload from IndexPayload on is one raw
// LZ4 block (no frame, no size prefix) and the verb byte carries
// VerbFlagCompressed.
const (
	// MinCompressPayload: payloads of this many bytes or fewer are never
	// compressed.
	MinCompressPayload = 64
	// MaxDecompressedPayload is the largest payload a compressed packet may
	// expand to (the packet buffer minus the header).
	MaxDecompressedPayload = MaxPacketLength - IndexPayload
)

// Compressor holds the state for compressing packets without allocating.
// Its output is the reference's LZ4_compress_fast output byte for byte. The
// zero value is ready; a Compressor is not safe for concurrent use.
type Compressor struct {
	c   lz4.CompressorCCompat
	buf [MaxDecompressedPayload]byte
}

var compressors = sync.Pool{New: func() any { return new(Compressor) }}

// Compress compresses pkt's payload in place when that helps, using a
// pooled Compressor; see Compressor.Compress.
func Compress(pkt Packet) Packet {
	c := compressors.Get().(*Compressor)
	pkt = c.Compress(pkt)
	compressors.Put(c)
	return pkt
}

// Compress replaces pkt's payload by its LZ4 block and sets
// VerbFlagCompressed if the payload is longer than MinCompressPayload bytes
// and the block is strictly shorter; otherwise it clears the flag and leaves
// the payload as is. It returns pkt resliced to its new length. Compress
// before setting FlagFragmented and armoring. A packet shorter than
// MinPacketLength is returned as is.
func (c *Compressor) Compress(pkt Packet) Packet {
	if len(pkt) < MinPacketLength {
		return pkt
	}
	pkt[IndexVerb] &^= VerbFlagCompressed
	payload := pkt[IndexPayload:]
	if len(payload) <= MinCompressPayload || len(payload) > len(c.buf) {
		return pkt
	}
	// A destination one byte shorter than the input makes the compressor
	// give up (n == 0) as soon as the block would not be smaller.
	n, err := c.c.CompressBlock(payload, c.buf[:len(payload)-1])
	if err != nil || n <= 0 || n >= len(payload) {
		return pkt
	}
	copy(payload, c.buf[:n])
	pkt[IndexVerb] |= VerbFlagCompressed
	return pkt[:IndexPayload+n]
}

// Decompress returns pkt with its payload decompressed and
// VerbFlagCompressed cleared, in a new buffer. A packet without the flag
// is returned as is. Decompress after dearmoring.
func Decompress(pkt Packet) (Packet, error) {
	if len(pkt) < MinPacketLength {
		return nil, ErrTooShort
	}
	if !pkt.Compressed() {
		return pkt, nil
	}
	out, err := AppendDecompressed(make([]byte, 0, MaxPacketLength), pkt)
	if err != nil {
		return nil, err
	}
	return Packet(out), nil
}

// AppendDecompressed appends pkt to dst with its payload decompressed (if
// VerbFlagCompressed is set) and the flag cleared; the packet is
// out[len(dst):]. The decompressed payload must be 1 to
// MaxDecompressedPayload bytes; otherwise the error is ErrDecompress and
// out is dst. It does not allocate when dst has room for
// len(dst)+MaxPacketLength bytes.
func AppendDecompressed(dst []byte, pkt Packet) (out []byte, err error) {
	if len(pkt) < MinPacketLength {
		return dst, ErrTooShort
	}
	start := len(dst)
	dst = append(dst, pkt[:IndexPayload]...)
	if !pkt.Compressed() {
		return append(dst, pkt[IndexPayload:]...), nil
	}
	dst[start+IndexVerb] &^= VerbFlagCompressed
	dst = growTo(dst, len(dst)+MaxDecompressedPayload)
	room := dst[start+IndexPayload : start+IndexPayload+MaxDecompressedPayload]
	n, err := lz4.UncompressBlock(pkt[IndexPayload:], room)
	if err != nil || n <= 0 || n > MaxDecompressedPayload {
		return dst[:start], ErrDecompress
	}
	return dst[:start+IndexPayload+n], nil
}

// growTo extends b to length n, reallocating if its capacity is short.
func growTo(b []byte, n int) []byte {
	if n <= cap(b) {
		return b[:n]
	}
	nb := make([]byte, n)
	copy(nb, b)
	return nb
}
