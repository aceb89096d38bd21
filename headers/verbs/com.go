package verbs

import (
	"encoding/binary"
	"fmt"
)

// CertificateOfMembership layout, as far as needed to find its length (PROTOCOL.md part 2
// §5.1): marker 0x01 (1), qualifier count Q (2), Q × 24 qualifier bytes, signer address (5),
// and a 96-byte signature only if the signer is not zero. headers/cred decodes its content.
const (
	comMarker        = 0x01
	comMaxQualifiers = 8
	comQualifierLen  = 24
	comSignatureLen  = 96
)

// comLength returns the length of the serialized COM at the start of b.
func comLength(b []byte) (int, error) {
	if len(b) < 3 {
		return 0, fmt.Errorf("%w: COM header", ErrTruncated)
	}
	if b[0] != comMarker {
		return 0, fmt.Errorf("%w: COM format marker %#02x", ErrInvalid, b[0])
	}
	q := int(binary.BigEndian.Uint16(b[1:3]))
	if q > comMaxQualifiers {
		return 0, fmt.Errorf("%w: COM has %d qualifiers (max %d)", ErrInvalid, q, comMaxQualifiers)
	}
	n := 3 + q*comQualifierLen + 5
	if len(b) < n {
		return 0, fmt.Errorf("%w: COM needs %d bytes, have %d", ErrTruncated, n, len(b))
	}
	for _, x := range b[n-5 : n] {
		if x != 0 {
			n += comSignatureLen
			break
		}
	}
	if len(b) < n {
		return 0, fmt.Errorf("%w: COM signature needs %d bytes, have %d", ErrTruncated, n, len(b))
	}
	return n, nil
}

// com reads one serialized COM as raw bytes.
func (c *cursor) com(field string) Bytes {
	if c.err != nil {
		return nil
	}
	n, err := comLength(c.b[c.off:])
	if err != nil {
		c.err = fmt.Errorf("%s at payload offset %d: %w", field, c.off, err)
		return nil
	}
	return c.take(n, field)
}
