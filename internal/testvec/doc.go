// Package testvec reads the reference test vectors kept in the repository's
// testdata directory, for the tests of every package (and ztctl's wire
// decode test). It is ordinary importable code, not a _test package.
//
// Two files are understood:
//
//   - testdata/session1/zt-session-decrypted.txt: a live ZeroTier One 1.14.1
//     session between a root/controller (f737c19395) and two nodes
//     (afee230b1a, 2e57b20512). [ParseSession] returns the shared key of
//     every node pair and every captured UDP datagram: 136 ZeroTier packets
//     (wire bytes, outer header fields as printed, the reference's dearmor
//     result, the verb, whether the payload was LZ4-compressed, and the
//     plaintext payload after decryption and decompression) plus one 4-byte
//     datagram that is not ZeroTier (a NAT-punch packet).
//   - testdata/crypto.json: known-answer vectors from the reference
//     self-test (Salsa20/12 and /20 keystream, Poly1305, SHA-512, C25519
//     agreement and signatures, a good and a bad identity); see [LoadCrypto].
//
// Functions take a path, so a test may pass "../../testdata/..."; [Path]
// finds the testdata directory from any package directory by walking up to
// go.mod, and [MustSession] / [MustCrypto] load the standard files once per
// test binary.
//
// The file format of zt-session-decrypted.txt, one record per datagram:
//
//	KEY <addrA><-><addrB> shared48=<96 hex>
//	    aes_k0(first32 used)=<96 hex>
//	    aes_k1(first32 used)=<96 hex>
//	#<n> t=<seconds> <ip:port> -> <ip:port> zt <src>-><dst> pid=<16 hex> cipher=<0-7> hops=<0-7> len=<bytes>
//	  wire=<hex of the UDP payload>
//	  dearmor=OK verb=0x<hh>(<NAME>) [was LZ4-compressed, shown uncompressed] plaintext_payload(<n>)=<hex>
//	#<n> t=<seconds> <ip:port> -> <ip:port> non-ZT/short udp len=<bytes> data=<hex>
//
// The plaintext payload starts after the verb byte (packet offset 28). For
// HELLO it is the payload as carried under cipher suite 0: the trailing
// cryptField-encrypted moon section (PROTOCOL.md part 1 §4.6) is still
// encrypted.
package testvec
