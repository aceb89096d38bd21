package salsa

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"

	//lint:ignore SA1019 used only as an independent oracle for Salsa20/20 in tests.
	"golang.org/x/crypto/salsa20/salsa"
)

type kat struct {
	Key       string `json:"key"`
	IV        string `json:"iv"`
	Keystream string `json:"keystream"`
}

func loadKAT(t *testing.T, name string) (key [32]byte, iv, ks []byte) {
	t.Helper()
	raw, err := os.ReadFile("../../testdata/crypto.json")
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	var v kat
	if err := json.Unmarshal(all[name], &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	k, err1 := hex.DecodeString(v.Key)
	iv, err2 := hex.DecodeString(v.IV)
	ks, err3 := hex.DecodeString(v.Keystream)
	if err1 != nil || err2 != nil || err3 != nil || len(k) != 32 || len(iv) != 8 || len(ks) != 64 {
		t.Fatalf("%s: bad vector", name)
	}
	copy(key[:], k)
	return key, iv, ks
}

func TestKnownAnswer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rounds int
	}{{"salsa20_12", 12}, {"salsa20_20", 20}} {
		key, iv, want := loadKAT(t, tc.name)
		forEachImpl(t, func(t *testing.T, im int) {
			// Whole block at once.
			got := make([]byte, 64)
			New(&key, iv, tc.rounds).xorKeyStream(im, got, got)
			if !bytes.Equal(got, want) {
				t.Errorf("%s: keystream\n got %x\nwant %x", tc.name, got, want)
			}
			// Byte by byte.
			c := New(&key, iv, tc.rounds)
			for i := range got {
				got[i] = 0
				c.xorKeyStream(im, got[i:i+1], got[i:i+1])
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s bytewise: keystream\n got %x\nwant %x", tc.name, got, want)
			}
		})
	}
}

// oracle returns the Salsa20/20 encryption of src from keystream byte 0
// using golang.org/x/crypto.
func oracle(key *[32]byte, iv []byte, src []byte) []byte {
	var ctr [16]byte
	copy(ctr[:8], iv)
	out := make([]byte, len(src))
	salsa.XORKeyStream(out, src, &ctr, key)
	return out
}

// splitXOR encrypts src with c and implementation im in pieces at random
// split points, in place or not.
func splitXOR(r *rand.Rand, im int, c *Cipher, src []byte, inPlace bool) []byte {
	out := make([]byte, len(src))
	if inPlace {
		copy(out, src)
	}
	for i := 0; i < len(src); {
		n := len(src) - i
		if n > 0 && r.IntN(3) != 0 {
			n = r.IntN(n + 1)
		}
		s := src[i : i+n]
		if inPlace {
			s = out[i : i+n]
		}
		c.xorKeyStream(im, out[i:i+n], s)
		i += n
	}
	return out
}

func TestAgainstXCrypto(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im int) {
		r := rand.New(rand.NewPCG(1, 2))
		var key [32]byte
		iv := make([]byte, 8)
		for n := 0; n <= 1100; n++ {
			fillRand(r, key[:])
			fillRand(r, iv)
			src := make([]byte, n)
			fillRand(r, src)
			want := oracle(&key, iv, src)

			got := make([]byte, n)
			New(&key, iv, 20).xorKeyStream(im, got, src)
			if !bytes.Equal(got, want) {
				t.Fatalf("len %d: one call mismatch", n)
			}
			got = splitXOR(r, im, New(&key, iv, 20), src, n%2 == 0)
			if !bytes.Equal(got, want) {
				t.Fatalf("len %d: split calls mismatch", n)
			}
		}
	})
}

func TestCounterCarry(t *testing.T) {
	// Start at and around 32-bit counter boundaries to check the carry into
	// the high counter word and the vector paths' fallback near it.
	var key [32]byte
	iv := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	src := make([]byte, 64*40+7)
	for _, start := range []uint64{1<<32 - 3, 1<<32 - 8, 1<<32 - 16, 1<<32 - 40, 1<<33 - 1, 1<<64 - 5} {
		var ctr [16]byte
		copy(ctr[:8], iv)
		binary.LittleEndian.PutUint64(ctr[8:], start)
		want := make([]byte, len(src))
		salsa.XORKeyStream(want, src, &ctr, &key)
		if start > 1<<63 {
			// x/crypto does not wrap the 64-bit counter; only compare
			// the blocks before the wrap.
			want = want[:5*64]
		}
		forEachImpl(t, func(t *testing.T, im int) {
			r := rand.New(rand.NewPCG(start, 7))
			c := New(&key, iv, 20)
			c.state[8], c.state[9] = uint32(start), uint32(start>>32)
			got := splitXOR(r, im, c, src, false)[:len(want)]
			if !bytes.Equal(got, want) {
				t.Fatalf("start %#x: mismatch", start)
			}
		})
	}
}

func TestPanics(t *testing.T) {
	var key [32]byte
	mustPanic(t, "short iv", func() { New(&key, make([]byte, 7), 20) })
	mustPanic(t, "bad rounds", func() { New(&key, make([]byte, 8), 8) })
	mustPanic(t, "zero value", func() { var c Cipher; c.XORKeyStream(make([]byte, 1), make([]byte, 1)) })
	mustPanic(t, "short dst", func() { New(&key, make([]byte, 8), 12).XORKeyStream(make([]byte, 1), make([]byte, 2)) })
	mustPanic(t, "overlap", func() {
		b := make([]byte, 100)
		New(&key, make([]byte, 8), 12).XORKeyStream(b[1:], b[:99])
	})
	// Empty input on a zero Cipher is harmless.
	var c Cipher
	c.XORKeyStream(nil, nil)
}

func TestAllocs(t *testing.T) {
	var key [32]byte
	iv := make([]byte, 8)
	buf := make([]byte, 1400)
	forEachImpl(t, func(t *testing.T, im int) {
		n := testing.AllocsPerRun(100, func() {
			var c Cipher
			c.Init(&key, iv, 12)
			c.xorKeyStream(im, buf[:64], buf[:64])
			c.xorKeyStream(im, buf, buf)
			c.XORKeyStream(buf[:3], buf[:3])
		})
		if n != 0 {
			t.Fatalf("%v allocations per run", n)
		}
	})
}

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", name)
		}
	}()
	f()
}

func fillRand(r *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}

// forEachImpl runs f once per bulk implementation available on this machine.
func forEachImpl(t *testing.T, f func(t *testing.T, im int)) {
	t.Helper()
	for _, im := range append([]int{implGeneric}, vectorImpls()...) {
		t.Run(implNames[im], func(t *testing.T) { f(t, im) })
	}
}

func TestCipherHasNoPointers(t *testing.T) {
	var walk func(reflect.Type) bool
	walk = func(ty reflect.Type) bool {
		switch ty.Kind() {
		case reflect.Array:
			return walk(ty.Elem())
		case reflect.Struct:
			for i := 0; i < ty.NumField(); i++ {
				if !walk(ty.Field(i).Type) {
					return false
				}
			}
			return true
		case reflect.Int, reflect.Uint32, reflect.Uint8, reflect.Uint64:
			return true
		}
		return false
	}
	if !walk(reflect.TypeFor[Cipher]()) {
		t.Fatal("Cipher contains a pointer-bearing field")
	}
}
