package udp

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ReadBatch reads datagrams into msgs, setting N and Addr of msgs[:n]. It
// blocks until at least one datagram has arrived and then takes what the
// kernel has queued, up to len(msgs) and BatchSize (with GRO, up to
// len(msgs), splitting coalesced datagrams). Datagrams longer than their
// Buf are dropped.
func (c *Conn) ReadBatch(msgs []Message) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	r := &c.sys.rd
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.sys.gro {
		return c.readGRO(msgs)
	}
	want := min(len(msgs), batchSize)
	for {
		for i := range want {
			setIov(&r.iovs[i], msgs[i].Buf)
			h := &r.hdrs[i]
			h.Hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
			h.Hdr.Namelen = unix.SizeofSockaddrInet6
			h.Hdr.Iov = &r.iovs[i]
			h.Hdr.SetIovlen(1)
			h.Hdr.Control = nil
			h.Hdr.SetControllen(0)
			h.Hdr.Flags = 0
		}
		if err := c.recv(want); err != nil {
			return 0, err
		}
		n := 0
		for i := range r.got {
			h := &r.hdrs[i]
			size := int(h.Len)
			if h.Hdr.Flags&unix.MSG_TRUNC != 0 {
				continue
			}
			if n != i {
				// An earlier datagram was dropped: move this one down,
				// which is rare enough to copy.
				if size > len(msgs[n].Buf) {
					continue
				}
				copy(msgs[n].Buf, msgs[i].Buf[:size])
			}
			msgs[n].N = size
			msgs[n].Addr = r.addr(&r.names[i])
			n++
		}
		if n > 0 {
			return n, nil
		}
	}
}

// readGRO reads into the Conn's slots and splits them into msgs.
func (c *Conn) readGRO(msgs []Message) (int, error) {
	r := &c.sys.rd
	for {
		if c.closed.Load() {
			return 0, net.ErrClosed
		}
		if r.slot >= r.got {
			want := min(len(msgs), groSlots)
			for i := range want {
				r.iovs[i].Base = &r.slots[i][0]
				r.iovs[i].SetLen(groSlotSize)
				h := &r.hdrs[i]
				h.Hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
				h.Hdr.Namelen = unix.SizeofSockaddrInet6
				h.Hdr.Iov = &r.iovs[i]
				h.Hdr.SetIovlen(1)
				h.Hdr.Control = &r.ctrl[i*ctrlSpace]
				h.Hdr.SetControllen(ctrlSpace)
				h.Hdr.Flags = 0
			}
			r.slot, r.off = 0, 0
			if err := c.recv(want); err != nil {
				return 0, err
			}
		}
		if n := r.split(msgs); n > 0 {
			return n, nil
		}
	}
}

// split copies segments of the received slots into msgs, resuming where
// the last call stopped.
func (r *reader) split(msgs []Message) int {
	n := 0
	for r.slot < r.got && n < len(msgs) {
		h := &r.hdrs[r.slot]
		size := int(h.Len)
		addr := r.addr(&r.names[r.slot])
		if h.Hdr.Flags&unix.MSG_TRUNC != 0 {
			r.slot, r.off = r.slot+1, 0 // cannot happen with 64 KiB slots
			continue
		}
		if size == 0 {
			// An empty datagram is a datagram.
			msgs[n].N, msgs[n].Addr = 0, addr
			n++
		}
		seg := size
		if gs := groSize(r.ctrl[r.slot*ctrlSpace:][:int(h.Hdr.Controllen)]); gs > 0 {
			seg = gs
		}
		data := r.slots[r.slot][:size]
		for r.off < size && n < len(msgs) {
			d := data[r.off:min(r.off+seg, size)]
			r.off += len(d)
			if len(d) > len(msgs[n].Buf) {
				continue // dropped: longer than the caller's buffer
			}
			msgs[n].N = copy(msgs[n].Buf, d)
			msgs[n].Addr = addr
			n++
		}
		if r.off >= size {
			r.slot++
			r.off = 0
		}
	}
	return n
}

