package wiredecode

import (
	"fmt"
	"sort"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/dict"
	"github.com/ztx/ztx/headers/verbs"
	"github.com/ztx/ztx/headers/world"
)

// What the decoder adds to a verb's own fields: the worlds an OK(HELLO)
// carries, the controller signature on network-config chunks, and the
// network configuration once all of an update's chunks have passed.

// Details holds decoded objects nested inside a payload.
type Details struct {
	Worlds []*world.World `json:"worlds,omitempty"`
	// ConfigSignature is "ok", "failed" or "unknown-signer" for a config
	// chunk, checked against the network's controller identity.
	ConfigSignature string `json:"configSignature,omitempty"`
	// Config is the assembled network configuration, on the record of the
	// chunk that completed it.
	Config []ConfigEntry `json:"config,omitempty"`
	// Credentials are those of a NETWORK_CREDENTIALS packet.
	Credentials []CredentialInfo `json:"credentials,omitempty"`
}

// ConfigEntry is one key of a network configuration dictionary, its value
// as text when printable and as a byte count otherwise.
type ConfigEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// configAssembly collects the chunks of one network-config update.
type configAssembly struct {
	total  uint32
	chunks map[uint32][]byte // by byte offset
	have   uint32
}

func (d *Decoder) details(r *Record, msg any) {
	switch m := msg.(type) {
	case verbs.OK:
		switch b := m.Body.(type) {
		case verbs.OKHello:
			d.worlds(r, b)
		case verbs.ConfigChunk:
			d.configChunk(r, b)
		}
	case verbs.ConfigChunk:
		d.configChunk(r, m)
	case verbs.NetworkCredentials:
		d.credentials(r, m)
	}
}

func (d *Decoder) worlds(r *Record, ok verbs.OKHello) {
	blob := []byte(ok.Worlds)
	var ws []*world.World
	for len(blob) > 0 {
		w, n, err := world.ParseN(blob)
		if err != nil {
			r.Error = fmt.Sprintf("world update: %v", err)
			break
		}
		ws = append(ws, w)
		blob = blob[n:]
	}
	if len(ws) > 0 {
		r.Details = &Details{Worlds: ws}
	}
}

// maxAssemblies bounds the updates being collected at once.
const maxAssemblies = 64

func (d *Decoder) configChunk(r *Record, k verbs.ConfigChunk) {
	det := &Details{}
	r.Details = det
	if k.Legacy {
		det.Config = configEntries(k.Data)
		return
	}
	if err := k.Check(dict.NetworkConfigCapacity); err != nil {
		r.Error = fmt.Sprintf("config chunk: %v", err)
		return
	}
	ctl, known := d.ids[identity.Address(uint64(k.NetworkID)>>24)]
	switch {
	case !known:
		det.ConfigSignature = "unknown-signer"
	case ctl.Verify(k.AppendSignedMessage(nil), k.Signature):
		det.ConfigSignature = "ok"
	default:
		det.ConfigSignature = "failed"
		return
	}
	if d.configs == nil {
		d.configs = make(map[uint64]*configAssembly)
	}
	a, ok := d.configs[k.UpdateID]
	if !ok {
		if len(d.configs) >= maxAssemblies {
			clear(d.configs)
		}
		a = &configAssembly{total: k.TotalLength, chunks: make(map[uint32][]byte)}
		d.configs[k.UpdateID] = a
	}
	if a.total != k.TotalLength {
		r.Error = "config chunk: total length differs from the update's other chunks"
		return
	}
	if _, dup := a.chunks[k.ChunkIndex]; dup {
		return
	}
	a.chunks[k.ChunkIndex] = append([]byte(nil), k.Data...)
	a.have += uint32(len(k.Data))
	if a.have < a.total {
		return
	}
	offsets := make([]uint32, 0, len(a.chunks))
	for off := range a.chunks {
		offsets = append(offsets, off)
	}
	sort.Slice(offsets, func(i, j int) bool { return offsets[i] < offsets[j] })
	var whole []byte
	for _, off := range offsets {
		if int(off) != len(whole) {
			r.Error = "config chunks overlap or leave a gap"
			delete(d.configs, k.UpdateID)
			return
		}
		whole = append(whole, a.chunks[off]...)
	}
	delete(d.configs, k.UpdateID)
	det.Config = configEntries(whole)
}

func configEntries(b []byte) []ConfigEntry {
	dc, _ := dict.Parse(b)
	var out []ConfigEntry
	for _, e := range dc.Entries() {
		v := string(e.Value)
		if !printable(e.Value) {
			v = fmt.Sprintf("(%d bytes)", len(e.Value))
		}
		out = append(out, ConfigEntry{Key: e.Key, Value: v})
	}
	return out
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
