//go:build !unix && !windows

package udp

import "errors"

// ttl is unsupported on this system.
func (c *Conn) ttl(set int) (int, error) {
	return 0, errors.New("setting the TTL is not supported on this system")
}
