//go:build !amd64 || purego

package siv

const useAsm = false

func encryptBlock(rk *roundKeys, dst, src *[16]byte)         { panic("siv: no assembly") }
func decryptBlock(rk *roundKeys, dst, src *[16]byte)         { panic("siv: no assembly") }
func ctrBlocks(rk *roundKeys, ctr *[16]byte, p *byte, n int) { panic("siv: no assembly") }
func ghashBlocks(gk *ghashKey, y *[16]byte, p *byte, n int)  { panic("siv: no assembly") }

const useAVX512 = false

func ctrAVX512(rk *roundKeys, ctr *[16]byte, buf []byte) { panic("siv: no assembly") }

func gmacAVX512(gk *ghashKey, rk0 *roundKeys, tag *[16]byte, hdr *[16]byte, payload []byte) {
	panic("siv: no assembly")
}
