//go:build !amd64 || purego

package salsa

// implGeneric is the only bulk implementation in portable builds.
const implGeneric = 0

var impl = implGeneric

func xorKeyStreamImpl(_ int, c *Cipher, dst, src []byte) {
	xorKeyStreamGeneric(c, dst, src)
}
