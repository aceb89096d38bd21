package tap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/ztx/ztx/internal/netns"
	"golang.org/x/sys/unix"
)

// pair is two taps, each in a namespace of its own, bridged by a
// goroutine pair that copies frames Read from one into Write on the other,
// as the daemon does through the VPN:
//
//	ztx-tapoff0-…                                     ztx-tapoff1-…
//	ztoff 10.77.0.1/24 fd00:77::1/64                   ztoff 10.77.0.2/24 fd00:77::2/64
//	  Read ──► pump ──► Write  ─────────────────────────►
//	  Write ◄── pump ◄── Read  ◄─────────────────────────
type pair struct {
	ns    [2]*netns.NS
	dev   [2]*Device
	ip4   [2]netip.Addr
	ip6   [2]netip.Addr
	mtu   int
	werrs atomic.Int64 // failed Writes in the pumps
}

func newPair(tb testing.TB, offload bool, mtu int) *pair {
	netns.RequireRoot(tb)
	p := &pair{mtu: mtu}
	for i := range 2 {
		p.ns[i] = netns.New(tb, fmt.Sprintf("tapoff%d", i))
		p.ip4[i] = netip.AddrFrom4([4]byte{10, 77, 0, byte(i + 1)})
		p.ip6[i] = netip.MustParseAddr(fmt.Sprintf("fd00:77::%d", i+1))
		p.dev[i] = openIn(tb, p.ns[i], Config{
			Name: "ztoff", NetworkID: uint64(i + 1), MAC: [6]byte{2, 0x77, 0, 0, 0, byte(i + 1)}, MTU: mtu,
			Addresses: []netip.Prefix{netip.PrefixFrom(p.ip4[i], 24), netip.PrefixFrom(p.ip6[i], 64)},
			Offload:   offload,
		})
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go p.pump(&wg, p.dev[0], p.dev[1])
	go p.pump(&wg, p.dev[1], p.dev[0])
	tb.Cleanup(func() {
		p.dev[0].Close()
		p.dev[1].Close()
		wg.Wait()
	})
	return p
}

// pump copies frames from src to dst until src is closed. Its buffers hold
// no more than Read promises: MTU, Ethernet header and two VLAN tags.
func (p *pair) pump(wg *sync.WaitGroup, src, dst *Device) {
	defer wg.Done()
	const off = 16
	bufs := make([][]byte, src.BatchSize())
	sizes := make([]int, len(bufs))
	frames := make([][]byte, len(bufs))
	for i := range bufs {
		bufs[i] = make([]byte, off+p.mtu+ethHdrLen+2*vlanLen)
	}
	for {
		n, err := src.Read(bufs, sizes, off)
		if err != nil {
			return
		}
		for i := range n {
			frames[i] = bufs[i][:off+sizes[i]]
		}
		if _, err := dst.Write(frames[:n], off); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			p.werrs.Add(1)
		}
	}
}

// listen opens a listener of the given network ("tcp4", "udp6", …) on side
// i's address.
func (p *pair) addr(i int, v6 bool) netip.Addr {
	if v6 {
		return p.ip6[i]
	}
	return p.ip4[i]
}

// stream writes size bytes of the pseudo-random stream seed to w.
func stream(w io.Writer, seed byte, size int) error {
	r := rand.NewChaCha8([32]byte{seed})
	buf := make([]byte, 64<<10)
	for size > 0 {
		b := buf[:min(len(buf), size)]
		r.Read(b)
		if _, err := w.Write(b); err != nil {
			return err
		}
		size -= len(b)
	}
	return nil
}

// expect reads from rd until EOF and checks it got exactly size bytes of
// stream seed.
func expect(rd io.Reader, seed byte, size int) error {
	r := rand.NewChaCha8([32]byte{seed})
	buf, want := make([]byte, 64<<10), make([]byte, 64<<10)
	got := 0
	for {
		n, err := rd.Read(buf)
		for b := buf[:n]; len(b) > 0; {
			k := min(len(b), len(want))
			r.Read(want[:k])
			if !bytes.Equal(b[:k], want[:k]) {
				return fmt.Errorf("stream %d differs in bytes %d-%d", seed, got, got+k)
			}
			got += k
			b = b[k:]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("after %d bytes: %w", got, err)
		}
	}
	if got != size {
		return fmt.Errorf("stream %d: got %d bytes, want %d", seed, got, size)
	}
	return nil
}

