package udp

import (
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	// batchSize is the most datagrams one recvmmsg or sendmmsg moves.
	batchSize = 64
	// groSlots is how many coalesced buffers one GRO read fills, and
	// groSlotSize the size of each (the kernel coalesces up to 64 KiB).
	groSlots    = 16
	groSlotSize = 1 << 16
	// maxGSOSegments is the kernel's UDP_MAX_SEGMENTS before Linux 6.13
	// raised it to 128.
	maxGSOSegments = 64
	// maxGSOPayload4 and maxGSOPayload6 bound the payload of one GSO
	// super-packet (IP total length, or IPv6 payload length, of 65,535).
	maxGSOPayload4 = 65535 - 20 - 8
	maxGSOPayload6 = 65535 - 8
)

// ctrlSpace is the room for one control message holding an int: UDP_GRO
// on reads; UDP_SEGMENT (a uint16), IP_TTL or IPV6_HOPLIMIT on writes.
var ctrlSpace = unix.CmsgSpace(4)

// connSys is the Linux batch state: everything the kernel reads or writes
// is allocated here once.
type connSys struct {
	gso      atomic.Bool  // UDP_SEGMENT in use
	gsoLimit atomic.Int32 // largest segment size GSO is tried for
	gro      bool         // UDP_GRO enabled
	rd       reader
	wr       writer
}

// reader is the recvmmsg state, guarded by mu.
type reader struct {
	mu    sync.Mutex
	hdrs  [batchSize]unix.Mmsghdr
	iovs  [batchSize]unix.Iovec
	names [batchSize]unix.RawSockaddrInet6
	zones map[uint32]string // interface index to name, for link-local sources

	// GRO only: the Conn's own slots and control buffers, and the
	// position of segments not yet handed out (slot < got).
	slots [][]byte
	ctrl  []byte
	slot  int // slot being split
	off   int // offset of its next segment

	fn    func(fd uintptr) bool // recvmmsg of hdrs[:want]
	want  int
	got   int
	errno syscall.Errno
}

// writer is the sendmmsg state, guarded by mu.
type writer struct {
	mu    sync.Mutex
	hdrs  [batchSize]unix.Mmsghdr
	iovs  [batchSize]unix.Iovec
	names [batchSize]unix.RawSockaddrInet6
	ctrl  [batchSize][4]uint64 // ctrlSpace bytes each (24 on 64-bit systems), aligned
	count [batchSize]int       // datagrams in each hdr
	zones map[string]uint32    // interface name to index, for link-local destinations

	fn    func(fd uintptr) bool // sendmmsg of hdrs[off:n]
	n     int
	off   int
	errno syscall.Errno
}

// init applies opts and prepares the batch state.
func (c *Conn) init(opts Options) error {
	s := &c.sys
	s.rd.fn = c.recvmmsg
	s.wr.fn = c.sendmmsg
	s.gsoLimit.Store(1 << 30)
	var err error
	cerr := c.rc.Control(func(fd uintptr) {
		if err = setBuffer(int(fd), unix.SO_RCVBUFFORCE, unix.SO_RCVBUF, opts.ReadBuffer); err != nil {
			return
		}
		if err = setBuffer(int(fd), unix.SO_SNDBUFFORCE, unix.SO_SNDBUF, opts.WriteBuffer); err != nil {
			return
		}
		// Like the reference, let routers fragment: no DF bit and no path
		// MTU discovery, so that full-size datagrams still cross links
		// with a smaller MTU. Each call fails harmlessly on the other
		// family's socket.
		unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DONT)
		unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_DONT)
		if opts.GSO {
			// Kernels that know UDP_SEGMENT answer the query.
			_, gerr := unix.GetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_SEGMENT)
			s.gso.Store(gerr == nil)
		}
		if opts.GRO {
			s.gro = unix.SetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_GRO, 1) == nil
		}
	})
	if cerr != nil {
		return cerr
	}
	if err != nil {
		return err
	}
	if s.gro {
		s.rd.slots = make([][]byte, groSlots)
		for i := range s.rd.slots {
			s.rd.slots[i] = make([]byte, groSlotSize)
		}
		words := make([]uint64, (groSlots*ctrlSpace+7)/8) // aligned for cmsghdr
		s.rd.ctrl = unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8)
	}
	return nil
}

// setBuffer sets a socket buffer size, past the sysctl limit if allowed.
func setBuffer(fd, force, opt, size int) error {
	if size <= 0 {
		return nil
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, force, size) == nil {
		return nil
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, opt, size); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	return nil
}

// BatchSize is the most datagrams one ReadBatch or system call moves;
// WriteBatch takes any number and splits them.
func (c *Conn) BatchSize() int { return batchSize }

// Offload reports whether UDP GSO and GRO are in effect: requested in
// Options and supported by the kernel (GSO turns off after the kernel
// refuses it with EIO).
func (c *Conn) Offload() (gso, gro bool) { return c.sys.gso.Load(), c.sys.gro }
