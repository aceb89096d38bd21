package identity

import (
	"crypto/sha512"
	"encoding/binary"
	"sync"

	"github.com/ztx/ztx/crypto/salsa"
)

// The memory-hard hash that ties an address to its public key. It costs
// 2 MiB and about 160,000 Salsa20/20 blocks, which is what makes making an
// address that collides with another one expensive.
//
//  1. d = SHA-512(public key)
//  2. Salsa20/20 keyed with d[0:32], nonce d[32:40].
//  3. A 2 MiB table of 64-byte blocks: block 0 is the first keystream block,
//     block n is block n-1 XOR keystream block n.
//  4. Walk the table as 8-byte words two at a time: the first word picks one
//     of d's 8 words, the second one of the table's 262,144 words; their bytes
//     are swapped, then d is encrypted in place with the continuing stream.
//  5. The result is d. An identity is valid when d[0] < 17 and d[59:64] is
//     its address.
const (
	hashMemory     = 2 * 1024 * 1024
	hashWords      = hashMemory / 8
	firstByteBelow = 17
)

var hashTables = sync.Pool{New: func() any { return new([hashMemory]byte) }}

// memoryHardHash computes the digest for a 64-byte public key.
func memoryHardHash(pub *[64]byte) [64]byte {
	d := sha512.Sum512(pub[:])
	var c salsa.Cipher
	c.Init((*[32]byte)(d[0:32]), d[32:40], 20)

	mem := hashTables.Get().(*[hashMemory]byte)
	defer hashTables.Put(mem)

	clear(mem[:64])
	c.XORKeyStream(mem[:64], mem[:64])
	for off := 64; off < hashMemory; off += 64 {
		c.XORKeyStream(mem[off:off+64], mem[off-64:off])
	}

	for i := 0; i < hashWords; i += 2 {
		a := binary.BigEndian.Uint64(mem[i*8:])
		b := binary.BigEndian.Uint64(mem[i*8+8:])
		dw := d[(a%8)*8:][:8]
		mw := mem[(b%hashWords)*8:][:8]
		var t [8]byte
		copy(t[:], dw)
		copy(dw, mw)
		copy(mw, t[:])
		c.XORKeyStream(d[:], d[:])
	}
	return d
}

// hashAccepts reports whether digest d makes a valid address, and which.
func hashAccepts(d *[64]byte) (Address, bool) {
	a := AddressFromBytes(d[59:64])
	return a, d[0] < firstByteBelow && !a.IsReserved()
}
