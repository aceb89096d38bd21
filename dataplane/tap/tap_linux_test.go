package tap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/ztx/ztx/internal/netns"
	"golang.org/x/sys/unix"
)

func TestDefaultName(t *testing.T) {
	// The expected name is computed bit by bit here, independently of the
	// base32 encoder: "zt" and the low 40 bits of nwid ^ nwid>>24, five
	// bits a character, most significant first.
	nwid := uint64(0x8056c2e21c000001)
	v := nwid ^ nwid>>24
	want := "zt"
	const alpha = "abcdefghijklmnopqrstuvwxyz234567"
	for i := 35; i >= 0; i -= 5 {
		want += string(alpha[(v>>uint(i))&31])
	}
	if got := DefaultName(nwid, 0); got != want || len(got) != 10 {
		t.Fatalf("DefaultName = %q, want %q", got, want)
	}
	if DefaultName(nwid, 1) == DefaultName(nwid, 0) {
		t.Fatal("trial does not change the name")
	}
}

var (
	tapMAC  = [6]byte{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}
	peerMAC = [6]byte{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}
	tapIP   = netip.MustParsePrefix("10.9.0.1/24")
	tapIP6  = netip.MustParsePrefix("fd00:9::1/64")
	peerIP  = netip.MustParseAddr("10.9.0.2")
)