// recv runs recvmmsg on hdrs[:want] through the poller.
func (c *Conn) recv(want int) error {
	r := &c.sys.rd
	r.want, r.got, r.errno = want, 0, 0
	if err := c.rc.Read(r.fn); err != nil {
		return c.opError("read", netip.AddrPort{}, err)
	}
	if r.errno != 0 {
		return c.opError("read", netip.AddrPort{}, os.NewSyscallError("recvmmsg", r.errno))
	}
	return nil
}

// recvmmsg is the poller callback for reads; false means "wait until
// readable".
func (c *Conn) recvmmsg(fd uintptr) bool {
	r := &c.sys.rd
	for {
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(r.want), 0, 0, 0)
		switch e {
		case 0:
			r.got = int(n)
			return true
		case unix.EAGAIN:
			return false
		case unix.EINTR:
		default:
			r.errno = e
			return true
		}
	}
}

// groSize returns the segment size from a UDP_GRO control message, or 0.
func groSize(ctrl []byte) int {
	for len(ctrl) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&ctrl[0]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(ctrl) {
			return 0
		}
		if h.Level == unix.IPPROTO_UDP && h.Type == unix.UDP_GRO {
			data := ctrl[unix.CmsgLen(0):l]
			switch {
			case len(data) >= 4: // the kernel puts an int
				return int(*(*int32)(unsafe.Pointer(&data[0])))
			case len(data) >= 2:
				return int(*(*uint16)(unsafe.Pointer(&data[0])))
			}
			return 0
		}
		ctrl = ctrl[min(unix.CmsgSpace(l-unix.CmsgLen(0)), len(ctrl)):]
	}
	return 0
}

// WriteBatch sends every msgs[i].Buf to msgs[i].Addr, in order, in as
// many system calls as it takes (one per BatchSize datagrams, fewer with
// GSO). It blocks while the socket buffer is full. On failure it returns
// how many datagrams were sent, msgs[:n], and the error for msgs[n]; the
// caller may skip msgs[n] and call again with msgs[n+1:].
func (c *Conn) WriteBatch(msgs []Message) (int, error) {
	w := &c.sys.wr
	w.mu.Lock()
	defer w.mu.Unlock()
	sent := 0
	noGSO := 0 // msgs before this index go one per entry (after a refused GSO send)
	for sent < len(msgs) {
		nh, nd, err := c.pack(msgs[sent:], noGSO-sent)
		if nh == 0 {
			return sent, c.opError("write", msgs[sent].Addr, err)
		}
		w.n, w.off, w.errno = nh, 0, 0
		werr := c.rc.Write(w.fn)
		done := 0
		for _, k := range w.count[:w.off] {
			done += k
		}
		if werr != nil {
			return sent + done, c.opError("write", netip.AddrPort{}, werr)
		}
		if w.errno != 0 {
			failed := sent + done
			if w.count[w.off] > 1 && c.gsoRefused(w.errno, len(msgs[failed].Buf)) {
				sent, noGSO = failed, failed+w.count[w.off]
				continue
			}
			return failed, c.opError("write", msgs[failed].Addr, os.NewSyscallError("sendmmsg", w.errno))
		}
		sent += nd
	}
	return sent, nil
}

// pack fills the writer's entries from msgs, gathering GSO runs, and
// returns the entries and datagrams it used. It stops early at a bad
// address, returning its error; nh is 0 when msgs[0] is the bad one.
func (c *Conn) pack(msgs []Message, noGSOBefore int) (nh, nd int, err error) {
	w := &c.sys.wr
	gso := c.sys.gso.Load()
	limit := int(c.sys.gsoLimit.Load())
	maxPayload := maxGSOPayload6
	if c.is4 {
		maxPayload = maxGSOPayload4
	}
	v := 0 // iovecs used
	for nd < len(msgs) && nh < batchSize && v < batchSize {
		m := &msgs[nd]
		namelen, err := c.sockaddr(&w.names[nh], m.Addr)
		if err != nil {
			return nh, nd, err
		}
		k, seg := 1, len(m.Buf)
		if gso && nd >= noGSOBefore && seg > 0 && seg <= limit {
			total := seg
			for j := nd + 1; j < len(msgs) && k < maxGSOSegments && v+k < batchSize; j++ {
				l := len(msgs[j].Buf)
				if l == 0 || l > seg || total+l > maxPayload || msgs[j].Addr != m.Addr {
					break
				}
				k++
				total += l
				if l < seg {
					break // a shorter datagram ends the run
				}
			}
		}
		for j := range k {
			setIov(&w.iovs[v+j], msgs[nd+j].Buf)
		}
		h := &w.hdrs[nh]
		h.Hdr.Name = (*byte)(unsafe.Pointer(&w.names[nh]))
		h.Hdr.Namelen = namelen
		h.Hdr.Iov = &w.iovs[v]
		h.Hdr.SetIovlen(k)
		if k > 1 {
			h.Hdr.Control = &w.ctrlBuf(nh)[0]
			h.Hdr.SetControllen(putCmsg(w.ctrlBuf(nh), unix.IPPROTO_UDP, unix.UDP_SEGMENT, 2, seg))
		} else {
			h.Hdr.Control = nil
			h.Hdr.SetControllen(0)
		}
		h.Hdr.Flags = 0
		w.count[nh] = k
		nh++
		nd += k
		v += k
	}
	return nh, nd, nil
}

