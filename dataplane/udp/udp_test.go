package udp

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Every test talks only to loopback.
var (
	lo4 = netip.MustParseAddr("127.0.0.1")
	lo6 = netip.MustParseAddr("::1")
)

// testOpts are the receive buffer every test uses so that bursts on
// loopback are not dropped.
var testOpts = Options{ReadBuffer: 4 << 20, WriteBuffer: 4 << 20}

// offloads are the combinations the round-trip tests run under.
var offloads = []struct {
	name     string
	gso, gro bool
}{
	{"plain", false, false},
	{"gso", true, false},
	{"gro", false, true},
	{"gso+gro", true, true},
}

func listen(t testing.TB, a netip.Addr, opts Options) *Conn {
	t.Helper()
	c, err := Listen(netip.AddrPortFrom(a, 0), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// watchdog closes c if the test is still running after d, so a lost
// datagram fails the test instead of hanging it.
func watchdog(t testing.TB, c *Conn, d time.Duration) {
	tm := time.AfterFunc(d, func() { c.Close() })
	t.Cleanup(func() { tm.Stop() })
}

// noLeaks fails the test if it leaves goroutines behind.
func noLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				t.Errorf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// payload is datagram i of a test stream: its length, then a pattern.
func payload(i, size int) []byte {
	b := make([]byte, size)
	for j := range b {
		b[j] = byte(i*7 + j)
	}
	if size >= 4 {
		b[0], b[1], b[2], b[3] = byte(i>>8), byte(i), byte(size>>8), byte(size)
	}
	return b
}

// stream returns datagram sizes that exercise GSO runs: equal runs, a
// shorter tail ending a run, lone sizes and an empty datagram.
func stream() []int {
	var sizes []int
	for range 40 {
		sizes = append(sizes, 1400)
	}
	sizes = append(sizes, 600, 1400, 1400, 9, 0, 1200, 1200, 1200)
	for i := range 100 {
		sizes = append(sizes, 100+i%3)
	}
	return append(sizes, 1400, 1400)
}

// readN reads n datagrams with batches of batch messages, each with a
// buffer of bufSize bytes.
func readN(t testing.TB, c *Conn, n, batch, bufSize int) []Message {
	t.Helper()
	var out []Message
	msgs := make([]Message, batch)
	for len(out) < n {
		for i := range msgs {
			msgs[i] = Message{Buf: make([]byte, bufSize)}
		}
		k, err := c.ReadBatch(msgs[:min(batch, n-len(out))])
		if err != nil {
			t.Fatalf("ReadBatch after %d of %d datagrams: %v", len(out), n, err)
		}
		if k < 1 || k > batch {
			t.Fatalf("ReadBatch returned %d for %d messages", k, batch)
		}
		out = append(out, msgs[:k]...)
	}
	return out
}

// check compares received messages with the stream sent from src.
func check(t testing.TB, got []Message, sizes []int, src netip.AddrPort) {
	t.Helper()
	for i, m := range got {
		if want := payload(i, sizes[i]); !bytes.Equal(m.Buf[:m.N], want) {
			t.Fatalf("datagram %d: got %d bytes, want %d (%x... vs %x...)", i, m.N, len(want), head(m.Buf[:m.N]), head(want))
		}
		if m.Addr != src {
			t.Fatalf("datagram %d from %v, want %v", i, m.Addr, src)
		}
	}
}

func head(b []byte) []byte { return b[:min(len(b), 8)] }

func TestBatchRoundTrip(t *testing.T) {
	for _, lo := range []netip.Addr{lo4, lo6} {
		for _, off := range offloads {
			for _, rb := range []int{1, 8, 64} {
				t.Run(fmt.Sprintf("%s/%s/read%d", lo, off.name, rb), func(t *testing.T) {
					noLeaks(t)
					opts := testOpts
					opts.GSO, opts.GRO = off.gso, off.gro
					a, b := listen(t, lo, opts), listen(t, lo, opts)
					watchdog(t, a, 10*time.Second)
					watchdog(t, b, 10*time.Second)
					if runtime.GOOS == "linux" {
						if gso, gro := a.Offload(); gso != off.gso || gro != off.gro {
							t.Logf("offload in effect: gso=%v gro=%v", gso, gro)
						}
					}
					sizes := stream()
					for _, dir := range [][2]*Conn{{a, b}, {b, a}} {
						src, dst := dir[0], dir[1]
						msgs := make([]Message, len(sizes))
						for i, s := range sizes {
							msgs[i] = Message{Buf: payload(i, s), Addr: dst.LocalAddr()}
						}
						n, err := src.WriteBatch(msgs)
						if err != nil || n != len(msgs) {
							t.Fatalf("WriteBatch = %d, %v; want %d", n, err, len(msgs))
						}
						check(t, readN(t, dst, len(sizes), rb, 2048), sizes, src.LocalAddr())
					}
				})
			}
		}
	}
}

func TestLargeDatagrams(t *testing.T) {
	for _, lo := range []netip.Addr{lo4, lo6} {
		for _, off := range offloads {
			t.Run(lo.String()+"/"+off.name, func(t *testing.T) {
				opts := testOpts
				opts.GSO, opts.GRO = off.gso, off.gro
				a, b := listen(t, lo, opts), listen(t, lo, opts)
				watchdog(t, b, 10*time.Second)
				// A GSO run of 10,100-byte datagrams, then a lone maximum.
				sizes := []int{10100, 10100, 10100, 10100, 10099, 10000}
				max := MaxDatagram
				if lo.Is4() {
					max = 65507
				}
				sizes = append(sizes, max)
				msgs := make([]Message, len(sizes))
				for i, s := range sizes {
					msgs[i] = Message{Buf: payload(i, s), Addr: b.LocalAddr()}
				}
				if n, err := a.WriteBatch(msgs); err != nil || n != len(msgs) {
					t.Fatalf("WriteBatch = %d, %v", n, err)
				}
				check(t, readN(t, b, len(sizes), 8, MaxDatagram), sizes, a.LocalAddr())
				// And one at a time.
				if err := a.WriteTo(payload(0, 10100), b.LocalAddr()); err != nil {
					t.Fatal(err)
				}
				check(t, readN(t, b, 1, 1, 10100), []int{10100}, a.LocalAddr())
			})
		}
	}
}

func TestBatchLongerThanBatchSize(t *testing.T) {
	for _, off := range offloads {
		t.Run(off.name, func(t *testing.T) {
			opts := testOpts
			opts.GSO, opts.GRO = off.gso, off.gro
			a, b := listen(t, lo4, opts), listen(t, lo4, opts)
			watchdog(t, b, 10*time.Second)
			n := 3*a.BatchSize() + 5
			sizes := make([]int, n)
			msgs := make([]Message, n)
			for i := range msgs {
				sizes[i] = 1000 + i%2 // no GSO runs: one entry each
				msgs[i] = Message{Buf: payload(i, sizes[i]), Addr: b.LocalAddr()}
			}
			if k, err := a.WriteBatch(msgs); err != nil || k != n {
				t.Fatalf("WriteBatch = %d, %v", k, err)
			}
			check(t, readN(t, b, n, 200, 1500), sizes, a.LocalAddr())
		})
	}
}

func TestOversizeDatagramDropped(t *testing.T) {
	for _, off := range offloads {
		t.Run(off.name, func(t *testing.T) {
			opts := testOpts
			opts.GSO, opts.GRO = off.gso, off.gro
			a, b := listen(t, lo4, opts), listen(t, lo4, opts)
			watchdog(t, b, 10*time.Second)
			big := payload(0, 3000)
			for i, m := range []Message{{Buf: big}, {Buf: payload(1, 100)}, {Buf: big}, {Buf: payload(2, 100)}} {
				if err := a.WriteTo(m.Buf, b.LocalAddr()); err != nil {
					t.Fatal(i, err)
				}
			}
			time.Sleep(20 * time.Millisecond) // let all four queue, so one ReadBatch sees them
			got := readN(t, b, 2, 4, 1500)
			for i, m := range got {
				if want := payload(i+1, 100); !bytes.Equal(m.Buf[:m.N], want) {
					t.Fatalf("datagram %d: %x, want %x", i, head(m.Buf[:m.N]), head(want))
				}
			}
		})
	}
}

func TestAddresses(t *testing.T) {
	// An IPv4-mapped local address binds an IPv4 socket and reports
	// itself unmapped.
	mapped := netip.MustParseAddr("::ffff:127.0.0.1")
	a := listen(t, mapped, testOpts)
	if got := a.LocalAddr().Addr(); got != lo4 {
		t.Fatalf("LocalAddr = %v, want 127.0.0.1", got)
	}
	b := listen(t, lo4, testOpts)
	watchdog(t, b, 10*time.Second)
	// A mapped destination works on an IPv4 socket; the source is
	// reported unmapped.
	to := netip.AddrPortFrom(mapped, b.LocalAddr().Port())
	if err := a.WriteTo([]byte("x"), to); err != nil {
		t.Fatal(err)
	}
	if n, err := a.WriteBatch([]Message{{Buf: []byte("y"), Addr: to}}); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	for _, m := range readN(t, b, 2, 2, 16) {
		if m.Addr != a.LocalAddr() || !m.Addr.Addr().Is4() {
			t.Fatalf("source %v, want %v", m.Addr, a.LocalAddr())
		}
	}

	// The other family is refused, in either direction.
	c6 := listen(t, lo6, testOpts)
	for _, tc := range []struct {
		c  *Conn
		to netip.AddrPort
	}{
		{a, c6.LocalAddr()},
		{c6, b.LocalAddr()},
		{c6, to}, // IPv4-mapped on an IPv6 socket, which is IPV6_V6ONLY
	} {
		err := tc.c.WriteTo([]byte("x"), tc.to)
		var oe *net.OpError
		if !errors.Is(err, ErrFamily) || !errors.As(err, &oe) {
			t.Errorf("%v WriteTo %v: %v, want ErrFamily in a *net.OpError", tc.c, tc.to, err)
		}
	}

	// A wildcard reports itself as bound.
	w := listen(t, netip.IPv6Unspecified(), testOpts)
	if w.LocalAddr().Addr() != netip.IPv6Unspecified() || w.LocalAddr().Port() == 0 {
		t.Fatalf("LocalAddr = %v", w.LocalAddr())
	}
	if _, err := Listen(netip.AddrPort{}, testOpts); err == nil {
		t.Fatal("Listen of the zero AddrPort succeeded")
	}
}

func TestWriteBatchStopsAtBadMessage(t *testing.T) {
	for _, off := range offloads {
		t.Run(off.name, func(t *testing.T) {
			opts := testOpts
			opts.GSO, opts.GRO = off.gso, off.gro
			a, b := listen(t, lo4, opts), listen(t, lo4, opts)
			watchdog(t, b, 10*time.Second)
			msgs := make([]Message, 8)
			sizes := make([]int, 8)
			for i := range msgs {
				sizes[i] = 500
				msgs[i] = Message{Buf: payload(i, 500), Addr: b.LocalAddr()}
			}
			msgs[3].Addr = netip.AddrPortFrom(lo6, 9)
			n, err := a.WriteBatch(msgs)
			if n != 3 || !errors.Is(err, ErrFamily) {
				t.Fatalf("WriteBatch = %d, %v; want 3, ErrFamily", n, err)
			}
			if n, err := a.WriteBatch(msgs[4:]); n != 4 || err != nil {
				t.Fatalf("WriteBatch of the rest = %d, %v", n, err)
			}
			got := readN(t, b, 7, 8, 1500)
			check(t, got[:3], sizes, a.LocalAddr())
			for i, m := range got[3:] {
				if !bytes.Equal(m.Buf[:m.N], payload(i+4, 500)) {
					t.Fatalf("datagram %d wrong", i+4)
				}
			}
		})
	}
}

func TestCloseUnblocksRead(t *testing.T) {
	for _, off := range offloads {
		t.Run(off.name, func(t *testing.T) {
			noLeaks(t)
			c, err := Listen(netip.AddrPortFrom(lo4, 0), Options{GSO: off.gso, GRO: off.gro})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 2)
			for range 2 { // a blocked reader and one waiting for the read lock
				go func() {
					msgs := []Message{{Buf: make([]byte, 1500)}}
					_, err := c.ReadBatch(msgs)
					done <- err
				}()
			}
			time.Sleep(50 * time.Millisecond)
			select {
			case err := <-done:
				t.Fatalf("ReadBatch returned before Close: %v", err)
			default:
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				select {
				case err := <-done:
					if err != net.ErrClosed {
						t.Fatalf("ReadBatch after Close: %v, want net.ErrClosed", err)
					}
				case <-time.After(2 * time.Second):
					t.Fatal("ReadBatch still blocked 2s after Close")
				}
			}
			if err := c.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			msgs := []Message{{Buf: make([]byte, 10), Addr: netip.AddrPortFrom(lo4, 9)}}
			if _, err := c.ReadBatch(msgs); err != net.ErrClosed {
				t.Fatalf("ReadBatch on closed Conn: %v", err)
			}
			if _, err := c.WriteBatch(msgs); err != net.ErrClosed {
				t.Fatalf("WriteBatch on closed Conn: %v", err)
			}
			if err := c.WriteTo(msgs[0].Buf, msgs[0].Addr); err != net.ErrClosed {
				t.Fatalf("WriteTo on closed Conn: %v", err)
			}
			if err := c.WriteToTTL(msgs[0].Buf, msgs[0].Addr, 2); err != net.ErrClosed {
				t.Fatalf("WriteToTTL on closed Conn: %v", err)
			}
		})
	}
}

func TestBusyPort(t *testing.T) {
	a := listen(t, lo4, Options{})
	_, err := Listen(a.LocalAddr(), Options{})
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Listen on a busy port: %v, want EADDRINUSE", err)
	}
	// The wildcard overlaps the bound address.
	if _, err := Listen(netip.AddrPortFrom(netip.IPv4Unspecified(), a.LocalAddr().Port()), Options{}); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Listen on 0.0.0.0 with a busy port: %v, want EADDRINUSE", err)
	}
	if _, err := ListenSet([]netip.Addr{lo4}, a.LocalAddr().Port(), Options{}); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("ListenSet on a busy port: %v, want EADDRINUSE", err)
	}
	// A Set that fails part-way closes what it bound: ::1 binds, then
	// 127.0.0.1 fails, and ::1 on that port is free again.
	port := a.LocalAddr().Port()
	if _, err := ListenSet([]netip.Addr{lo6, lo4}, port, Options{}); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("ListenSet: %v, want EADDRINUSE", err)
	}
	c6, err := Listen(netip.AddrPortFrom(lo6, port), Options{})
	if err != nil {
		t.Fatalf("::1 port %d still taken after a failed ListenSet: %v", port, err)
	}
	c6.Close()
}

