//go:build !amd64 || purego

package salsa

// vectorImpls lists the non-portable bulk implementations usable here.
func vectorImpls() []int { return nil }

var implNames = map[int]string{implGeneric: "generic"}
