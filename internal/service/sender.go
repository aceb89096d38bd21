package service

import (
	"errors"
	"net"
	"net/netip"
	"sync"

	"github.com/ztx/ztx/dataplane/udp"
)

// sender sends one socket's datagrams in batches: the core's Send only
// queues a copy (the core may reuse its buffer, and a relayed packet is the
// receive buffer itself), and a goroutine drains the queue with
// WriteBatch (sendmmsg), so that what piles up while one batch is being
// sent leaves together in the next.
type sender struct {
	conn    *udp.Conn
	mu      sync.Mutex
	queue   []udp.Message
	wake    chan struct{}
	done    chan struct{}
	dropped int // datagrams refused because the queue was full
	onError func(error)
	free    [][]byte // buffers of sent datagrams, for reuse
}

// maxQueued bounds the datagrams waiting for one socket.
const maxQueued = 4096

func newSender(c *udp.Conn, done chan struct{}, onError func(error)) *sender {
	return &sender{conn: c, wake: make(chan struct{}, 1), done: done, onError: onError}
}

// send queues a copy of data for to; false when the queue is full.
func (s *sender) send(to netip.AddrPort, data []byte) bool {
	s.mu.Lock()
	if len(s.queue) >= maxQueued {
		s.dropped++
		s.mu.Unlock()
		return false
	}
	var b []byte
	if n := len(s.free); n > 0 && cap(s.free[n-1]) >= len(data) {
		b, s.free = s.free[n-1][:0], s.free[:n-1]
	} else {
		b = make([]byte, 0, max(len(data), 1500))
	}
	s.queue = append(s.queue, udp.Message{Buf: append(b, data...), Addr: to})
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return true
}

// run drains the queue until done is closed.
func (s *sender) run() {
	var batch, sent []udp.Message
	for {
		select {
		case <-s.done:
			return
		case <-s.wake:
		}
		for {
			s.mu.Lock()
			batch, s.queue = s.queue, batch[:0]
			s.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			sent = batch
			for len(batch) > 0 {
				n, err := s.conn.WriteBatch(batch)
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return
					}
					// msgs[n] failed (an unreachable or wrong-family
					// address): skip it, send the rest.
					s.onError(err)
					n++
				}
				batch = batch[min(n, len(batch)):]
			}
			s.mu.Lock()
			for _, m := range sent {
				if len(s.free) < maxQueued && cap(m.Buf) <= 1<<16 {
					s.free = append(s.free, m.Buf)
				}
			}
			s.mu.Unlock()
			batch = sent[:cap(sent)]
			clear(batch)
			batch = batch[:0]
		}
	}
}