// gsoRefused reacts to the kernel refusing a GSO entry whose segments are
// seg bytes long, and reports whether sending it again without GSO may
// work.
func (c *Conn) gsoRefused(errno unix.Errno, seg int) bool {
	switch errno {
	case unix.EIO: // no checksum offload on the route
		c.sys.gso.Store(false)
		return true
	case unix.EINVAL, unix.EMSGSIZE: // segment larger than the route's MTU
		for {
			old := c.sys.gsoLimit.Load()
			if int(old) < seg || c.sys.gsoLimit.CompareAndSwap(old, int32(seg-1)) {
				return true
			}
		}
	}
	return false
}

// sendmmsg is the poller callback for writes: it sends hdrs[off:n],
// advancing off; false means "wait until writable".
func (c *Conn) sendmmsg(fd uintptr) bool {
	w := &c.sys.wr
	for w.off < w.n {
		n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.hdrs[w.off])), uintptr(w.n-w.off), 0, 0, 0)
		switch e {
		case 0:
			if n == 0 {
				w.errno = unix.EIO // cannot happen; do not spin
				return true
			}
			w.off += int(n)
		case unix.EAGAIN:
			return false
		case unix.EINTR:
		default:
			w.errno = e
			return true
		}
	}
	return true
}

// WriteTo sends one datagram.
func (c *Conn) WriteTo(b []byte, to netip.AddrPort) error {
	return c.writeOne(b, to, 0)
}

// WriteToTTL sends one datagram with the given IP TTL (IPv6 hop limit),
// 1 to 255, leaving the socket's default for every other write. ZeroTier
// sends its 4-byte NAT-punching packet with TTL 2.
func (c *Conn) WriteToTTL(b []byte, to netip.AddrPort, ttl int) error {
	if ttl < 1 || ttl > 255 {
		return c.opError("write", to, errors.New("TTL out of range 1-255: "+strconv.Itoa(ttl)))
	}
	return c.writeOne(b, to, ttl)
}

// writeOne sends b with sendmmsg of one entry, with a TTL control message
// when ttl > 0.
func (c *Conn) writeOne(b []byte, to netip.AddrPort, ttl int) error {
	w := &c.sys.wr
	w.mu.Lock()
	defer w.mu.Unlock()
	namelen, err := c.sockaddr(&w.names[0], to)
	if err != nil {
		return c.opError("write", to, err)
	}
	setIov(&w.iovs[0], b)
	h := &w.hdrs[0]
	h.Hdr.Name = (*byte)(unsafe.Pointer(&w.names[0]))
	h.Hdr.Namelen = namelen
	h.Hdr.Iov = &w.iovs[0]
	h.Hdr.SetIovlen(1)
	h.Hdr.Control = nil
	h.Hdr.SetControllen(0)
	if ttl > 0 {
		level, typ := int32(unix.IPPROTO_IP), int32(unix.IP_TTL)
		if !c.is4 {
			level, typ = unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT
		}
		h.Hdr.Control = &w.ctrlBuf(0)[0]
		h.Hdr.SetControllen(putCmsg(w.ctrlBuf(0), level, typ, 4, ttl))
	}
	h.Hdr.Flags = 0
	w.count[0] = 1
	w.n, w.off, w.errno = 1, 0, 0
	if err := c.rc.Write(w.fn); err != nil {
		return c.opError("write", to, err)
	}
	if w.errno != 0 {
		return c.opError("write", to, os.NewSyscallError("sendmsg", w.errno))
	}
	return nil
}

