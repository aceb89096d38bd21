package home

import (
	"github.com/ztx/ztx/internal/refjson"
	"net/netip"
	"strings"
)

// ParseTrustedPaths reads the legacy trustedpaths file (deprecated in
// favour of local.conf's "physical"): one entry per line, tokens separated
// by spaces, tabs or '=', the trusted path ID in hex and then a CIDR.
// Entries with a zero ID, an unreadable CIDR or a /0 are skipped, as are
// further tokens on a line. The rows have the default MTU.
func ParseTrustedPaths(b []byte) []PathConfig {
	var out []PathConfig
	for line := range strings.Lines(string(b)) {
		f := strings.FieldsFunc(line, func(r rune) bool {
			return r == '=' || r == ' ' || r == '\t' || r == '\r' || r == '\n'
		})
		if len(f) < 2 {
			continue
		}
		id := refjson.Strtoull(f[0], 16)
		ip, bits, slash, ok := parseInet(f[1])
		if id == 0 || !ok || !slash || bits == 0 || int(bits) > ip.BitLen() {
			continue
		}
		out = append(out, PathConfig{Prefix: netip.PrefixFrom(ip, int(bits)), TrustedPathID: id, MTU: DefaultPhysMTU})
	}
	return out
}