// exchange sends size bytes of stream out on c and closes its sending
// side, while checking that what comes in is size bytes of stream in.
func exchange(c net.Conn, out, in byte, size int) error {
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	werr := make(chan error, 1)
	go func() {
		err := stream(c, out, size)
		werr <- errors.Join(err, c.(*net.TCPConn).CloseWrite())
	}()
	rerr := expect(c, in, size)
	if rerr != nil {
		c.Close() // unblocks the writer
	}
	return errors.Join(rerr, <-werr)
}

// connect opens a TCP connection from side 0 to side 1 and returns both
// ends.
func (p *pair) connect(tb testing.TB, v6 bool) (c0, c1 net.Conn) {
	tb.Helper()
	var ln net.Listener
	if err := p.ns[1].Do(func() (err error) {
		ln, err = net.Listen("tcp", netip.AddrPortFrom(p.addr(1, v6), 0).String())
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	acc := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		acc <- res{c, err}
	}()
	if err := p.ns[0].Do(func() (err error) {
		c0, err = net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
		return err
	}); err != nil {
		ln.Close()
		<-acc
		tb.Fatal(err)
	}
	r := <-acc
	if r.err != nil {
		c0.Close()
		tb.Fatal(r.err)
	}
	return c0, r.c
}

// transfer sends size bytes each way at once over one TCP connection and
// checks them.
func (p *pair) transfer(tb testing.TB, v6 bool, size int) {
	tb.Helper()
	c0, c1 := p.connect(tb, v6)
	defer c0.Close()
	defer c1.Close()
	errc := make(chan error, 1)
	go func() { errc <- exchange(c1, 2, 1, size) }()
	if err := errors.Join(exchange(c0, 1, 2, size), <-errc); err != nil {
		tb.Fatalf("TCP over IPv6 %v: %v", v6, err)
	}
}

// udpGSO sends one UDP_SEGMENT write of n datagrams of seg bytes from side
// 0 to side 1 and checks they all arrive.
func (p *pair) udpGSO(tb testing.TB, v6 bool, seg, n int) {
	tb.Helper()
	var rc, sc *net.UDPConn
	if err := p.ns[1].Do(func() (err error) {
		rc, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.addr(1, v6), 0)))
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	defer rc.Close()
	if err := p.ns[0].Do(func() (err error) {
		sc, err = net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(rc.LocalAddr().(*net.UDPAddr).AddrPort()))
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	defer sc.Close()
	raw, err := sc.SyscallConn()
	if err != nil {
		tb.Fatal(err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_UDP, unix.UDP_SEGMENT, seg) }); err != nil || serr != nil {
		tb.Fatalf("UDP_SEGMENT: %v %v", err, serr)
	}
	msg := make([]byte, seg*n)
	for i := range n {
		for j := range seg {
			msg[i*seg+j] = byte(i + j)
		}
	}
	// The first datagram may wait for neighbour discovery; resend until
	// something arrives.
	seen := make(map[int]bool)
	buf := make([]byte, 65536)
	deadline := time.Now().Add(10 * time.Second)
	for len(seen) < n && time.Now().Before(deadline) {
		if _, err := sc.Write(msg); err != nil {
			tb.Fatal(err)
		}
		rc.SetReadDeadline(time.Now().Add(time.Second))
		for len(seen) < n {
			m, err := rc.Read(buf)
			if err != nil {
				break
			}
			i := int(buf[0])
			if m != seg || i >= n || !bytes.Equal(buf[:m], msg[i*seg:(i+1)*seg]) {
				tb.Fatalf("unexpected datagram of %d bytes: % x...", m, buf[:min(m, 16)])
			}
			seen[i] = true
		}
	}
	if len(seen) < n {
		tb.Fatalf("UDP GSO over IPv6 %v: %d of %d datagrams arrived", v6, len(seen), n)
	}
}

// ifreqData is struct ifreq with ifr_data, for SIOCETHTOOL.
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [24 - unsafe.Sizeof(uintptr(0))]byte
}

// ethtoolFeature returns a legacy ethtool flag (ETHTOOL_GTSO, …) of the
// interface name in the calling thread's namespace.
func ethtoolFeature(name string, cmd uint32) (bool, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return false, err
	}
	defer unix.Close(fd)
	v := &struct{ cmd, data uint32 }{cmd: cmd}
	ifr := &ifreqData{data: unsafe.Pointer(v)}
	copy(ifr.name[:], name)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(ifr))); e != 0 {
		return false, e
	}
	return v.data != 0, nil
}