func TestListenSet(t *testing.T) {
	noLeaks(t)
	// Wildcards on a chosen port.
	s, err := ListenSet(nil, 0, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Port() == 0 || len(s.Conns()) != 2 {
		t.Fatalf("Port %d, %d Conns", s.Port(), len(s.Conns()))
	}
	want := []netip.AddrPort{
		netip.AddrPortFrom(netip.IPv4Unspecified(), s.Port()),
		netip.AddrPortFrom(netip.IPv6Unspecified(), s.Port()),
	}
	if got := s.LocalAddrs(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("LocalAddrs = %v, want %v", got, want)
	}

	// Explicit addresses, chosen port, and traffic between the two sets
	// per family.
	e, err := ListenSet([]netip.Addr{lo4, lo6}, 0, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if got := e.LocalAddrs(); got[0] != netip.AddrPortFrom(lo4, e.Port()) || got[1] != netip.AddrPortFrom(lo6, e.Port()) {
		t.Fatalf("LocalAddrs = %v", got)
	}
	for i, c := range e.Conns() {
		to := netip.AddrPortFrom(c.LocalAddr().Addr(), s.Port())
		if err := c.WriteTo([]byte{byte(i)}, to); err != nil {
			t.Fatal(err)
		}
		watchdog(t, s.Conns()[i], 5*time.Second)
		m := readN(t, s.Conns()[i], 1, 4, 16)[0]
		if m.N != 1 || m.Buf[0] != byte(i) || m.Addr != c.LocalAddr() {
			t.Fatalf("%v received %x from %v", s.Conns()[i], m.Buf[:m.N], m.Addr)
		}
	}

	// A fixed port: take one that is free by closing a Set.
	f, err := ListenSet([]netip.Addr{lo4}, 0, Options{})
	if err != nil {
		t.Fatal(err)
	}
	port := f.Port()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	g, err := ListenSet([]netip.Addr{lo4, lo6}, port, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Port() != port {
		t.Fatalf("Port = %d, want %d", g.Port(), port)
	}
	g.Close()

	// Bad bind lists.
	if _, err := ListenSet([]netip.Addr{lo4, netip.MustParseAddr("::ffff:127.0.0.1")}, 0, Options{}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("duplicate address: %v", err)
	}
	if _, err := ListenSet([]netip.Addr{{}}, 0, Options{}); err == nil {
		t.Fatal("invalid address accepted")
	}
}

func TestEmptyBatches(t *testing.T) {
	c := listen(t, lo4, Options{})
	if n, err := c.ReadBatch(nil); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	if n, err := c.WriteBatch(nil); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	if err := c.WriteToTTL([]byte("x"), netip.AddrPortFrom(lo4, 9), 0); err == nil {
		t.Fatal("TTL 0 accepted")
	}
}
