package siv

import (
	"encoding/binary"
	"encoding/hex"
	"testing"
)

// implementations returns a Cipher for each available implementation.
func implementations(t testing.TB, shared *[SharedKeySize]byte) map[string]*Cipher {
	t.Helper()
	k0, k1 := DeriveKeys(shared)
	g, err := newGeneric(&k0, &k1)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*Cipher{"stdlib": g}
	if useAsm {
		m["sse"] = &Cipher{fast: newFastKeys(&k0, &k1, false)}
	}
	if useAVX512 {
		m["avx512"] = &Cipher{fast: newFastKeys(&k0, &k1, true)}
	}
	return m
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// ghashReference is a portable GHASH over whole blocks in the same
// representation as the assembly, built on mulReflected.
func ghashReference(gk *ghashKey, y *[16]byte, data []byte) {
	kb := gk.pow[15]
	k := u128{lo: binary.LittleEndian.Uint64(kb[:8]), hi: binary.LittleEndian.Uint64(kb[8:])}
	acc := toReflected(y)
	for len(data) >= 16 {
		x := toReflected((*[16]byte)(data))
		acc = mulReflected(u128{lo: acc.lo ^ x.lo, hi: acc.hi ^ x.hi}, k)
		data = data[16:]
	}
	binary.BigEndian.PutUint64(y[:8], acc.hi)
	binary.BigEndian.PutUint64(y[8:], acc.lo)
}
