package udp

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// Set is the sockets a node listens on, all bound to one port.
type Set struct {
	conns []*Conn
	port  uint16
}

// listenTries bounds how often ListenSet with port 0 looks for a port
// free on every address.
const listenTries = 16

// ListenSet binds one Conn on port for each address in bind, or, when bind
// is empty, for the IPv4 and IPv6 wildcards (a family the host lacks is
// skipped; at least one must bind). With port 0 the kernel chooses a port
// for the first address and the others bind the same one, trying again
// with a new port if it is taken on one of them. Addresses must not
// overlap (a wildcard and a specific address of the same family would
// share the port, which the kernel refuses).
func ListenSet(bind []netip.Addr, port uint16, opts Options) (*Set, error) {
	wild := len(bind) == 0
	if wild {
		bind = []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()}
	}
	seen := make(map[netip.Addr]bool, len(bind))
	for _, a := range bind {
		if !a.IsValid() {
			return nil, errors.New("udp: invalid bind address")
		}
		if seen[a.Unmap()] {
			return nil, fmt.Errorf("udp: bind address %s given twice", a)
		}
		seen[a.Unmap()] = true
	}
	for try := 1; ; try++ {
		s, err := listenSet(bind, port, opts, wild)
		if err == nil || port != 0 || try == listenTries || !errors.Is(err, syscall.EADDRINUSE) || len(bind) == 1 {
			return s, err
		}
	}
}

// listenSet is one try of ListenSet.
func listenSet(bind []netip.Addr, port uint16, opts Options, wild bool) (*Set, error) {
	s := &Set{port: port}
	for _, a := range bind {
		c, err := Listen(netip.AddrPortFrom(a, s.port), opts)
		if err != nil {
			if wild && (errors.Is(err, syscall.EAFNOSUPPORT) || errors.Is(err, syscall.EADDRNOTAVAIL)) {
				continue // this host has no such family
			}
			s.Close()
			return nil, err
		}
		s.conns = append(s.conns, c)
		s.port = c.LocalAddr().Port()
	}
	if len(s.conns) == 0 {
		return nil, errors.New("udp: no address family could be bound")
	}
	return s, nil
}

// Conns are the bound sockets, in the order of the bind addresses.
func (s *Set) Conns() []*Conn { return s.conns }

// Port is the port every Conn is bound to: the one asked for, or the one
// the kernel chose for port 0.
func (s *Set) Port() uint16 { return s.port }

// LocalAddrs reports what was bound, one address per Conn.
func (s *Set) LocalAddrs() []netip.AddrPort {
	out := make([]netip.AddrPort, len(s.conns))
	for i, c := range s.conns {
		out[i] = c.LocalAddr()
	}
	return out
}

// Close closes every Conn.
func (s *Set) Close() error {
	var errs []error
	for _, c := range s.conns {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
