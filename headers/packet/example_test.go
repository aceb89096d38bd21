package packet_test

import (
	"fmt"

	"github.com/ztx/ztx/headers/packet"
)

// A whole send and receive path: build, compress, flag, armor and fragment
// on one side; reassemble, dearmor and decompress on the other.
func Example() {
	var shared [packet.SharedKeySize]byte // agreed by the two identities
	shared[0] = 1
	key, err := packet.NewKey(&shared)
	if err != nil {
		panic(err)
	}

	// Sender.
	p := packet.New(0x2e57b20512, 0xafee230b1a, packet.VerbUserMessage)
	for i := range 3000 {
		p = p.AppendPayload(byte(i * i >> 5)) // compresses a little
	}
	p = packet.Compress(p)
	mtu := 1000
	p.SetFragmented(packet.Pieces(len(p), mtu) > 1)
	if err := key.Armor(p, packet.SuiteAESGMACSIV); err != nil {
		panic(err)
	}
	datagrams, err := packet.Fragment(p, mtu)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(datagrams), "datagrams")

	// Receiver.
	var q packet.Queue
	var now int64 = 1_000_000 // ms, from the caller's clock
	for _, d := range datagrams {
		out, done, err := q.Add(nil, d, now)
		if err != nil || !done {
			continue
		}
		in := packet.Packet(out)
		if err := key.Dearmor(in); err != nil {
			panic(err)
		}
		in, err = packet.Decompress(in)
		if err != nil {
			panic(err)
		}
		fmt.Println(in.Source(), "->", in.Dest(), in.Verb(), len(in.Payload()), "bytes")
	}
	// Output:
	// 4 datagrams
	// afee230b1a -> 2e57b20512 USER_MESSAGE 3000 bytes
}
