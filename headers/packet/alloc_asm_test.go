//go:build amd64 && !purego

package packet

// sivAllocFree: crypto/siv's assembly path does not allocate; its portable
// path (other architectures, purego) may.
const sivAllocFree = true
