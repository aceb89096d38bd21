package udp

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sockopt reads an integer socket option of c.
func sockopt(t *testing.T, c *Conn, level, opt int) int {
	t.Helper()
	var v int
	var err error
	if cerr := c.rc.Control(func(fd uintptr) { v, err = unix.GetsockoptInt(int(fd), level, opt) }); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestV6Only(t *testing.T) {
	for _, a := range []netip.Addr{netip.IPv6Unspecified(), lo6} {
		c := listen(t, a, Options{})
		if sockopt(t, c, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY) != 1 {
			t.Errorf("%v: IPV6_V6ONLY not set", c)
		}
	}
}

func TestSocketBuffers(t *testing.T) {
	// 8 MiB exceeds the usual net.core.rmem_max; as root the FORCE
	// options get past it. The kernel reports double what was set.
	const size = 8 << 20
	c := listen(t, lo4, Options{ReadBuffer: size, WriteBuffer: size})
	rcv, snd := sockopt(t, c, unix.SOL_SOCKET, unix.SO_RCVBUF), sockopt(t, c, unix.SOL_SOCKET, unix.SO_SNDBUF)
	if unix.Geteuid() == 0 {
		if rcv != 2*size || snd != 2*size {
			t.Fatalf("as root: SO_RCVBUF %d, SO_SNDBUF %d; want %d", rcv, snd, 2*size)
		}
		return
	}
	d := listen(t, lo4, Options{})
	if rcv <= sockopt(t, d, unix.SOL_SOCKET, unix.SO_RCVBUF) {
		t.Logf("not root and SO_RCVBUF %d is no larger than the default (net.core.rmem_max)", rcv)
	}
}

func TestOffloadInEffect(t *testing.T) {
	c := listen(t, lo4, Options{GSO: true, GRO: true})
	gso, gro := c.Offload()
	if !gso || !gro {
		t.Skipf("kernel lacks UDP GSO (%v) or GRO (%v)", gso, gro)
	}
	if sockopt(t, c, unix.IPPROTO_UDP, unix.UDP_GRO) != 1 {
		t.Fatal("UDP_GRO not set")
	}
	if gso, gro := listen(t, lo4, Options{}).Offload(); gso || gro {
		t.Fatal("offload on without being asked for")
	}
}

// TestGSOGROCoalesce checks that a run really goes out as one GSO entry
// and comes in as one coalesced buffer, split back into datagrams.
func TestGSOGROCoalesce(t *testing.T) {
	opts := testOpts
	opts.GSO, opts.GRO = true, true
	a, b := listen(t, lo6, opts), listen(t, lo6, opts)
	if gso, gro := a.Offload(); !gso || !gro {
		t.Skip("no UDP GSO/GRO")
	}
	watchdog(t, b, 10*time.Second)
	sizes := []int{1400, 1400, 1400, 1400, 1400, 1400, 1400, 1400, 1400, 1400, 700}
	msgs := make([]Message, len(sizes))
	for i, s := range sizes {
		msgs[i] = Message{Buf: payload(i, s), Addr: b.LocalAddr()}
	}
	if n, err := a.WriteBatch(msgs); err != nil || n != len(msgs) {
		t.Fatal(n, err)
	}
	if w := &a.sys.wr; w.n != 1 || w.count[0] != len(sizes) {
		t.Fatalf("sent as %d entries, the first of %d datagrams; want one entry", w.n, w.count[0])
	}
	// Read four at a time: the coalesced buffer is split over three calls.
	got := readN(t, b, len(sizes), 4, 1500)
	check(t, got, sizes, a.LocalAddr())
	if r := &b.sys.rd; r.got != 1 || int(r.hdrs[0].Len) != 14700 {
		t.Fatalf("received %d buffers, the first of %d bytes; want one of 14,700", r.got, r.hdrs[0].Len)
	}
}

// TestWriteToTTL reads the TTL (hop limit) of received datagrams with
// IP_RECVTTL (IPV6_RECVHOPLIMIT).
func TestWriteToTTL(t *testing.T) {
	for _, lo := range []netip.Addr{lo4, lo6} {
		t.Run(lo.String(), func(t *testing.T) {
			a, b := listen(t, lo, Options{}), listen(t, lo, Options{})
			watchdog(t, b, 10*time.Second)
			level, opt, typ := unix.IPPROTO_IP, unix.IP_RECVTTL, unix.IP_TTL
			if lo.Is6() {
				level, opt, typ = unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT, unix.IPV6_HOPLIMIT
			}
			var err error
			if cerr := b.rc.Control(func(fd uintptr) { err = unix.SetsockoptInt(int(fd), level, opt, 1) }); cerr != nil || err != nil {
				t.Fatal(cerr, err)
			}
			recvTTL := func() int {
				buf, oob := make([]byte, 64), make([]byte, 128)
				n, oobn, _, from, err := b.pc.ReadMsgUDPAddrPort(buf, oob)
				if err != nil {
					t.Fatal(err)
				}
				if from != a.LocalAddr() || string(buf[:n]) != "punch" {
					t.Fatalf("got %q from %v", buf[:n], from)
				}
				cms, err := unix.ParseSocketControlMessage(oob[:oobn])
				if err != nil {
					t.Fatal(err)
				}
				for _, cm := range cms {
					if int(cm.Header.Level) == level && int(cm.Header.Type) == typ && len(cm.Data) >= 4 {
						return int(binary.NativeEndian.Uint32(cm.Data))
					}
				}
				t.Fatalf("no TTL control message in %d bytes", oobn)
				return 0
			}
			def := sockopt(t, a, level, map[bool]int{true: unix.IP_TTL, false: unix.IPV6_UNICAST_HOPS}[lo.Is4()])
			if def < 0 {
				def = 64 // the IPv6 default hop limit, reported as -1
			}
			for _, ttl := range []int{2, 0, 255, 1, 0} {
				var err error
				if ttl == 0 {
					err = a.WriteTo([]byte("punch"), b.LocalAddr())
				} else {
					err = a.WriteToTTL([]byte("punch"), b.LocalAddr(), ttl)
				}
				if err != nil {
					t.Fatal(err)
				}
				want := ttl
				if ttl == 0 {
					want = def // the TTL does not stick to the socket
				}
				if got := recvTTL(); got != want {
					t.Fatalf("sent with TTL %d: received TTL %d, want %d", ttl, got, want)
				}
			}
		})
	}
}

func TestReceivedAddressUnmapped(t *testing.T) {
	var r reader
	var sa unix.RawSockaddrInet6
	sa.Family = unix.AF_INET6
	sa.Addr = netip.MustParseAddr("::ffff:192.0.2.1").As16()
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], 9993)
	if got, want := r.addr(&sa), netip.MustParseAddrPort("192.0.2.1:9993"); got != want {
		t.Fatalf("addr = %v, want %v", got, want)
	}
	sa.Addr = netip.MustParseAddr("fe80::1").As16()
	sa.Scope_id = 1 // lo
	if got := r.addr(&sa); got.Addr().Zone() != "lo" {
		t.Fatalf("link-local addr = %v, want zone lo", got)
	}
}

