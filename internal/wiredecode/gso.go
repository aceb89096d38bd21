package wiredecode

import "bytes"

// gsoMinLength is the payload length above which a datagram may be a
// capture of a UDP GSO send (a capture on the sending side sees the
// super-packet before the kernel cuts it): longer than any datagram on a
// standard 1500-byte link.
const gsoMinLength = 1472

// SplitGSO cuts a captured UDP payload that holds several ZeroTier
// datagrams sent as one UDP GSO super-packet back into those datagrams.
// Such a payload is segments of one size (the last may be shorter), all
// to the same ZeroTier destination; SplitGSO looks for the smallest
// segment size at which every segment names the first one's destination
// (bytes 8..12, in both packets and fragments). Anything else comes back
// whole.
func SplitGSO(p []byte) [][]byte {
	if len(p) <= gsoMinLength {
		return [][]byte{p}
	}
	const minPiece = 16 // a fragment header
	dest := p[8:13]
	for size := 28; size <= len(p)-minPiece; size++ {
		if last := len(p) % size; last != 0 && last < minPiece {
			continue
		}
		ok := true
		for off := size; off < len(p); off += size {
			if !bytes.Equal(p[off+8:off+13], dest) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		var out [][]byte
		for off := 0; off < len(p); off += size {
			out = append(out, p[off:min(off+size, len(p))])
		}
		return out
	}
	return [][]byte{p}
}
