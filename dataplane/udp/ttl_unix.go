//go:build unix && !linux

package udp

import "golang.org/x/sys/unix"

// ttl sets the socket's unicast TTL (hop limit) when set > 0 and returns
// the value it had.
func (c *Conn) ttl(set int) (int, error) {
	level, opt := unix.IPPROTO_IP, unix.IP_TTL
	if !c.is4 {
		level, opt = unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS
	}
	var old int
	var err error
	cerr := c.rc.Control(func(fd uintptr) {
		if old, err = unix.GetsockoptInt(int(fd), level, opt); err != nil || set <= 0 {
			return
		}
		err = unix.SetsockoptInt(int(fd), level, opt, set)
	})
	if cerr != nil {
		return 0, cerr
	}
	return old, err
}
