package verbs

import (
	"encoding/json"
	"fmt"
	"strings"
)

// NetworkConfigRequest is the payload of NETWORK_CONFIG_REQUEST (verb 0x0b).
type NetworkConfigRequest struct {
	NetworkID NetworkID
	// Metadata is the request metadata dictionary, raw (headers/dict parses it).
	Metadata Bytes
	// Revision and Timestamp of the config the member holds (0 if none); HasRevision
	// reports whether the payload carried both fields (1.14.1 senders always do).
	HasRevision bool
	Revision    uint64
	Timestamp   uint64
	Trailing    Bytes
}

// Verb returns 0x0b.
func (NetworkConfigRequest) Verb() byte { return verbNetworkConfigRequest }

// ParseNetworkConfigRequest parses a NETWORK_CONFIG_REQUEST payload. The network ID and the
// dictionary length are required; the revision and timestamp are read if 16 bytes remain.
func ParseNetworkConfigRequest(b []byte) (NetworkConfigRequest, error) {
	c := cursor{b: b}
	var r NetworkConfigRequest
	r.NetworkID = NetworkID(c.u64("network ID"))
	r.Metadata = nilIfEmpty(c.take(int(c.u16("metadata length")), "metadata"))
	if c.err == nil && c.remaining() >= 16 {
		r.HasRevision = true
		r.Revision = c.u64("revision")
		r.Timestamp = c.u64("timestamp")
	}
	r.Trailing = c.rest()
	return finish(r, &c, "NETWORK_CONFIG_REQUEST")
}

// AppendMarshal appends the payload (at most 65535 metadata bytes).
func (r NetworkConfigRequest) AppendMarshal(dst []byte) []byte {
	dst = appendU64(dst, uint64(r.NetworkID))
	dst = appendLen16(dst, r.Metadata)
	if r.HasRevision {
		dst = appendU64(dst, r.Revision)
		dst = appendU64(dst, r.Timestamp)
	}
	return append(dst, r.Trailing...)
}

func (r NetworkConfigRequest) String() string {
	s := fmt.Sprintf("NETWORK_CONFIG_REQUEST nwid=%s metadata=%d bytes", r.NetworkID, len(r.Metadata))
	if r.HasRevision {
		s += fmt.Sprintf(" rev=%d ts=%d", r.Revision, r.Timestamp)
	}
	return s + trailingString(r.Trailing)
}

// MarshalJSON implements json.Marshaler. The metadata is given in hex and, when it is valid
// UTF-8, as text.
func (r NetworkConfigRequest) MarshalJSON() ([]byte, error) {
	type view struct {
		NetworkID NetworkID `json:"networkId"`
		Metadata  Bytes     `json:"metadata"`
		Text      *string   `json:"metadataText,omitempty"`
		Revision  *uint64   `json:"revision,omitempty"`
		Timestamp *uint64   `json:"timestamp,omitempty"`
		Trailing  Bytes     `json:"trailing,omitempty"`
	}
	v := view{NetworkID: r.NetworkID, Metadata: r.Metadata, Text: textOrNil(r.Metadata), Trailing: r.Trailing}
	if r.HasRevision {
		v.Revision, v.Timestamp = &r.Revision, &r.Timestamp
	}
	return json.Marshal(v)
}

// Config chunk constants (PROTOCOL.md part 2 §3.2).
const (
	// ConfigFlagFastPropagate asks receivers to re-send the chunk to the network's members.
	ConfigFlagFastPropagate = 0x01
	// ConfigSignatureEd25519 is the only signature type receivers accept.
	ConfigSignatureEd25519 = 1
	// ConfigSignatureLength is the only signature length receivers accept.
	ConfigSignatureLength = 96
	// MaxConfigChunk is the largest chunk a 1.14.1 controller sends: 10024 - (28 + 256).
	MaxConfigChunk = 9740
)

// ConfigChunk is one chunk of a network config: the payload of NETWORK_CONFIG (verb 0x0c) and
// the body of OK(NETWORK_CONFIG_REQUEST). A legacy chunk ends right after the data (Legacy);
// otherwise the trailer fields follow. Parse checks only the structure; Check applies the
// receiver's acceptance rules.
type ConfigChunk struct {
	NetworkID NetworkID
	Data      Bytes // this chunk of the serialized config dictionary

	Legacy        bool // no trailer: an unsigned, complete, single-chunk config
	Flags         byte
	UpdateID      uint64 // shared by all chunks of one config
	TotalLength   uint32 // length of the assembled dictionary
	ChunkIndex    uint32 // byte offset of Data in the assembled dictionary
	SignatureType byte
	Signature     Bytes // by the controller, over SignedMessage
	Trailing      Bytes
}

// Verb returns 0x0c (NETWORK_CONFIG).
func (ConfigChunk) Verb() byte { return verbNetworkConfig }

