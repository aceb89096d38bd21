package siv

// AES-256 key expansion (FIPS-197 section 5.2) for the assembly path. The
// S-box is computed arithmetically (inverse in GF(2^8), then the affine map)
// instead of looked up, so the key schedule does not index memory with key
// bytes.

// roundKeys is an AES-256 key schedule: 15 round keys in the byte order
// AESENC/AESDEC use.
type roundKeys [15][16]byte

// gmul8 multiplies in GF(2^8) modulo x^8+x^4+x^3+x+1, in constant time.
func gmul8(a, b byte) byte {
	var p byte
	for range 8 {
		p ^= a & -(b & 1)
		a = a<<1 ^ 0x1b&-(a>>7)
		b >>= 1
	}
	return p
}

// subByte is the AES S-box.
func subByte(x byte) byte {
	x2 := gmul8(x, x)
	x3 := gmul8(x2, x)
	x6 := gmul8(x3, x3)
	x12 := gmul8(x6, x6)
	x15 := gmul8(x12, x3)
	x240 := x15
	for range 4 {
		x240 = gmul8(x240, x240)
	}
	inv := gmul8(gmul8(x240, x12), x2) // x^254 = x^-1 (0 for 0)
	rotl := func(v byte, n uint) byte { return v<<n | v>>(8-n) }
	return inv ^ rotl(inv, 1) ^ rotl(inv, 2) ^ rotl(inv, 3) ^ rotl(inv, 4) ^ 0x63
}

// expandKey256 returns the encryption schedule of a 32-byte key.
func expandKey256(key *[32]byte) roundKeys {
	var w [60][4]byte
	for i := range 8 {
		copy(w[i][:], key[4*i:])
	}
	rcon := byte(1)
	for i := 8; i < 60; i++ {
		t := w[i-1]
		switch i % 8 {
		case 0:
			t = [4]byte{subByte(t[1]) ^ rcon, subByte(t[2]), subByte(t[3]), subByte(t[0])}
			rcon = gmul8(rcon, 2)
		case 4:
			t = [4]byte{subByte(t[0]), subByte(t[1]), subByte(t[2]), subByte(t[3])}
		}
		for j := range 4 {
			w[i][j] = w[i-8][j] ^ t[j]
		}
	}
	var rk roundKeys
	for r := range 15 {
		for c := range 4 {
			copy(rk[r][4*c:], w[4*r+c][:])
		}
	}
	clear(w[:])
	return rk
}

// invMixColumns applies the AES InvMixColumns transform to one round key.
func invMixColumns(b [16]byte) [16]byte {
	var o [16]byte
	for c := 0; c < 16; c += 4 {
		a0, a1, a2, a3 := b[c], b[c+1], b[c+2], b[c+3]
		o[c] = gmul8(a0, 14) ^ gmul8(a1, 11) ^ gmul8(a2, 13) ^ gmul8(a3, 9)
		o[c+1] = gmul8(a0, 9) ^ gmul8(a1, 14) ^ gmul8(a2, 11) ^ gmul8(a3, 13)
		o[c+2] = gmul8(a0, 13) ^ gmul8(a1, 9) ^ gmul8(a2, 14) ^ gmul8(a3, 11)
		o[c+3] = gmul8(a0, 11) ^ gmul8(a1, 13) ^ gmul8(a2, 9) ^ gmul8(a3, 14)
	}
	return o
}

// decryptionKeys returns the schedule for the equivalent inverse cipher
// (AESDEC): round keys in reverse order, InvMixColumns applied to the inner ones.
func decryptionKeys(enc *roundKeys) roundKeys {
	var dec roundKeys
	dec[0] = enc[14]
	for i := 1; i < 14; i++ {
		dec[i] = invMixColumns(enc[14-i])
	}
	dec[14] = enc[0]
	return dec
}
