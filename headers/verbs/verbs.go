package verbs

import "fmt"

// Verb numbers (PROTOCOL.md part 1 §6.1). headers/packet owns the exported verb type; these
// mirror it so that this package does not depend on it.
const (
	verbNop                    = 0x00
	verbHello                  = 0x01
	verbError                  = 0x02
	verbOK                     = 0x03
	verbWhois                  = 0x04
	verbRendezvous             = 0x05
	verbFrame                  = 0x06
	verbExtFrame               = 0x07
	verbEcho                   = 0x08
	verbMulticastLike          = 0x09
	verbNetworkCredentials     = 0x0a
	verbNetworkConfigRequest   = 0x0b
	verbNetworkConfig          = 0x0c
	verbMulticastGather        = 0x0d
	verbMulticastFrame         = 0x0e
	verbPushDirectPaths        = 0x10
	verbAck                    = 0x12
	verbQoSMeasurement         = 0x13
	verbUserMessage            = 0x14
	verbRemoteTrace            = 0x15
	verbPathNegotiationRequest = 0x16

	// verbMask selects the verb number from the verb byte (the high 3 bits are flags).
	verbMask = 0x1f
)

var verbNames = [...]string{
	verbNop:                    "NOP",
	verbHello:                  "HELLO",
	verbError:                  "ERROR",
	verbOK:                     "OK",
	verbWhois:                  "WHOIS",
	verbRendezvous:             "RENDEZVOUS",
	verbFrame:                  "FRAME",
	verbExtFrame:               "EXT_FRAME",
	verbEcho:                   "ECHO",
	verbMulticastLike:          "MULTICAST_LIKE",
	verbNetworkCredentials:     "NETWORK_CREDENTIALS",
	verbNetworkConfigRequest:   "NETWORK_CONFIG_REQUEST",
	verbNetworkConfig:          "NETWORK_CONFIG",
	verbMulticastGather:        "MULTICAST_GATHER",
	verbMulticastFrame:         "MULTICAST_FRAME",
	verbPushDirectPaths:        "PUSH_DIRECT_PATHS",
	verbAck:                    "ACK",
	verbQoSMeasurement:         "QOS_MEASUREMENT",
	verbUserMessage:            "USER_MESSAGE",
	verbRemoteTrace:            "REMOTE_TRACE",
	verbPathNegotiationRequest: "PATH_NEGOTIATION_REQUEST",
}

// verbName names a verb number (as carried in in-re fields); unnamed values print as hex.
func verbName(v byte) string {
	if int(v) < len(verbNames) && verbNames[v] != "" {
		return verbNames[v]
	}
	return fmt.Sprintf("0x%02x", v)
}

// Payload is implemented by every type this package decodes: the payload of a verb, and the
// typed bodies of OK replies.
type Payload interface {
	fmt.Stringer
	// AppendMarshal appends the wire form and returns the extended slice.
	AppendMarshal(dst []byte) []byte
}

// Message is a payload that is a whole verb's payload (as opposed to an OK body).
type Message interface {
	Payload
	// Verb is the verb number the payload belongs to.
	Verb() byte
}

// Decode parses the plaintext, decompressed payload of a packet with verb byte verb (only its
// low 5 bits are used; the compressed flag is ignored). The result is one of the Message types
// of this package, by value: Nop, Hello, OK, Error, Whois, Rendezvous, Frame, ExtFrame, Echo,
// MulticastLike, NetworkCredentials, NetworkConfigRequest, ConfigChunk (NETWORK_CONFIG),
// MulticastGather, MulticastFrame, PushDirectPaths, Ack, QoSMeasurement, UserMessage,
// RemoteTrace, PathNegotiationRequest or, for undefined verbs, Unknown. Byte-slice fields
// alias payload. A HELLO's moon region is kept opaque (see Hello).
func Decode(verb byte, payload []byte) (any, error) {
	v := verb & verbMask
	switch v {
	case verbNop:
		return result(ParseNop(payload))
	case verbHello:
		return result(ParseHello(payload))
	case verbError:
		return result(ParseError(payload))
	case verbOK:
		return result(ParseOK(payload))
	case verbWhois:
		return result(ParseWhois(payload))
	case verbRendezvous:
		return result(ParseRendezvous(payload))
	case verbFrame:
		return result(ParseFrame(payload))
	case verbExtFrame:
		return result(ParseExtFrame(payload))
	case verbEcho:
		return result(ParseEcho(payload))
	case verbMulticastLike:
		return result(ParseMulticastLike(payload))
	case verbNetworkCredentials:
		return result(ParseNetworkCredentials(payload))
	case verbNetworkConfigRequest:
		return result(ParseNetworkConfigRequest(payload))
	case verbNetworkConfig:
		return result(ParseConfigChunk(payload))
	case verbMulticastGather:
		return result(ParseMulticastGather(payload))
	case verbMulticastFrame:
		return result(ParseMulticastFrame(payload))
	case verbPushDirectPaths:
		return result(ParsePushDirectPaths(payload))
	case verbAck:
		return result(ParseAck(payload))
	case verbQoSMeasurement:
		return result(ParseQoSMeasurement(payload))
	case verbUserMessage:
		return result(ParseUserMessage(payload))
	case verbRemoteTrace:
		return result(ParseRemoteTrace(payload))
	case verbPathNegotiationRequest:
		return result(ParsePathNegotiationRequest(payload))
	}
	return Unknown{Number: v, Data: nilIfEmpty(payload)}, nil
}

// result turns a typed parse result into Decode's, with a nil value on error.
func result[T any](v T, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}
