package packet

// Verb is a verb number, the low 5 bits of the verb byte (§6.1).
type Verb uint8

// Verbs of protocol version 12. 0x0f and 0x11 are not defined.
const (
	VerbNop                    Verb = 0x00
	VerbHello                  Verb = 0x01
	VerbError                  Verb = 0x02
	VerbOK                     Verb = 0x03
	VerbWhois                  Verb = 0x04
	VerbRendezvous             Verb = 0x05
	VerbFrame                  Verb = 0x06
	VerbExtFrame               Verb = 0x07
	VerbEcho                   Verb = 0x08
	VerbMulticastLike          Verb = 0x09
	VerbNetworkCredentials     Verb = 0x0a
	VerbNetworkConfigRequest   Verb = 0x0b
	VerbNetworkConfig          Verb = 0x0c
	VerbMulticastGather        Verb = 0x0d
	VerbMulticastFrame         Verb = 0x0e
	VerbPushDirectPaths        Verb = 0x10
	VerbAck                    Verb = 0x12
	VerbQoSMeasurement         Verb = 0x13
	VerbUserMessage            Verb = 0x14
	VerbRemoteTrace            Verb = 0x15
	VerbPathNegotiationRequest Verb = 0x16
)

var verbNames = [VerbMask + 1]string{
	VerbNop:                    "NOP",
	VerbHello:                  "HELLO",
	VerbError:                  "ERROR",
	VerbOK:                     "OK",
	VerbWhois:                  "WHOIS",
	VerbRendezvous:             "RENDEZVOUS",
	VerbFrame:                  "FRAME",
	VerbExtFrame:               "EXT_FRAME",
	VerbEcho:                   "ECHO",
	VerbMulticastLike:          "MULTICAST_LIKE",
	VerbNetworkCredentials:     "NETWORK_CREDENTIALS",
	VerbNetworkConfigRequest:   "NETWORK_CONFIG_REQUEST",
	VerbNetworkConfig:          "NETWORK_CONFIG",
	VerbMulticastGather:        "MULTICAST_GATHER",
	VerbMulticastFrame:         "MULTICAST_FRAME",
	VerbPushDirectPaths:        "PUSH_DIRECT_PATHS",
	VerbAck:                    "ACK",
	VerbQoSMeasurement:         "QOS_MEASUREMENT",
	VerbUserMessage:            "USER_MESSAGE",
	VerbRemoteTrace:            "REMOTE_TRACE",
	VerbPathNegotiationRequest: "PATH_NEGOTIATION_REQUEST",
}

// Known reports whether v is a defined verb. Unknown verbs that pass
// authentication are accepted and ignored.
func (v Verb) Known() bool { return int(v) < len(verbNames) && verbNames[v] != "" }

// String is the reference's name of the verb ("HELLO"), or "VERB_0x0f" for
// an undefined number.
func (v Verb) String() string {
	if v.Known() {
		return verbNames[v]
	}
	const digits = "0123456789abcdef"
	return "VERB_0x" + string([]byte{digits[v>>4&0xf], digits[v&0xf]})
}

// ParseVerb returns the verb with the given name ("MULTICAST_LIKE").
func ParseVerb(name string) (Verb, bool) {
	for v, n := range verbNames {
		if n != "" && n == name {
			return Verb(v), true
		}
	}
	return 0, false
}