func TestOffloadBridge(t *testing.T) {
	netns.RequireRoot(t)
	size := 8 << 20
	if testing.Short() || raceEnabled {
		size = 2 << 20
	}
	for _, offload := range []bool{false, true} {
		t.Run(fmt.Sprintf("offload=%v", offload), func(t *testing.T) {
			checkLeaks(t)
			p := newPair(t, offload, 1500)
			for i, d := range p.dev {
				switch got := d.Offloads(); {
				case !offload && got != 0, offload && got&OffloadTSO == 0, got&^(OffloadTSO|OffloadUSO) != 0:
					t.Fatalf("Offloads() = %b with offload %v", got, offload)
				case offload && got&OffloadUSO == 0:
					t.Logf("no USO on this kernel (Linux 6.2 and later have it)")
				}
				if d.BatchSize() != map[bool]int{false: 64, true: 128}[offload] {
					t.Errorf("BatchSize() = %d", d.BatchSize())
				}
				if err := p.ns[i].Do(func() error {
					for _, cmd := range []uint32{unix.ETHTOOL_GTSO, unix.ETHTOOL_GTXCSUM} {
						on, err := ethtoolFeature(d.Name(), cmd)
						if err != nil {
							return fmt.Errorf("ethtool %#x: %w", cmd, err)
						}
						if on != offload {
							return fmt.Errorf("ethtool %#x is %v with offload %v", cmd, on, offload)
						}
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			for _, v6 := range []bool{false, true} {
				p.transfer(t, v6, size)
				before := p.dev[0].Stats().SuperpacketsRead
				p.udpGSO(t, v6, 1000, 20)
				if p.dev[0].Offloads()&OffloadUSO != 0 && p.dev[0].Stats().SuperpacketsRead == before {
					t.Errorf("UDP over IPv6 %v: no UDP superpacket with USO", v6)
				}
			}
			s0, s1 := p.dev[0].Stats(), p.dev[1].Stats()
			t.Logf("side 0: %+v", s0)
			t.Logf("side 1: %+v", s1)
			if s0.Dropped != 0 || s1.Dropped != 0 || p.werrs.Load() != 0 {
				t.Errorf("dropped %d and %d frames, %d failed writes", s0.Dropped, s1.Dropped, p.werrs.Load())
			}
			if !offload {
				if s0 != (Stats{}) || s1 != (Stats{}) {
					t.Errorf("offload counters without offload")
				}
				return
			}
			for _, s := range []Stats{s0, s1} {
				if s.SuperpacketsRead == 0 || s.SegmentsRead <= s.SuperpacketsRead || s.SuperpacketsWritten == 0 || s.FramesCoalesced <= s.SuperpacketsWritten {
					t.Errorf("offload unused: %+v", s)
				}
			}
		})
	}
}

// BenchmarkBridgedTCP measures the throughput of one TCP connection between
// two namespaces whose taps are bridged by Read→Write goroutines (newPair),
// with and without offload, at the usual Ethernet MTU and at ZeroTier's.
//
//	sudo go test ./dataplane/tap -run '^$' -bench BridgedTCP -count 3
func BenchmarkBridgedTCP(b *testing.B) {
	for _, mtu := range []int{1500, DefaultMTU} {
		for _, offload := range []bool{false, true} {
			b.Run(fmt.Sprintf("mtu=%d/offload=%v", mtu, offload), func(b *testing.B) {
				p := newPair(b, offload, mtu)
				c0, c1 := p.connect(b, false)
				defer c0.Close()
				defer c1.Close()
				const chunk = 1 << 20
				done := make(chan error, 1)
				go func() {
					n, err := io.Copy(io.Discard, c1)
					if err == nil && n != int64(b.N)*chunk {
						err = fmt.Errorf("received %d bytes, want %d", n, int64(b.N)*chunk)
					}
					done <- err
				}()
				buf := make([]byte, chunk)
				before := p.dev[0].Stats()
				b.SetBytes(chunk)
				b.ResetTimer()
				for range b.N {
					if _, err := c0.Write(buf); err != nil {
						b.Fatal(err)
					}
				}
				c0.(*net.TCPConn).CloseWrite()
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				after := p.dev[0].Stats()
				if sp := after.SuperpacketsRead - before.SuperpacketsRead; sp > 0 {
					b.ReportMetric(float64(after.SegmentsRead-before.SegmentsRead)/float64(sp), "segs/superpacket")
				}
			})
		}
	}
}
