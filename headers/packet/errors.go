package packet

import "errors"

// Errors. Functions on the per-packet path (Armor, Dearmor, Compress) return
// these values unwrapped so that they do not allocate; parsers wrap them
// with context. Test with errors.Is.
var (
	ErrTooShort       = errors.New("packet: too short")
	ErrTooLong        = errors.New("packet: longer than the largest packet")
	ErrIsFragment     = errors.New("packet: datagram is a fragment")
	ErrNotFragment    = errors.New("packet: datagram is not a fragment")
	ErrBadFragment    = errors.New("packet: invalid fragment numbering")
	ErrNotFragmented  = errors.New("packet: fragmented flag not set")
	ErrFlagMismatch   = errors.New("packet: fragmented flag does not match the packet size and MTU")
	ErrBadMTU         = errors.New("packet: MTU too small")
	ErrTooManyPieces  = errors.New("packet: needs more than 7 fragments")
	ErrBadMAC         = errors.New("packet: invalid MAC")
	ErrUnknownSuite   = errors.New("packet: undefined cipher suite")
	ErrTrustedPath    = errors.New("packet: trusted-path packet (suite 2): caller must check TrustedPathID")
	ErrDecompress     = errors.New("packet: LZ4 decompression failed")
	ErrFieldRange     = errors.New("packet: field outside the packet")
	ErrFragmentsClash = errors.New("packet: fragment disagrees with earlier pieces")
)
