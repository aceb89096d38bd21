package udp

import "golang.org/x/sys/windows"

// ttl sets the socket's unicast TTL (hop limit) when set > 0 and returns
// the value it had.
func (c *Conn) ttl(set int) (int, error) {
	level, opt := windows.IPPROTO_IP, windows.IP_TTL
	if !c.is4 {
		level, opt = windows.IPPROTO_IPV6, windows.IPV6_UNICAST_HOPS
	}
	var old int
	var err error
	cerr := c.rc.Control(func(fd uintptr) {
		if old, err = windows.GetsockoptInt(windows.Handle(fd), level, opt); err != nil || set <= 0 {
			return
		}
		err = windows.SetsockoptInt(windows.Handle(fd), level, opt, set)
	})
	if cerr != nil {
		return 0, cerr
	}
	return old, err
}
