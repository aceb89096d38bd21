package service

import (
	"net/netip"
	"testing"
	"time"

	"github.com/ztx/ztx/dataplane/udp"
)

// The sender delivers every queued datagram, in order, from its own copy.
func TestSenderBatches(t *testing.T) {
	a, err := udp.Listen(netip.MustParseAddrPort("127.0.0.1:0"), udp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// A receive buffer that holds every datagram: loopback UDP drops
	// what does not fit, and this test counts.
	b, err := udp.Listen(netip.MustParseAddrPort("127.0.0.1:0"), udp.Options{ReadBuffer: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	stop := time.AfterFunc(5*time.Second, func() { b.Close() }) // unblocks ReadBatch
	defer stop.Stop()
	done := make(chan struct{})
	defer close(done)
	s := newSender(a, done, func(err error) { t.Error(err) })
	go s.run()
	buf := make([]byte, 100)
	for i := range 500 {
		buf[0], buf[1] = byte(i>>8), byte(i)
		if !s.send(b.LocalAddr(), buf) {
			t.Fatal("queue full")
		}
		buf[0] = 0xff // the sender must have copied
	}
	msgs := make([]udp.Message, 64)
	for i := range msgs {
		msgs[i].Buf = make([]byte, 200)
	}
	got := 0
	for got < 500 {
		n, err := b.ReadBatch(msgs)
		if err != nil {
			t.Fatalf("after %d datagrams: %v", got, err)
		}
		for _, m := range msgs[:n] {
			if m.N != 100 || int(m.Buf[0])<<8|int(m.Buf[1]) != got {
				t.Fatalf("datagram %d: %d bytes, index %d", got, m.N, int(m.Buf[0])<<8|int(m.Buf[1]))
			}
			got++
		}
	}
	if got != 500 {
		t.Fatalf("received %d of 500", got)
	}
}
