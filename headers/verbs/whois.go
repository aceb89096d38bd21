package verbs

import (
	"encoding/json"
	"strings"

	"github.com/ztx/ztx/crypto/identity"
)

// Whois is the payload of WHOIS (verb 0x04): addresses to look up, 5 bytes each (1.14.1
// senders put exactly one). A partial address at the end is kept in Trailing.
type Whois struct {
	Addresses []identity.Address
	Trailing  Bytes
}

// Verb returns 0x04.
func (Whois) Verb() byte { return verbWhois }

// ParseWhois parses a WHOIS payload; it never fails.
func ParseWhois(b []byte) (Whois, error) {
	c := cursor{b: b}
	var w Whois
	for c.remaining() >= identity.AddressLength {
		w.Addresses = append(w.Addresses, c.address("address"))
	}
	w.Trailing = c.rest()
	return finish(w, &c, "WHOIS")
}

// AppendMarshal appends the addresses.
func (w Whois) AppendMarshal(dst []byte) []byte {
	for _, a := range w.Addresses {
		dst = a.AppendTo(dst)
	}
	return append(dst, w.Trailing...)
}

func (w Whois) String() string {
	addrs := make([]string, len(w.Addresses))
	for i, a := range w.Addresses {
		addrs[i] = a.String()
	}
	return "WHOIS " + strings.Join(addrs, ",") + trailingString(w.Trailing)
}

// MarshalJSON implements json.Marshaler.
func (w Whois) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Addresses []jsonAddr `json:"addresses"`
		Trailing  Bytes      `json:"trailing,omitempty"`
	}{jsonAddrs(w.Addresses), w.Trailing})
}
