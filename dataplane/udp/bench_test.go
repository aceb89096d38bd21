package udp

import (
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkLoopback measures one sender and one receiver Conn on
// loopback: b.N datagrams of 1,400 bytes in batches of 1, 8 and 32 (both
// sides), plain and with GSO (and GRO on the receiver) where the kernel
// has them. Reported: MB/s of payload (b.SetBytes), pkts/s received, and
// loss% and stalls (the sender keeps at most `window` datagrams in
// flight, so loss should be 0; a stall is a 50 ms wait for a datagram
// that was lost).
//
//	go test -run '^$' -bench Loopback -count 5 ./dataplane/udp/ | benchstat -
func BenchmarkLoopback(b *testing.B) {
	for _, lo := range []netip.Addr{lo4, lo6} {
		for _, batch := range []int{1, 8, 32} {
			for _, off := range offloads {
				if off.gro && !off.gso {
					continue // on loopback GRO only matters for GSO senders
				}
				if batch == 1 && off.gso {
					continue // no runs to segment
				}
				name := fmt.Sprintf("%s/batch=%d/%s", map[bool]string{true: "v4", false: "v6"}[lo.Is4()], batch, off.name)
				b.Run(name, func(b *testing.B) {
					opts := Options{ReadBuffer: 8 << 20, WriteBuffer: 8 << 20, GSO: off.gso, GRO: off.gro}
					benchLoopback(b, lo, batch, opts)
				})
			}
		}
	}
}

const (
	benchSize = 1400
	window    = 1024 // datagrams in flight: ~2.5 MB of receive buffer on loopback
)

func benchLoopback(b *testing.B, lo netip.Addr, batch int, opts Options) {
	tx, err := Listen(netip.AddrPortFrom(lo, 0), opts)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Close()
	rx, err := Listen(netip.AddrPortFrom(lo, 0), opts)
	if err != nil {
		b.Fatal(err)
	}
	defer rx.Close()
	if gso, gro := tx.Offload(); gso != opts.GSO || gro != opts.GRO {
		b.Skipf("kernel lacks UDP GSO or GRO")
	}

	out := make([]Message, batch)
	for i := range out {
		out[i] = Message{Buf: make([]byte, benchSize), Addr: rx.LocalAddr()}
	}
	in := make([]Message, batch)
	for i := range in {
		in[i] = Message{Buf: make([]byte, 2048)}
	}

	benchLoop(b, batch,
		func(k int) (int, error) { return tx.WriteBatch(out[:k]) },
		func() (int, error) { return rx.ReadBatch(in) },
		func() { rx.Close() })
}

// benchLoop runs the sender in this goroutine and the receiver in another
// until b.N datagrams arrive, and reports the rates.
func benchLoop(b *testing.B, batch int, write func(k int) (int, error), read func() (int, error), closeRx func()) {
	var received atomic.Int64
	done := make(chan struct{})
	wake := make(chan struct{}, 1) // the receiver made progress
	// The receiver stops at b.N datagrams or when closeRx is called.
	go func() {
		defer close(done)
		for received.Load() < int64(b.N) {
			n, err := read()
			if err != nil {
				return
			}
			received.Add(int64(n))
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}()

	b.SetBytes(benchSize)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	stalls := 0
	stall := time.NewTimer(time.Hour)
	defer stall.Stop()
	for sent := 0; sent < b.N; {
		k := min(batch, b.N-sent)
		// Flow control: wait for the receiver, but not for a lost datagram.
		for int64(sent+k)-received.Load() > window {
			stall.Reset(50 * time.Millisecond)
			select {
			case <-wake:
				continue
			case <-stall.C:
				stalls++
			}
			break
		}
		n, err := write(k)
		if err != nil {
			b.Fatal(err)
		}
		sent += n
	}
	select {
	case <-done:
	case <-time.After(200 * time.Millisecond):
		closeRx()
		<-done
	}
	elapsed := time.Since(start)
	b.StopTimer()
	got := received.Load()
	b.ReportMetric(float64(got)/elapsed.Seconds(), "pkts/s")
	b.ReportMetric(100*float64(int64(b.N)-got)/float64(b.N), "loss%")
	b.ReportMetric(float64(stalls), "stalls")
}
