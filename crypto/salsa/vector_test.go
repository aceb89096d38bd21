package salsa

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestVectorMatchesGeneric compares every vector implementation with the
// portable one over random keys, ivs, lengths, split points and counters,
// for both round counts, in place and not.
func TestVectorMatchesGeneric(t *testing.T) {
	if len(vectorImpls()) == 0 {
		t.Skip("no vector implementation on this machine")
	}
	r := rand.New(rand.NewPCG(3, 4))
	iters := 3000
	if testing.Short() {
		iters = 300
	}
	for i := 0; i < iters; i++ {
		var key [32]byte
		iv := make([]byte, 8)
		fillRand(r, key[:])
		fillRand(r, iv)
		rounds := 12
		if r.IntN(2) == 0 {
			rounds = 20
		}
		n := r.IntN(5000)
		if r.IntN(4) == 0 {
			n = r.IntN(200)
		}
		src := make([]byte, n)
		fillRand(r, src)
		var ctr uint64
		if r.IntN(8) == 0 {
			ctr = 1<<32 - uint64(r.IntN(200))
		}
		seed := r.Uint64()
		inPlace := r.IntN(2) == 0

		run := func(im int) []byte {
			c := New(&key, iv, rounds)
			c.state[8], c.state[9] = uint32(ctr), uint32(ctr>>32)
			return splitXOR(rand.New(rand.NewPCG(seed, 0)), im, c, src, inPlace)
		}
		want := run(implGeneric)
		for _, im := range vectorImpls() {
			if got := run(im); !bytes.Equal(got, want) {
				t.Fatalf("%s: rounds %d len %d ctr %#x in-place %v: mismatch",
					implNames[im], rounds, n, ctr, inPlace)
			}
		}
	}
}

// FuzzXORKeyStream checks that the vector implementations agree with the
// portable one for any key, iv, round count, data and call splitting.
func FuzzXORKeyStream(f *testing.F) {
	f.Add(make([]byte, 40), false, make([]byte, 64), []byte{})
	f.Add(bytes.Repeat([]byte{0xa5}, 40), true, make([]byte, 1400), []byte{64, 200, 0, 13})
	f.Add(make([]byte, 40), true, make([]byte, 3000), []byte{1, 2, 255, 7, 9})
	f.Fuzz(func(t *testing.T, keyIV []byte, r20 bool, data, splits []byte) {
		if len(keyIV) < 40 {
			return
		}
		var key [32]byte
		copy(key[:], keyIV)
		iv := keyIV[32:40]
		rounds := 12
		if r20 {
			rounds = 20
		}
		run := func(im int) []byte {
			c := New(&key, iv, rounds)
			out := bytes.Clone(data)
			rest := out
			for _, s := range splits {
				n := min(int(s)*8, len(rest))
				c.xorKeyStream(im, rest[:n], rest[:n])
				rest = rest[n:]
			}
			c.xorKeyStream(im, rest, rest)
			return out
		}
		want := run(implGeneric)
		for _, im := range vectorImpls() {
			if got := run(im); !bytes.Equal(got, want) {
				t.Fatalf("%s differs from generic", implNames[im])
			}
		}
	})
}
