package packet

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// armoredPieces makes a random armored packet of size bytes and cuts it for
// mtu.
func armoredPieces(t testing.TB, r *rand.Rand, k *Key, size, mtu int) (Packet, [][]byte) {
	t.Helper()
	p := randomPacket(r, size-MinPacketLength)
	p.SetFragmented(Pieces(size, mtu) > 1)
	if err := k.Armor(p, SuiteAESGMACSIV); err != nil {
		t.Fatal(err)
	}
	pieces, err := Fragment(p, mtu)
	if err != nil {
		t.Fatal(err)
	}
	return p, pieces
}

// TestQueueAnyOrder feeds the pieces of fragmented packets in every order
// of a random sample, with duplicates, and dearmors the result.
func TestQueueAnyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	k := randomKey(t, r)
	var q Queue
	for _, size := range []int{1433, 3000, 5000, 9000} {
		for range 50 {
			want, pieces := armoredPieces(t, r, k, size, DefaultPhysMTU)
			order := r.Perm(len(pieces))
			// Duplicate a random piece before the last one arrives.
			dup := order[r.IntN(len(order)-1)]
			order = append(order[:len(order)-1], dup, order[len(order)-1])
			var got []byte
			for i, j := range order {
				out, done, err := q.Add(nil, pieces[j], 1000)
				if err != nil {
					t.Fatal(err)
				}
				if done != (i == len(order)-1) {
					t.Fatalf("size %d order %v: done=%v at step %d", size, order, done, i)
				}
				if done {
					got = out
				}
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("size %d: reassembled packet differs", size)
			}
			if err := k.Dearmor(Packet(got)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if q.Len() != 0 {
		t.Errorf("%d entries left", q.Len())
	}
	if q.Stats.Assembled != 200 || q.Stats.Duplicates != 200 || q.Stats.Evicted != 0 {
		t.Errorf("stats %+v", q.Stats)
	}
}

// TestQueueUnfragmented: a packet without the fragmented flag passes
// through, appended to dst.
func TestQueueUnfragmented(t *testing.T) {
	var q Queue
	p := randomPacket(rand.New(rand.NewPCG(3, 3)), 50)
	out, done, err := q.Add([]byte{9}, p, 0)
	if err != nil || !done || !bytes.Equal(out, append([]byte{9}, p...)) {
		t.Errorf("Add = %x, %v, %v", out, done, err)
	}
	if _, _, err := q.AddHead(nil, p, 0); !errors.Is(err, ErrNotFragmented) {
		t.Errorf("AddHead unflagged: %v", err)
	}
	if _, _, err := q.Add(nil, []byte{1, 2, 3, 4}, 0); !errors.Is(err, ErrTooShort) {
		t.Errorf("short: %v", err)
	}
	if _, _, err := q.Add(nil, make([]byte, MaxPacketLength+1), 0); !errors.Is(err, ErrTooLong) {
		t.Errorf("long: %v", err)
	}
}

// TestQueueInterleaved reassembles 32 packets whose pieces are shuffled
// together: all fit in the ring.
func TestQueueInterleaved(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	k := randomKey(t, r)
	var q Queue
	want := map[uint64]Packet{}
	var all [][]byte
	for range ReceiveQueueSize {
		p, pieces := armoredPieces(t, r, k, 1500+r.IntN(7000), DefaultPhysMTU)
		want[p.ID()] = p
		all = append(all, pieces...)
	}
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	got := 0
	for _, b := range all {
		out, done, err := q.Add(nil, b, 0)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			got++
			if !bytes.Equal(out, want[Packet(out).ID()]) {
				t.Fatal("wrong reassembly")
			}
		}
	}
	if got != ReceiveQueueSize || q.Stats.Evicted != 0 {
		t.Errorf("%d packets, stats %+v", got, q.Stats)
	}
}

// TestQueueOverflow: a 33rd incomplete packet evicts the oldest entry.
func TestQueueOverflow(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	k := randomKey(t, r)
	var q Queue
	var held [][][]byte
	for range ReceiveQueueSize + 1 {
		_, pieces := armoredPieces(t, r, k, 2000, DefaultPhysMTU)
		if _, done, err := q.Add(nil, pieces[0], 0); done || err != nil {
			t.Fatal(done, err)
		}
		held = append(held, pieces)
	}
	if q.Len() != ReceiveQueueSize || q.Stats.Evicted != 1 {
		t.Fatalf("len %d, stats %+v", q.Len(), q.Stats)
	}
	// The first packet's head is gone: its fragment starts a new entry.
	if _, done, _ := q.Add(nil, held[0][1], 0); done {
		t.Error("evicted packet completed")
	}
	// The others complete (the second was evicted by the step above).
	for i := 2; i <= ReceiveQueueSize; i++ {
		if _, done, err := q.Add(nil, held[i][1], 0); !done || err != nil {
			t.Errorf("packet %d: done=%v err=%v", i, done, err)
		}
	}
	if q.Stats.Evicted != 2 || q.Stats.Assembled != ReceiveQueueSize-1 {
		t.Errorf("stats %+v", q.Stats)
	}
}

// TestQueueTimeout: pieces more than 5000 ms apart do not combine, and
// Expire frees old entries.
func TestQueueTimeout(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	k := randomKey(t, r)
	var q Queue
	want, pieces := armoredPieces(t, r, k, 4000, DefaultPhysMTU) // 3 pieces
	q.Add(nil, pieces[0], 10_000)
	q.Add(nil, pieces[1], 15_000) // exactly the timeout: still live
	if _, done, _ := q.Add(nil, pieces[2], 15_001); done {
		t.Fatal("completed with a stale head")
	}
	if q.Stats.Expired != 1 {
		t.Errorf("stats %+v", q.Stats)
	}
	// The entry restarted at 15001 with piece 2; the rest arrive in time.
	q.Add(nil, pieces[0], 16_000)
	out, done, err := q.Add(nil, pieces[1], 20_001)
	if !done || err != nil || !bytes.Equal(out, want) {
		t.Fatalf("done=%v err=%v", done, err)
	}

	q.Add(nil, pieces[0], 30_000)
	if n := q.Expire(35_000); n != 0 || q.Len() != 1 {
		t.Errorf("Expire at the timeout dropped %d", n)
	}
	if n := q.Expire(35_001); n != 1 || q.Len() != 0 {
		t.Errorf("Expire dropped %d, %d left", n, q.Len())
	}
}

func TestQueueRejects(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	k := randomKey(t, r)
	var q Queue
	_, pieces := armoredPieces(t, r, k, 4000, DefaultPhysMTU)
	if _, _, err := q.Add(nil, pieces[1], 0); err != nil {
		t.Fatal(err)
	}
	// A fragment of the same packet claiming another total.
	clash := bytes.Clone(pieces[2])
	clash[FragIndexCounts] = 4<<4 | 2
	if _, _, err := q.Add(nil, clash, 0); !errors.Is(err, ErrFragmentsClash) {
		t.Errorf("clash: %v", err)
	}
	bad := bytes.Clone(pieces[2])
	bad[FragIndexCounts] = 3<<4 | 3
	if _, _, err := q.Add(nil, bad, 0); !errors.Is(err, ErrBadFragment) {
		t.Errorf("bad number: %v", err)
	}
	if _, _, err := q.AddFragment(nil, pieces[0], 0); !errors.Is(err, ErrNotFragment) {
		t.Errorf("head as fragment: %v", err)
	}
	if _, _, err := q.AddHead(nil, pieces[1], 0); !errors.Is(err, ErrIsFragment) {
		t.Errorf("fragment as head: %v", err)
	}
	// Oversize: 7 pieces of a large MTU exceed the largest packet.
	var big Queue
	id := uint64(99)
	chunk := make([]byte, 2000)
	var err error
	for n := 1; n < MaxPacketFragments && err == nil; n++ {
		_, _, err = big.Add(nil, AppendFragment(nil, id, 1, MaxPacketFragments, n, chunk), 0)
	}
	if !errors.Is(err, ErrTooLong) || big.Stats.Rejected != 1 {
		t.Errorf("oversize: %v, stats %+v", err, big.Stats)
	}
	if q.Stats.Rejected != 4 {
		t.Errorf("stats %+v", q.Stats)
	}
}

// TestQueueNoAllocs: with reused storage and a roomy dst, reassembly does
// not allocate.
func TestQueueNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	k := randomKey(t, r)
	var q Queue
	_, pieces := armoredPieces(t, r, k, 9000, DefaultPhysMTU)
	dst := make([]byte, 0, MaxPacketLength)
	run := func() {
		for _, b := range pieces {
			q.Add(dst, b, 0)
		}
	}
	for range ReceiveQueueSize {
		run() // warm the piece buffers of every ring slot
	}
	if a := testing.AllocsPerRun(50, run); a != 0 {
		t.Errorf("%v allocations per packet", a)
	}
}