// ParseConfigChunk parses a config chunk.
func ParseConfigChunk(b []byte) (ConfigChunk, error) {
	c := cursor{b: b}
	var k ConfigChunk
	k.NetworkID = NetworkID(c.u64("network ID"))
	k.Data = nilIfEmpty(c.take(int(c.u16("chunk length")), "chunk data"))
	if c.err == nil && c.remaining() == 0 {
		k.Legacy = true
		return k, nil
	}
	k.Flags = c.u8("flags")
	k.UpdateID = c.u64("config update ID")
	k.TotalLength = c.u32("total length")
	k.ChunkIndex = c.u32("chunk index")
	k.SignatureType = c.u8("signature type")
	k.Signature = c.take(int(c.u16("signature length")), "signature")
	k.Trailing = c.rest()
	return finish(k, &c, "config chunk")
}

// AppendMarshal appends the chunk (at most 65535 data and signature bytes).
func (k ConfigChunk) AppendMarshal(dst []byte) []byte {
	dst = k.AppendSignedMessage(dst)
	if k.Legacy {
		return dst
	}
	dst = append(dst, k.SignatureType)
	dst = appendLen16(dst, k.Signature)
	return append(dst, k.Trailing...)
}

// AppendSignedMessage appends the bytes the controller signs: the chunk from the network ID
// through the chunk index (for a Legacy chunk: network ID, length and data only).
func (k ConfigChunk) AppendSignedMessage(dst []byte) []byte {
	dst = appendU64(dst, uint64(k.NetworkID))
	dst = appendLen16(dst, k.Data)
	if k.Legacy {
		return dst
	}
	dst = append(dst, k.Flags)
	dst = appendU64(dst, k.UpdateID)
	dst = appendU32(dst, k.TotalLength)
	return appendU32(dst, k.ChunkIndex)
}

// Check applies the receiver's rules for a signed chunk: signature type 1 and length 96,
// chunk index + length ≤ total length, and total length below capacity (the assembled
// dictionary's limit, 0 for no limit).
func (k ConfigChunk) Check(capacity int) error {
	switch {
	case k.Legacy:
		return fmt.Errorf("verbs: config chunk: %w: legacy (unsigned) chunk", ErrInvalid)
	case k.SignatureType != ConfigSignatureEd25519:
		return fmt.Errorf("verbs: config chunk: %w: signature type %d", ErrInvalid, k.SignatureType)
	case len(k.Signature) != ConfigSignatureLength:
		return fmt.Errorf("verbs: config chunk: %w: signature length %d", ErrInvalid, len(k.Signature))
	case uint64(k.ChunkIndex)+uint64(len(k.Data)) > uint64(k.TotalLength):
		return fmt.Errorf("verbs: config chunk: %w: chunk %d+%d beyond total %d",
			ErrInvalid, k.ChunkIndex, len(k.Data), k.TotalLength)
	case capacity > 0 && uint64(k.TotalLength) >= uint64(capacity):
		return fmt.Errorf("verbs: config chunk: %w: total length %d over capacity %d",
			ErrInvalid, k.TotalLength, capacity)
	}
	return nil
}

// ChunkID is the receiver's duplicate-detection ID: the first 16 signature bytes XORed into 8
// (byte i into i&7), read big-endian.
func (k ConfigChunk) ChunkID() uint64 {
	var id [8]byte
	for i, x := range k.Signature[:min(len(k.Signature), 16)] {
		id[i&7] ^= x
	}
	var v uint64
	for _, x := range id {
		v = v<<8 | uint64(x)
	}
	return v
}

func (k ConfigChunk) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "CONFIG_CHUNK nwid=%s len=%d", k.NetworkID, len(k.Data))
	if k.Legacy {
		s.WriteString(" legacy")
	} else {
		fmt.Fprintf(&s, " index=%d total=%d update=%016x flags=%02x sig=%d/%d bytes",
			k.ChunkIndex, k.TotalLength, k.UpdateID, k.Flags, k.SignatureType, len(k.Signature))
	}
	s.WriteString(trailingString(k.Trailing))
	return s.String()
}

// MarshalJSON implements json.Marshaler. The chunk data is given in hex and, when it is valid
// UTF-8, as text.
func (k ConfigChunk) MarshalJSON() ([]byte, error) {
	type trailer struct {
		Flags         byte   `json:"flags"`
		UpdateID      string `json:"updateId"`
		TotalLength   uint32 `json:"totalLength"`
		ChunkIndex    uint32 `json:"chunkIndex"`
		SignatureType byte   `json:"signatureType"`
		Signature     Bytes  `json:"signature"`
	}
	type view struct {
		NetworkID NetworkID `json:"networkId"`
		Data      Bytes     `json:"data"`
		Text      *string   `json:"text,omitempty"`
		Legacy    bool      `json:"legacy,omitempty"`
		*trailer
		Trailing Bytes `json:"trailing,omitempty"`
	}
	v := view{NetworkID: k.NetworkID, Data: k.Data, Text: textOrNil(k.Data), Legacy: k.Legacy, Trailing: k.Trailing}
	if !k.Legacy {
		v.trailer = &trailer{k.Flags, fmt.Sprintf("%016x", k.UpdateID), k.TotalLength, k.ChunkIndex,
			k.SignatureType, k.Signature}
	}
	return json.Marshal(v)
}
