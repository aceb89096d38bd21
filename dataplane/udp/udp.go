package udp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
)

// Message is one datagram in a batch.
type Message struct {
	// Buf is, for a read, the caller's buffer, filled to N; for a write,
	// the datagram (all of it; N is ignored).
	Buf []byte
	// N is the length of the datagram read into Buf.
	N int
	// Addr is the remote address: the source of a datagram read, the
	// destination of one written. IPv4-mapped IPv6 addresses are reported
	// unmapped, and accepted for writes on an IPv4 Conn.
	Addr netip.AddrPort
}

// Options tune a Conn. The zero value keeps the kernel's defaults.
type Options struct {
	// ReadBuffer and WriteBuffer set SO_RCVBUF and SO_SNDBUF in bytes
	// (the kernel doubles them for its bookkeeping); 0 keeps the default.
	// On Linux SO_RCVBUFFORCE and SO_SNDBUFFORCE are tried first, which
	// exceed net.core.rmem_max and wmem_max when running as root.
	ReadBuffer, WriteBuffer int
	// GSO sends runs of equal-size datagrams to one address as one UDP
	// segmentation offload super-packet, where the kernel supports it.
	GSO bool
	// GRO accepts coalesced datagrams from the kernel (UDP_GRO) and
	// splits them, where the kernel supports it.
	GRO bool
}

// MaxDatagram is the largest UDP payload over IPv6 (65,535 bytes less the
// 8-byte UDP header); over IPv4 the limit is 65,507. Read buffers of this
// size never drop a datagram.
const MaxDatagram = 65527

// ErrFamily is the error (wrapped in a *net.OpError) for a destination of
// the other address family: an IPv6 address on an IPv4 Conn, or an IPv4
// (or IPv4-mapped) address on an IPv6 one.
var ErrFamily = errors.New("address family does not match the socket")

// Conn is one bound UDP socket, IPv4 or IPv6. See the package
// documentation for batching, offloads and concurrency.
type Conn struct {
	pc      *net.UDPConn
	rc      syscall.RawConn
	laddr   netip.AddrPort
	is4     bool
	network string // "udp4" or "udp6", for errors

	closeOnce sync.Once
	closed    atomic.Bool // set by Close; GRO segments already read are not handed out after it

	sys connSys // the platform's batch state
}

// Listen binds one UDP socket to laddr: a wildcard ("0.0.0.0:9993",
// "[::]:9993"; an IPv6 socket always has IPV6_V6ONLY set), a specific
// address, or port 0 for a port the kernel chooses. An IPv4-mapped laddr
// binds an IPv4 socket.
func Listen(laddr netip.AddrPort, opts Options) (*Conn, error) {
	if !laddr.Addr().IsValid() {
		return nil, &net.OpError{Op: "listen", Net: "udp", Err: errors.New("invalid local address")}
	}
	a := laddr.Addr().Unmap()
	if a.Is4() {
		a = a.WithZone("")
	}
	c := &Conn{is4: a.Is4(), network: "udp6"}
	if c.is4 {
		c.network = "udp4"
	}
	// The standard library sets IPV6_V6ONLY for "udp6" before bind.
	pc, err := net.ListenUDP(c.network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, laddr.Port())))
	if err != nil {
		return nil, err
	}
	c.pc = pc
	if c.rc, err = pc.SyscallConn(); err != nil {
		pc.Close()
		return nil, err
	}
	if ua, ok := pc.LocalAddr().(*net.UDPAddr); ok {
		c.laddr = netip.AddrPortFrom(ua.AddrPort().Addr().Unmap(), ua.AddrPort().Port())
	}
	if err := c.init(opts); err != nil {
		pc.Close()
		return nil, &net.OpError{Op: "listen", Net: c.network, Addr: pc.LocalAddr(), Err: err}
	}
	return c, nil
}

// LocalAddr is the bound address, with the chosen port when Listen was
// given port 0.
func (c *Conn) LocalAddr() netip.AddrPort { return c.laddr }

// String describes the Conn for logs.
func (c *Conn) String() string { return fmt.Sprintf("%s %s", c.network, c.laddr) }

// Close closes the socket. A ReadBatch or WriteBatch blocked on it returns
// net.ErrClosed, as does every call after. Closing twice is harmless: the
// second call returns nil.
func (c *Conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		err = c.pc.Close()
	})
	return err
}

// opError wraps a read or write failure; net.ErrClosed is returned bare
// so that callers can compare it.
func (c *Conn) opError(op string, to netip.AddrPort, err error) error {
	if errors.Is(err, net.ErrClosed) {
		return net.ErrClosed
	}
	e := &net.OpError{Op: op, Net: c.network, Source: net.UDPAddrFromAddrPort(c.laddr), Err: err}
	if to.IsValid() {
		e.Addr = net.UDPAddrFromAddrPort(to)
	}
	return e
}
