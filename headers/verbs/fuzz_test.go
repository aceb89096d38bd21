package verbs

import "testing"

// FuzzDecode: Decode never panics, and a successful parse marshals to bytes that parse again
// to the same bytes. Seeded with every captured payload.
func FuzzDecode(f *testing.F) {
	pkts, _ := loadCapture(f)
	for _, p := range pkts {
		f.Add(p.Verb, p.Payload)
	}
	f.Add(byte(verbEcho), []byte{})
	f.Add(byte(verbUserMessage), []byte("\x00\x00\x00\x00\x00\x01\x00\x00hello"))
	f.Add(byte(verbExtFrame), []byte("\xf7\x37\xc1\x93\x95\x00\x00\x01\x10\x02\xaf\xee\xb6\x98\xdb\x02\x2e\x57\x27\x96\xd3\x08\x00xx"))
	f.Fuzz(func(t *testing.T, verb byte, payload []byte) {
		checkStable(t, verb, payload)
	})
}
