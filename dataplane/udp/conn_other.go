//go:build !linux

package udp

import (
	"errors"
	"net/netip"
	"strconv"
	"sync"
)

// connSys is the portable state: one datagram per call.
type connSys struct {
	rmu sync.Mutex // serialises reads, as on Linux
	wmu sync.Mutex // serialises writes, so a WriteToTTL's TTL covers only its datagram
}

// init applies the buffer sizes; GSO and GRO are Linux-only.
func (c *Conn) init(opts Options) error {
	if opts.ReadBuffer > 0 {
		if err := c.pc.SetReadBuffer(opts.ReadBuffer); err != nil {
			return err
		}
	}
	if opts.WriteBuffer > 0 {
		if err := c.pc.SetWriteBuffer(opts.WriteBuffer); err != nil {
			return err
		}
	}
	return nil
}

// BatchSize is 1 here: every call moves one datagram.
func (c *Conn) BatchSize() int { return 1 }

// Offload reports false, false: GSO and GRO are Linux-only.
func (c *Conn) Offload() (gso, gro bool) { return false, false }

// ReadBatch reads one datagram into msgs[0], blocking until it arrives.
func (c *Conn) ReadBatch(msgs []Message) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	c.sys.rmu.Lock()
	defer c.sys.rmu.Unlock()
	n, from, err := c.pc.ReadFromUDPAddrPort(msgs[0].Buf)
	if err != nil {
		return 0, c.opError("read", netip.AddrPort{}, err)
	}
	msgs[0].N = n
	msgs[0].Addr = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	return 1, nil
}

// WriteBatch sends msgs in order, one call each, and returns how many
// were sent and the error for msgs[n] if one failed.
func (c *Conn) WriteBatch(msgs []Message) (int, error) {
	c.sys.wmu.Lock()
	defer c.sys.wmu.Unlock()
	for i := range msgs {
		if err := c.write(msgs[i].Buf, msgs[i].Addr); err != nil {
			return i, err
		}
	}
	return len(msgs), nil
}

// WriteTo sends one datagram.
func (c *Conn) WriteTo(b []byte, to netip.AddrPort) error {
	c.sys.wmu.Lock()
	defer c.sys.wmu.Unlock()
	return c.write(b, to)
}

// WriteToTTL sends one datagram with the given IP TTL (IPv6 hop limit),
// 1 to 255: it sets the socket's TTL, sends, and restores it.
func (c *Conn) WriteToTTL(b []byte, to netip.AddrPort, ttl int) error {
	if ttl < 1 || ttl > 255 {
		return c.opError("write", to, errors.New("TTL out of range 1-255: "+strconv.Itoa(ttl)))
	}
	c.sys.wmu.Lock()
	defer c.sys.wmu.Unlock()
	old, err := c.ttl(0)
	if err != nil {
		return c.opError("write", to, err)
	}
	if _, err := c.ttl(ttl); err != nil {
		return c.opError("write", to, err)
	}
	werr := c.write(b, to)
	if _, err := c.ttl(old); err != nil && werr == nil {
		werr = c.opError("write", to, err)
	}
	return werr
}

// write sends one datagram, unmapping or refusing addresses of the other
// family as on Linux; the caller holds wmu.
func (c *Conn) write(b []byte, to netip.AddrPort) error {
	a := to.Addr()
	if c.is4 {
		a = a.Unmap()
		if !a.Is4() {
			return c.opError("write", to, ErrFamily)
		}
	} else if !a.Is6() || a.Is4In6() {
		return c.opError("write", to, ErrFamily)
	}
	if _, err := c.pc.WriteToUDPAddrPort(b, netip.AddrPortFrom(a, to.Port())); err != nil {
		return c.opError("write", to, err)
	}
	return nil
}
