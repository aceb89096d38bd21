//go:build amd64 && !purego

package salsa

import "golang.org/x/sys/cpu"

var implNames = map[int]string{implGeneric: "generic", implAVX2: "avx2", implAVX512: "avx512"}

// vectorImpls lists the non-portable bulk implementations usable here.
func vectorImpls() []int {
	var s []int
	if cpu.X86.HasAVX2 {
		s = append(s, implAVX2)
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL {
		s = append(s, implAVX512)
	}
	return s
}
