package netns

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"
)

// ListenUDP opens a UDP socket inside the namespace, bound to addr (port 0
// for any), and closes it when the test ends. The socket can be used from
// any goroutine.
func (n *NS) ListenUDP(tb testing.TB, addr netip.AddrPort) *net.UDPConn {
	tb.Helper()
	c, err := n.listenUDP(addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func (n *NS) listenUDP(addr netip.AddrPort) (*net.UDPConn, error) {
	network := "udp4"
	if addr.Addr().Is6() {
		network = "udp6"
	}
	var c *net.UDPConn
	err := n.Do(func() error {
		var err error
		c, err = net.ListenUDP(network, net.UDPAddrFromAddrPort(addr))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netns %s: listening on udp %v: %w", n.Name, addr, err)
	}
	return c, nil
}

// Echo is a UDP echo server in a namespace: it sends every datagram back to
// its sender and remembers the senders, so a test can see what address a
// packet arrived from (the outside of a NAT, for instance).
type Echo struct {
	Conn *net.UDPConn

	mu      sync.Mutex
	sources []netip.AddrPort
	done    chan struct{}
}

// Echo starts a UDP echo server on addr inside the namespace; it stops when
// the test ends.
func (n *NS) Echo(tb testing.TB, addr netip.AddrPort) *Echo {
	tb.Helper()
	c, err := n.listenUDP(addr)
	if err != nil {
		tb.Fatal(err)
	}
	e := &Echo{Conn: c, done: make(chan struct{})}
	go e.serve() // owned by e: ends when the cleanup closes the socket
	tb.Cleanup(func() {
		c.Close()
		<-e.done
	})
	return e
}

func (e *Echo) serve() {
	defer close(e.done)
	buf := make([]byte, 65536)
	for {
		m, from, err := e.Conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // an ICMP error reported on the socket, for instance
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		e.mu.Lock()
		seen := false
		for _, s := range e.sources {
			seen = seen || s == from
		}
		if !seen {
			e.sources = append(e.sources, from)
		}
		e.mu.Unlock()
		_, _ = e.Conn.WriteToUDPAddrPort(buf[:m], from)
	}
}

// Addr is the address the server listens on.
func (e *Echo) Addr() netip.AddrPort {
	return e.Conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Sources are the distinct senders seen so far, first seen first.
func (e *Echo) Sources() []netip.AddrPort {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]netip.AddrPort(nil), e.sources...)
}

// ProbeUDP sends a datagram from a new socket inside the namespace to dst
// (an Echo) and waits for it to come back, resending every 100 ms, for at
// most timeout. It returns nil once the echo arrives; after a timeout the
// error wraps os.ErrDeadlineExceeded.
func (n *NS) ProbeUDP(dst netip.AddrPort, timeout time.Duration) error {
	var unspec netip.Addr
	if dst.Addr().Is4() {
		unspec = netip.IPv4Unspecified()
	} else {
		unspec = netip.IPv6Unspecified()
	}
	c, err := n.listenUDP(netip.AddrPortFrom(unspec, 0))
	if err != nil {
		return err
	}
	defer c.Close()
	if err := Probe(c, dst, timeout); err != nil {
		return fmt.Errorf("netns %s: %w", n.Name, err)
	}
	return nil
}

// Probe sends a datagram from c to dst (an Echo) and waits for it to come
// back, resending every 100 ms, for at most timeout. After a timeout the
// error wraps os.ErrDeadlineExceeded; other datagrams arriving on c are
// dropped.
func Probe(c *net.UDPConn, dst netip.AddrPort, timeout time.Duration) error {
	nonce := make([]byte, 16)
	rand.Read(nonce)
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 2048)
	var lastErr error
	for time.Now().Before(deadline) {
		if _, err := c.WriteToUDPAddrPort(nonce, dst); err != nil {
			lastErr = err // no route, for instance; try again until the deadline
		}
		round := time.Now().Add(100 * time.Millisecond)
		if round.After(deadline) {
			round = deadline
		}
		_ = c.SetReadDeadline(round)
		for {
			m, _, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					lastErr = err
					time.Sleep(time.Until(round))
				}
				break
			}
			if bytes.Equal(buf[:m], nonce) {
				_ = c.SetReadDeadline(time.Time{})
				return nil
			}
		}
	}
	_ = c.SetReadDeadline(time.Time{})
	if lastErr != nil {
		return fmt.Errorf("udp probe %v -> %v: no echo within %v (%w; last error: %v)", c.LocalAddr(), dst, timeout, os.ErrDeadlineExceeded, lastErr)
	}
	return fmt.Errorf("udp probe %v -> %v: no echo within %v (%w)", c.LocalAddr(), dst, timeout, os.ErrDeadlineExceeded)
}
