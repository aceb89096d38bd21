// Package headers is the bottom layer of ztx: the ZeroTier wire formats,
// with no I/O. Its subpackages each hold one format:
//
//	packet  packet and fragment headers, verbs, armor (cipher suites 0-3), LZ4
//	verbs   every verb's payload
//	inet    InetAddress
//	dict    Dictionary (network configurations)
//	world   planets and moons
//	rules   the rules engine's binary rule encoding
//	cred    credentials: COM, capability, tag, revocation, COO
//
// ztwire.h describes the packet and fragment layout for the bpf/ programs;
// ztwire_test.go fails when it and package packet disagree.
package headers