func TestGROSizeParse(t *testing.T) {
	buf := make([]uint64, 8)
	b := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), 64)
	n := putCmsg(b, unix.IPPROTO_UDP, unix.UDP_GRO, 4, 1400)
	if got := groSize(b[:n]); got != 1400 {
		t.Fatalf("groSize = %d", got)
	}
	// Another message first, then UDP_GRO.
	m := putCmsg(b, unix.IPPROTO_IP, unix.IP_TTL, 4, 9)
	m += putCmsg(b[m:], unix.IPPROTO_UDP, unix.UDP_GRO, 2, 1200)
	if got := groSize(b[:m]); got != 1200 {
		t.Fatalf("groSize after another message = %d", got)
	}
	for _, bad := range [][]byte{nil, b[:8], make([]byte, 24)} {
		if got := groSize(bad); got != 0 {
			t.Fatalf("groSize of a bad buffer = %d", got)
		}
	}
}

func TestGSORefused(t *testing.T) {
	c := listen(t, lo4, Options{GSO: true})
	if gso, _ := c.Offload(); !gso {
		t.Skip("no UDP GSO")
	}
	if !c.gsoRefused(unix.EINVAL, 1400) || c.sys.gsoLimit.Load() != 1399 {
		t.Fatalf("EINVAL: limit %d", c.sys.gsoLimit.Load())
	}
	if !c.gsoRefused(unix.EINVAL, 9000) || c.sys.gsoLimit.Load() != 1399 {
		t.Fatalf("EINVAL for a larger segment raised the limit to %d", c.sys.gsoLimit.Load())
	}
	if c.gsoRefused(unix.EPERM, 100) {
		t.Fatal("EPERM taken for a GSO refusal")
	}
	// Segments over the limit go one per entry.
	b := listen(t, lo4, testOpts)
	watchdog(t, b, 10*time.Second)
	msgs := []Message{{Buf: payload(0, 1400)}, {Buf: payload(1, 1400)}, {Buf: payload(2, 1000)}, {Buf: payload(3, 1000)}}
	for i := range msgs {
		msgs[i].Addr = b.LocalAddr()
	}
	if n, err := c.WriteBatch(msgs); n != 4 || err != nil {
		t.Fatal(n, err)
	}
	if w := &c.sys.wr; w.n != 3 || w.count[2] != 2 {
		t.Fatalf("entries %d, counts %v", w.n, w.count[:w.n])
	}
	check(t, readN(t, b, 4, 4, 1500), []int{1400, 1400, 1000, 1000}, c.LocalAddr())
	if !c.gsoRefused(unix.EIO, 1000) {
		t.Fatal("EIO not taken for a GSO refusal")
	}
	if gso, _ := c.Offload(); gso {
		t.Fatal("GSO still on after EIO")
	}
}