func openIn(t testing.TB, ns *netns.NS, cfg Config) *Device {
	t.Helper()
	var d *Device
	if err := ns.Do(func() (err error) { d, err = Open(cfg); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func arpFrame(op uint16, srcMAC, dstMAC [6]byte, srcIP, dstIP netip.Addr) []byte {
	b := make([]byte, 0, 42)
	b = append(b, dstMAC[:]...)
	b = append(b, srcMAC[:]...)
	b = binary.BigEndian.AppendUint16(b, 0x0806)
	b = append(b, 0, 1, 8, 0, 6, 4)
	b = binary.BigEndian.AppendUint16(b, op)
	b = append(b, srcMAC[:]...)
	s4, d4 := srcIP.As4(), dstIP.As4()
	b = append(b, s4[:]...)
	if op == 1 {
		b = append(b, 0, 0, 0, 0, 0, 0)
	} else {
		b = append(b, dstMAC[:]...)
	}
	return append(b, d4[:]...)
}

// readUntil reads frames from d until match accepts one, answering ARP
// requests for peerIP on the way; it fails the test after 5 s.
func readUntil(t *testing.T, d *Device, match func([]byte) bool) []byte {
	t.Helper()
	got := make(chan []byte, 1)
	go func() {
		bufs := make([][]byte, d.BatchSize())
		sizes := make([]int, len(bufs))
		for i := range bufs {
			bufs[i] = make([]byte, 16+65536)
		}
		for {
			n, err := d.Read(bufs, sizes, 16)
			if err != nil {
				close(got)
				return
			}
			for i := range n {
				f := bufs[i][16 : 16+sizes[i]]
				if len(f) >= 42 && binary.BigEndian.Uint16(f[12:]) == 0x0806 &&
					binary.BigEndian.Uint16(f[20:]) == 1 && bytes.Equal(f[38:42], peerIP.AsSlice()) {
					var sm [6]byte
					copy(sm[:], f[6:12])
					sip, _ := netip.AddrFromSlice(f[28:32])
					d.Write([][]byte{arpFrame(2, peerMAC, sm, peerIP, sip)}, 0)
				}
				if match(f) {
					got <- bytes.Clone(f)
					return
				}
			}
		}
	}()
	select {
	case f, ok := <-got:
		if !ok {
			t.Fatal("Read failed before the expected frame")
		}
		return f
	case <-time.After(5 * time.Second):
		d.Close()
		t.Fatal("timed out waiting for a frame")
		return nil
	}
}

func checkLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		for range 100 {
			if runtime.NumGoroutine() <= before {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines leaked: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
	})
}

func TestTap(t *testing.T) {
	netns.RequireRoot(t)
	ns := netns.New(t, "tap")
	checkLeaks(t)
	nwid := uint64(0x8056c2e21c000001)
	routes := []Route{
		{Target: netip.MustParsePrefix("10.20.0.0/16"), Via: peerIP, Metric: 5},
		{Target: netip.MustParsePrefix("10.30.0.0/16")},
	}
	d := openIn(t, ns, Config{NetworkID: nwid, MAC: tapMAC, MTU: DefaultMTU,
		Addresses: []netip.Prefix{tapIP, tapIP6}, Routes: routes})
	if d.Name() != DefaultName(nwid, 0) {
		t.Fatalf("name %q, want %q", d.Name(), DefaultName(nwid, 0))
	}

	// Name, MAC, MTU, addresses, routes, as netlink sees them.
	inspect := func() (l netlink.Link, addrs []netlink.Addr, rs []netlink.Route, err error) {
		err = ns.Do(func() (err error) {
			if l, err = netlink.LinkByName(d.Name()); err != nil {
				return err
			}
			if addrs, err = netlink.AddrList(l, unix.AF_UNSPEC); err != nil {
				return err
			}
			rs, err = netlink.RouteList(l, unix.AF_INET)
			return err
		})
		return
	}
	l, addrs, rs, err := inspect()
	if err != nil {
		t.Fatal(err)
	}
	if a := l.Attrs(); !bytes.Equal(a.HardwareAddr, tapMAC[:]) || a.MTU != DefaultMTU || a.Flags&net.FlagUp == 0 {
		t.Fatalf("link %s: MAC %v MTU %d flags %v", a.Name, a.HardwareAddr, a.MTU, a.Flags)
	}
	hasAddr := func(addrs []netlink.Addr, p netip.Prefix) bool {
		for _, a := range addrs {
			ones, _ := a.Mask.Size()
			if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap() == p.Addr() && ones == p.Bits() {
				return true
			}
		}
		return false
	}
	if !hasAddr(addrs, tapIP) || !hasAddr(addrs, tapIP6) {
		t.Fatalf("addresses %v", addrs)
	}
	findRoute := func(rs []netlink.Route, dst string) *netlink.Route {
		for i := range rs {
			if rs[i].Dst != nil && rs[i].Dst.String() == dst {
				return &rs[i]
			}
		}
		return nil
	}
	if r := findRoute(rs, "10.20.0.0/16"); r == nil || !r.Gw.Equal(peerIP.AsSlice()) || r.Priority != 5 {
		t.Fatalf("route 10.20.0.0/16: %+v in %v", r, rs)
	}
	if r := findRoute(rs, "10.30.0.0/16"); r == nil || r.Gw != nil {
		t.Fatalf("route 10.30.0.0/16: %+v", r)
	}

	// The kernel answers an ARP request for the tap's address.
	if n, err := d.Write([][]byte{append(make([]byte, 8), arpFrame(1, peerMAC, [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, peerIP, tapIP.Addr())...)}, 8); n != 1 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	reply := readUntil(t, d, func(f []byte) bool {
		return len(f) >= 42 && binary.BigEndian.Uint16(f[12:]) == 0x0806 && binary.BigEndian.Uint16(f[20:]) == 2
	})
	if !bytes.Equal(reply[:6], peerMAC[:]) || !bytes.Equal(reply[22:28], tapMAC[:]) || !bytes.Equal(reply[28:32], tapIP.Addr().AsSlice()) {
		t.Fatalf("ARP reply % x", reply)
	}

	// A datagram sent to an address routed via the tap comes out of it,
	// addressed to the gateway's MAC.
	payload := []byte("hello through the tap")
	if err := ns.Do(func() error {
		c, err := net.Dial("udp4", "10.20.0.5:9999")
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write(payload)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	udp := readUntil(t, d, func(f []byte) bool {
		return len(f) > 42 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && f[23] == unix.IPPROTO_UDP &&
			bytes.Equal(f[30:34], []byte{10, 20, 0, 5})
	})
	if !bytes.Equal(udp[:6], peerMAC[:]) || !bytes.Equal(udp[6:12], tapMAC[:]) || !bytes.HasSuffix(udp, payload) {
		t.Fatalf("UDP frame % x", udp)
	}

	// Diffs: drop one address and one route, add others, change the MTU.
	newAddr := netip.MustParsePrefix("10.9.1.1/24")
	if err := d.SetAddresses([]netip.Prefix{tapIP, newAddr}); err != nil {
		t.Fatal(err)
	}
	routes2 := []Route{routes[0], {Target: netip.MustParsePrefix("10.40.0.0/16"), Via: peerIP, Metric: 7}}
	if err := d.SetRoutes(routes2); err != nil {
		t.Fatal(err)
	}
	if err := d.SetMTU(1400); err != nil {
		t.Fatal(err)
	}
	l, addrs, rs, err = inspect()
	if err != nil {
		t.Fatal(err)
	}
	if l.Attrs().MTU != 1400 {
		t.Errorf("MTU %d after SetMTU(1400)", l.Attrs().MTU)
	}
	if !hasAddr(addrs, tapIP) || !hasAddr(addrs, newAddr) || hasAddr(addrs, tapIP6) {
		t.Errorf("addresses after SetAddresses: %v", addrs)
	}
	if findRoute(rs, "10.20.0.0/16") == nil || findRoute(rs, "10.40.0.0/16") == nil || findRoute(rs, "10.30.0.0/16") != nil {
		t.Errorf("routes after SetRoutes: %v", rs)
	}

	// Close unblocks a blocked Read, and removes the device and its routes.
	readErr := make(chan error, 1)
	go func() {
		bufs, sizes := [][]byte{make([]byte, 4096)}, []int{0}
		for {
			if _, err := d.Read(bufs, sizes, 0); err != nil {
				readErr <- err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-readErr:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Read")
	}
	if _, err := d.Write([][]byte{make([]byte, 60)}, 0); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if err := d.SetMTU(1500); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SetMTU after Close: %v", err)
	}
	if err := ns.Do(func() error {
		if _, err := netlink.LinkByName(d.Name()); err == nil {
			return errors.New("device still exists after Close")
		}
		rs, err := netlink.RouteList(nil, unix.AF_INET)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Dst != nil && strings.HasPrefix(r.Dst.String(), "10.") {
				return errors.New("route left after Close: " + r.String())
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestDeviceMapName(t *testing.T) {
	netns.RequireRoot(t)
	ns := netns.New(t, "tap")
	nwid := uint64(0x0123456789abcdef)
	d := openIn(t, ns, Config{NetworkID: nwid, DeviceMap: map[uint64]string{nwid: "ztmapped"}})
	if d.Name() != "ztmapped" {
		t.Fatalf("name %q, want the devicemap's ztmapped", d.Name())
	}
	// The mapped name is taken now, so a second tap for the network gets
	// the canonical name.
	d2 := openIn(t, ns, Config{NetworkID: nwid, DeviceMap: map[uint64]string{nwid: "ztmapped"}})
	if d2.Name() != DefaultName(nwid, 0) {
		t.Fatalf("second name %q, want %q", d2.Name(), DefaultName(nwid, 0))
	}
	d3 := openIn(t, ns, Config{NetworkID: nwid})
	if d3.Name() != DefaultName(nwid, 1) {
		t.Fatalf("third name %q, want %q", d3.Name(), DefaultName(nwid, 1))
	}
}

func ipv4Checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// echoFrame is an ICMP echo request from peerIP to the tap, size bytes long.
func echoFrame(size int, seq uint16) []byte {
	f := make([]byte, size)
	copy(f, tapMAC[:])
	copy(f[6:], peerMAC[:])
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(size-14))
	ip[8], ip[9] = 64, unix.IPPROTO_ICMP
	copy(ip[12:], peerIP.AsSlice())
	copy(ip[16:], tapIP.Addr().AsSlice())
	binary.BigEndian.PutUint16(ip[10:], ipv4Checksum(ip))
	icmp := f[34:]
	icmp[0] = 8
	binary.BigEndian.PutUint16(icmp[6:], seq)
	binary.BigEndian.PutUint16(icmp[2:], ipv4Checksum(icmp))
	return f
}

// BenchmarkEcho measures frames/s through the kernel: 1,400-byte ICMP echo
// requests written into the tap in batches, and the replies read back.
//
//	sudo go test ./dataplane/tap -run '^$' -bench Echo
func BenchmarkEcho(b *testing.B) {
	netns.RequireRoot(b)
	ns := netns.New(b, "tapbench")
	d := openIn(b, ns, Config{NetworkID: 1, MAC: tapMAC, MTU: 1500, Addresses: []netip.Prefix{tapIP}})
	if err := ns.Do(func() error {
		l, err := netlink.LinkByIndex(d.Index())
		if err != nil {
			return err
		}
		return netlink.NeighAdd(&netlink.Neigh{LinkIndex: l.Attrs().Index, Family: unix.AF_INET,
			State: netlink.NUD_PERMANENT, IP: peerIP.AsSlice(), HardwareAddr: peerMAC[:]})
	}); err != nil {
		b.Fatal(err)
	}
	const batch = 32
	out := make([][]byte, batch)
	for i := range out {
		out[i] = echoFrame(1400, uint16(i))
	}
	in := make([][]byte, d.BatchSize())
	sizes := make([]int, len(in))
	for i := range in {
		in[i] = make([]byte, 2048)
	}
	b.SetBytes(1400)
	b.ResetTimer()
	for sent := 0; sent < b.N; {
		k := min(batch, b.N-sent)
		if _, err := d.Write(out[:k], 0); err != nil {
			b.Fatal(err)
		}
		sent += k
		for got := 0; got < k; {
			n, err := d.Read(in, sizes, 0)
			if err != nil {
				b.Fatal(err)
			}
			for i := range n {
				if sizes[i] == 1400 && in[i][34] == 0 { // echo reply
					got++
				}
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
