package cred

import "fmt"

// Credentials is the payload of NETWORK_CREDENTIALS (verb 0x0a).
type Credentials struct {
	COMs         []COM
	Capabilities []Capability
	Tags         []Tag
	Revocations  []Revocation
	COOs         []COO
	// Sections is how many of the four counted sections (capabilities,
	// tags, revocations, COOs) follow the COMs. ParseCredentials sets it;
	// AppendMarshal writes at least this many, and as many as the last
	// non-empty list needs. Senders since 1.2 write all four.
	Sections int
}

// ParseCredentials reads a NETWORK_CREDENTIALS payload: COMs until a zero
// byte (or the end), then up to four sections, each a 2-byte count and
// that many credentials. A section may be missing only if the payload ends
// there. Bytes after the COO section are left unread (n < len(b)), as the
// reference ignores them.
func ParseCredentials(b []byte) (Credentials, int, error) {
	var c Credentials
	p := 0
	for p < len(b) && b[p] != 0 {
		com, n, err := ParseCOM(b[p:])
		if err != nil {
			return Credentials{}, 0, fmt.Errorf("credentials: COM %d at offset %d: %w", len(c.COMs), p, err)
		}
		c.COMs = append(c.COMs, com)
		p += n
	}
	if p == len(b) {
		return c, p, nil // no terminator: a payload from a very old sender
	}
	p++ // terminator
	section := func(name string, parse func([]byte) (int, error)) error {
		if p >= len(b) {
			return nil
		}
		if len(b)-p < 2 {
			return fmt.Errorf("credentials: %w: %s count at offset %d", ErrTruncated, name, p)
		}
		count := int(be.Uint16(b[p:]))
		p += 2
		c.Sections++
		for i := 0; i < count; i++ {
			n, err := parse(b[p:])
			if err != nil {
				return fmt.Errorf("credentials: %s %d at offset %d: %w", name, i, p, err)
			}
			p += n
		}
		return nil
	}
	err := section("capability", func(b []byte) (int, error) {
		v, n, err := ParseCapability(b)
		if err == nil {
			c.Capabilities = append(c.Capabilities, v)
		}
		return n, err
	})
	if err == nil {
		err = section("tag", func(b []byte) (int, error) {
			v, n, err := ParseTag(b)
			if err == nil {
				c.Tags = append(c.Tags, v)
			}
			return n, err
		})
	}
	if err == nil {
		err = section("revocation", func(b []byte) (int, error) {
			v, n, err := ParseRevocation(b)
			if err == nil {
				c.Revocations = append(c.Revocations, v)
			}
			return n, err
		})
	}
	if err == nil {
		err = section("COO", func(b []byte) (int, error) {
			v, n, err := ParseCOO(b)
			if err == nil {
				c.COOs = append(c.COOs, v)
			}
			return n, err
		})
	}
	if err != nil {
		return Credentials{}, 0, err
	}
	return c, p, nil
}

// sections is the number of counted sections AppendMarshal writes.
func (c *Credentials) sections() int {
	s := min(max(c.Sections, 0), 4)
	for i, l := range []int{len(c.Capabilities), len(c.Tags), len(c.Revocations), len(c.COOs)} {
		if l > 0 {
			s = max(s, i+1)
		}
	}
	return s
}

// AppendMarshal appends the payload to dst: the COMs, the 0x00
// terminator, then the counted sections. Lists longer than 65535 are
// clipped (a packet could never hold them).
func (c *Credentials) AppendMarshal(dst []byte) []byte {
	for i := range c.COMs {
		dst = c.COMs[i].AppendMarshal(dst)
	}
	dst = append(dst, 0)
	s := c.sections()
	if s >= 1 {
		n := min(len(c.Capabilities), 0xffff)
		dst = be.AppendUint16(dst, uint16(n))
		for i := range c.Capabilities[:n] {
			dst = c.Capabilities[i].AppendMarshal(dst)
		}
	}
	if s >= 2 {
		n := min(len(c.Tags), 0xffff)
		dst = be.AppendUint16(dst, uint16(n))
		for i := range c.Tags[:n] {
			dst = c.Tags[i].AppendMarshal(dst)
		}
	}
	if s >= 3 {
		n := min(len(c.Revocations), 0xffff)
		dst = be.AppendUint16(dst, uint16(n))
		for i := range c.Revocations[:n] {
			dst = c.Revocations[i].AppendMarshal(dst)
		}
	}
	if s >= 4 {
		n := min(len(c.COOs), 0xffff)
		dst = be.AppendUint16(dst, uint16(n))
		for i := range c.COOs[:n] {
			dst = c.COOs[i].AppendMarshal(dst)
		}
	}
	return dst
}