// TestZeroAllocs checks that a batch each way allocates nothing in steady
// state, with and without offloads.
func TestZeroAllocs(t *testing.T) {
	for _, off := range offloads {
		t.Run(off.name, func(t *testing.T) {
			opts := testOpts
			opts.GSO, opts.GRO = off.gso, off.gro
			a, b := listen(t, lo4, opts), listen(t, lo4, opts)
			watchdog(t, b, 30*time.Second)
			const batch = 32
			out, in := make([]Message, batch), make([]Message, batch)
			for i := range out {
				out[i] = Message{Buf: payload(i, 1400), Addr: b.LocalAddr()}
				in[i] = Message{Buf: make([]byte, 2048)}
			}
			got := 0
			allocs := testing.AllocsPerRun(200, func() {
				if _, err := a.WriteBatch(out); err != nil {
					t.Fatal(err)
				}
				if err := a.WriteToTTL(out[0].Buf[:4], b.LocalAddr(), 2); err != nil {
					t.Fatal(err)
				}
				for want := got + batch + 1; got < want; {
					n, err := b.ReadBatch(in)
					if err != nil {
						t.Fatal(err)
					}
					got += n
				}
			})
			if allocs != 0 {
				t.Fatalf("%v allocations per batch", allocs)
			}
		})
	}
}

// TestGSOFallback makes the kernel refuse every GSO send (SO_NO_CHECK
// gives EINVAL) and checks that WriteBatch resends the runs one datagram
// per entry, hiding the error.
func TestGSOFallback(t *testing.T) {
	a, b := listen(t, lo4, Options{GSO: true}), listen(t, lo4, testOpts)
	if gso, _ := a.Offload(); !gso {
		t.Skip("no UDP GSO")
	}
	var err error
	if cerr := a.rc.Control(func(fd uintptr) { err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_NO_CHECK, 1) }); cerr != nil || err != nil {
		t.Fatal(cerr, err)
	}
	watchdog(t, b, 10*time.Second)
	sizes := []int{1400, 1400, 1400, 9, 800, 800, 1400, 1400}
	msgs := make([]Message, len(sizes))
	for i, s := range sizes {
		msgs[i] = Message{Buf: payload(i, s), Addr: b.LocalAddr()}
	}
	for round := range 2 { // the second round knows the limit and skips GSO
		if n, err := a.WriteBatch(msgs); n != len(msgs) || err != nil {
			t.Fatalf("round %d: WriteBatch = %d, %v", round, n, err)
		}
		check(t, readN(t, b, len(sizes), 8, 1500), sizes, a.LocalAddr())
	}
	if got := a.sys.gsoLimit.Load(); got != 799 {
		t.Fatalf("GSO limit %d after refusals of 1,400 and 800-byte runs, want 799", got)
	}
}

func TestClosedDropsPendingGRO(t *testing.T) {
	opts := testOpts
	opts.GSO, opts.GRO = true, true
	a, b := listen(t, lo4, opts), listen(t, lo4, opts)
	if gso, gro := a.Offload(); !gso || !gro {
		t.Skip("no UDP GSO/GRO")
	}
	watchdog(t, b, 10*time.Second)
	msgs := make([]Message, 10)
	for i := range msgs {
		msgs[i] = Message{Buf: payload(i, 1000), Addr: b.LocalAddr()}
	}
	if _, err := a.WriteBatch(msgs); err != nil {
		t.Fatal(err)
	}
	readN(t, b, 2, 2, 1500) // 8 segments left pending
	b.Close()
	if _, err := b.ReadBatch(msgs[:1]); err != net.ErrClosed {
		t.Fatalf("ReadBatch with pending segments after Close: %v", err)
	}
}

// TestNoDontFragment: datagrams leave without the DF bit (path MTU
// discovery off), as the reference's do.
func TestNoDontFragment(t *testing.T) {
	c, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var v int
	cerr := c.rc.Control(func(fd uintptr) {
		v, err = unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER)
	})
	if cerr != nil || err != nil {
		t.Fatal(cerr, err)
	}
	if v != unix.IP_PMTUDISC_DONT {
		t.Fatalf("IP_MTU_DISCOVER = %d, want IP_PMTUDISC_DONT", v)
	}
}
