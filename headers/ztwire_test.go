package headers

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/packet"
)

// cDefines reads the integer #defines of ztwire.h.
func cDefines(t *testing.T) map[string]int {
	t.Helper()
	f, err := os.Open("ztwire.h")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defs := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || fields[0] != "#define" {
			continue
		}
		v, err := strconv.ParseInt(fields[2], 0, 64)
		if err != nil {
			continue // not a plain number
		}
		defs[fields[1]] = int(v)
	}
	return defs
}

// TestZtwireMatchesGo fails when the C header and the Go constants that
// describe the same bytes drift apart, in either direction.
func TestZtwireMatchesGo(t *testing.T) {
	want := map[string]int{
		"ZT_DEFAULT_PORT":              packet.DefaultPort,
		"ZT_ADDRESS_LENGTH":            identity.AddressLength,
		"ZT_ADDRESS_RESERVED_PREFIX":   identity.ReservedPrefix,
		"ZT_PACKET_IDX_IV":             packet.IndexID,
		"ZT_PACKET_IDX_DEST":           packet.IndexDest,
		"ZT_PACKET_IDX_SOURCE":         packet.IndexSource,
		"ZT_PACKET_IDX_FLAGS":          packet.IndexFlags,
		"ZT_PACKET_IDX_MAC":            packet.IndexMAC,
		"ZT_PACKET_IDX_VERB":           packet.IndexVerb,
		"ZT_PACKET_IDX_PAYLOAD":        packet.IndexPayload,
		"ZT_PROTO_MIN_PACKET_LENGTH":   packet.MinPacketLength,
		"ZT_FRAGMENT_IDX_PACKET_ID":    packet.FragIndexPacketID,
		"ZT_FRAGMENT_IDX_DEST":         packet.FragIndexDest,
		"ZT_FRAGMENT_IDX_INDICATOR":    packet.FragIndexIndicator,
		"ZT_FRAGMENT_IDX_COUNTS":       packet.FragIndexCounts,
		"ZT_FRAGMENT_IDX_HOPS":         packet.FragIndexHops,
		"ZT_FRAGMENT_IDX_PAYLOAD":      packet.FragIndexPayload,
		"ZT_PROTO_MIN_FRAGMENT_LENGTH": packet.MinFragmentLength,
		"ZT_FRAGMENT_INDICATOR":        identity.ReservedPrefix,
		"ZT_FLAG_ENCRYPTED":            packet.FlagEncrypted,
		"ZT_FLAG_FRAGMENTED":           packet.FlagFragmented,
		"ZT_FLAGS_CIPHER_MASK":         packet.CipherMask,
		"ZT_FLAGS_CIPHER_SHIFT":        packet.CipherShift,
		"ZT_FLAGS_HOPS_MASK":           packet.HopsMask,
		"ZT_CIPHER_POLY1305_NONE":      int(packet.SuitePoly1305None),
		"ZT_CIPHER_POLY1305_SALSA2012": int(packet.SuitePoly1305Salsa2012),
		"ZT_CIPHER_NONE_TRUSTED_PATH":  int(packet.SuiteTrustedPath),
		"ZT_CIPHER_AES_GMAC_SIV":       int(packet.SuiteAESGMACSIV),
		"ZT_VERB_MASK":                 packet.VerbMask,
		"ZT_VERB_FLAG_COMPRESSED":      packet.VerbFlagCompressed,
		"ZT_PROTO_MAX_HOPS":            packet.MaxHops,
		"ZT_RELAY_MAX_HOPS":            packet.RelayMaxHops,
		"ZT_MAX_PACKET_FRAGMENTS":      packet.MaxPacketFragments,
		"ZT_DEFAULT_PHYSMTU":           packet.DefaultPhysMTU,
		"ZT_PROTO_MAX_PACKET_LENGTH":   packet.MaxPacketLength,
	}
	// Every verb the Go side knows, by its reference name.
	for v := range 32 {
		verb := packet.Verb(v)
		if verb.Known() {
			want["ZT_VERB_"+verb.String()] = v
		}
	}
	got := cDefines(t)
	for name, v := range want {
		c, ok := got[name]
		if !ok {
			t.Errorf("ztwire.h lacks %s (Go: %d)", name, v)
		} else if c != v {
			t.Errorf("%s: ztwire.h says %d, Go says %d", name, c, v)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("ztwire.h defines %s, which no Go constant checks", name)
		}
	}
}

// TestZtwireCompiles runs the C compiler over the header, whose static
// assertions check the struct layouts against the offsets.
func TestZtwireCompiles(t *testing.T) {
	cc, err := exec.LookPath("clang")
	if err != nil {
		if cc, err = exec.LookPath("gcc"); err != nil {
			t.Skip("no C compiler (clang or gcc) on PATH")
		}
	}
	out, err := exec.Command(cc, "-fsyntax-only", "-Wall", "-Werror", "-x", "c", "ztwire.h").CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cc, err, out)
	}
}