// ctrlBuf is entry i's control buffer, 8-byte aligned.
func (w *writer) ctrlBuf(i int) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&w.ctrl[i])), len(w.ctrl[i])*8)
}

// putCmsg writes one control message with a size-byte (2 or 4) native
// integer and returns the room it takes.
func putCmsg(buf []byte, level, typ int32, size, v int) int {
	h := (*unix.Cmsghdr)(unsafe.Pointer(&buf[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(size))
	d := unsafe.Pointer(&buf[unix.CmsgLen(0)])
	if size == 2 {
		*(*uint16)(d) = uint16(v)
	} else {
		*(*int32)(d) = int32(v)
	}
	return unix.CmsgSpace(size)
}

// setIov points iov at b.
func setIov(iov *unix.Iovec, b []byte) {
	if len(b) == 0 {
		iov.Base = nil
		iov.SetLen(0)
		return
	}
	iov.Base = &b[0]
	iov.SetLen(len(b))
}

// sockaddr writes to into sa in the socket's family and returns its
// length.
func (c *Conn) sockaddr(sa *unix.RawSockaddrInet6, to netip.AddrPort) (uint32, error) {
	a := to.Addr()
	port := (*[2]byte)(unsafe.Pointer(&sa.Port))
	port[0], port[1] = byte(to.Port()>>8), byte(to.Port())
	if c.is4 {
		a = a.Unmap()
		if !a.Is4() {
			return 0, ErrFamily
		}
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		sa4.Family = unix.AF_INET
		sa4.Addr = a.As4()
		sa4.Zero = [8]uint8{}
		return unix.SizeofSockaddrInet4, nil
	}
	if !a.Is6() || a.Is4In6() {
		return 0, ErrFamily
	}
	sa.Family = unix.AF_INET6
	sa.Flowinfo = 0
	sa.Addr = a.As16()
	sa.Scope_id = 0
	if z := a.Zone(); z != "" {
		idx, err := c.sys.wr.zoneIndex(z)
		if err != nil {
			return 0, err
		}
		sa.Scope_id = idx
	}
	return unix.SizeofSockaddrInet6, nil
}

// zoneIndex maps an IPv6 zone (interface name or number) to its index.
func (w *writer) zoneIndex(zone string) (uint32, error) {
	if idx, ok := w.zones[zone]; ok {
		return idx, nil
	}
	var idx uint32
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		idx = uint32(n)
	} else {
		ifi, err := net.InterfaceByName(zone)
		if err != nil {
			return 0, err
		}
		idx = uint32(ifi.Index)
	}
	if w.zones == nil {
		w.zones = make(map[string]uint32)
	}
	w.zones[zone] = idx
	return idx, nil
}

// addr converts a received sockaddr, unmapping IPv4-mapped addresses.
func (r *reader) addr(sa *unix.RawSockaddrInet6) netip.AddrPort {
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	port := uint16(p[0])<<8 | uint16(p[1])
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port)
	case unix.AF_INET6:
		a := netip.AddrFrom16(sa.Addr).Unmap()
		if sa.Scope_id != 0 && a.Is6() {
			a = a.WithZone(r.zoneName(sa.Scope_id))
		}
		return netip.AddrPortFrom(a, port)
	}
	return netip.AddrPort{}
}

// zoneName maps an interface index to its name (or number, if the
// interface is gone), cached.
func (r *reader) zoneName(idx uint32) string {
	if z, ok := r.zones[idx]; ok {
		return z
	}
	z := strconv.FormatUint(uint64(idx), 10)
	if ifi, err := net.InterfaceByIndex(int(idx)); err == nil {
		z = ifi.Name
	}
	if r.zones == nil {
		r.zones = make(map[uint32]string)
	}
	r.zones[idx] = z
	return z
}
