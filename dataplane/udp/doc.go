// Package udp is the node's UDP transport on the userspace path: bound
// sockets that read and write datagrams in batches, for a data plane where
// packets per second matter.
//
// The package knows nothing of the ZeroTier protocol. The protocol core
// (package controlplane) has no I/O; the daemon reads datagrams here, feeds
// them to the core and sends what the core returns. Nothing in dataplane
// imports controlplane.
//
// # Shape
//
// A [Conn] is one bound UDP socket, IPv4 or IPv6 (an IPv6 socket has
// IPV6_V6ONLY set, so the two families never share a socket and every
// address a Conn reports is a plain IPv4 or IPv6 address, never an
// IPv4-mapped one). A [Set] is the sockets a node listens on: one Conn per
// bind address, or the IPv4 and IPv6 wildcards, all on the same port.
//
// I/O is in batches of [Message], each naming one datagram:
//
//	ReadBatch(msgs)   fills msgs[i].Buf[:N] and Addr for i < n; blocks until n >= 1
//	WriteBatch(msgs)  sends msgs[i].Buf to msgs[i].Addr, in order
//
// The caller owns every buffer, so it can leave headroom in front of a
// read (slice Buf past it) and decrypt or decapsulate in place. Read buffers
// should hold the largest datagram the caller accepts: a datagram longer
// than its Buf is dropped, not truncated, and does not count in n.
//
// All methods are safe for concurrent use; reads are serialised with reads
// and writes with writes, so one reader and one writer goroutine per Conn
// is the intended use. After Close every method returns [net.ErrClosed],
// and a ReadBatch or WriteBatch blocked in the kernel returns at once.
//
// # Linux: recvmmsg, sendmmsg, UDP GSO and GRO
//
// On Linux a batch is one recvmmsg or sendmmsg system call (up to
// [Conn.BatchSize] datagrams), issued through the socket's
// [syscall.RawConn] so that blocking goes through Go's network poller like
// any net.Conn. Every structure the kernel sees (mmsghdr, iovec, sockaddr,
// control buffers) is preallocated in the Conn, and addresses are
// converted straight to and from [netip.AddrPort], so a batch makes no heap
// allocation in steady state.
//
// golang.org/x/net/ipv4 and ipv6 PacketConn batch with the same system
// calls. Measured with BenchmarkLoopback's harness on IPv4 (1,400-byte
// datagrams, medians of 5, a shared 2-core VM) they moved 150k, 221k and
// 241k packets/s at batches of 1, 8 and 32 against this package's 153k,
// 230k and 306k: the kernel's per-datagram work dominates. They were not
// used because their Message carries a net.Addr: every datagram read
// allocates a net.IP and a *net.UDPAddr (2 allocations, 52 bytes), which a
// data plane at a million packets per second turns into garbage-collector
// load, and every destination written must be a net.Addr. Talking to
// x/sys/unix directly costs about 500 lines and has no such overhead.
//
// UDP generic segmentation offload (Options.GSO, Linux 4.18+): WriteBatch
// gathers each run of consecutive messages to the same address whose
// lengths are equal (the last may be shorter) into one sendmmsg entry with
// one iovec per datagram and a UDP_SEGMENT control message, so the kernel
// builds one large packet and splits it late (on the NIC, or just before
// the device), and nothing is copied. A run stops at 64 segments or 65,507
// bytes (65,527 over IPv6). When the kernel refuses a GSO send (EIO: no
// checksum offload on the route, which turns GSO off for the Conn; EINVAL
// or EMSGSIZE: a segment larger than the route's MTU, which turns GSO off
// for segments that large), the run is sent again one datagram per entry;
// callers never see those errors.
//
// UDP generic receive offload (Options.GRO, Linux 5.0+): the kernel may
// hand over several datagrams from one sender as one buffer with a UDP_GRO
// control message giving the segment size. ReadBatch then reads into the
// Conn's own 64 KiB slots (16 of them, allocated only when GRO is on) and
// copies each segment into the caller's next Message; segments that do
// not fit the caller's batch wait for the next ReadBatch, which returns
// them without a system call. GRO costs one copy per datagram and saves a
// trip through the stack for every datagram after the first of a
// coalesced run; on loopback it pays off only when the sender uses GSO.
//
// [Conn.Offload] reports what is in effect: both options fall back
// silently where the kernel lacks them.
//
// Socket buffers (Options.ReadBuffer, WriteBuffer) are set with
// SO_RCVBUFFORCE and SO_SNDBUFFORCE first, which bypass the
// net.core.rmem_max and wmem_max limits when the process has
// CAP_NET_ADMIN, and with SO_RCVBUF and SO_SNDBUF otherwise.
//
// [Conn.WriteToTTL] sends one datagram with an IP TTL (IPv6 hop limit)
// given in an IP_TTL (IPV6_HOPLIMIT) control message, so concurrent writes
// keep the socket's default. ZeroTier sends its NAT-punching packet with
// TTL 2.
//
// # Other systems
//
// Elsewhere a batch is one datagram (BatchSize is 1) through the
// standard library's allocation-free ReadFromUDPAddrPort and
// WriteToUDPAddrPort; GSO and GRO are off; WriteToTTL sets the socket's
// TTL, sends and restores it, holding the write lock; a datagram longer
// than its Buf is truncated, not dropped. This path exists so
// the project builds everywhere; only Linux is tuned.
package udp
