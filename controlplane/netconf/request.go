package netconf

import (
	"fmt"

	"github.com/ztx/ztx/headers/dict"
)

// Keys of the NETWORK_CONFIG_REQUEST metadata dictionary (PROTOCOL.md part 2 §3.1), in the
// order a 1.14.1 member writes them ("a" is defined but never sent).
const (
	ReqKeyVersion            = "v"
	ReqKeyVendor             = "vend"
	ReqKeyProtocolVersion    = "pv"
	ReqKeyMajorVersion       = "majv"
	ReqKeyMinorVersion       = "minv"
	ReqKeyRevision           = "revv"
	ReqKeyMaxRules           = "mr"
	ReqKeyMaxCapabilities    = "mc"
	ReqKeyMaxCapabilityRules = "mcr"
	ReqKeyMaxTags            = "mt"
	ReqKeyFlags              = "f"
	ReqKeyRulesEngineRev     = "revr"
	ReqKeyOSArch             = "o"
	ReqKeyAuth               = "a"
)

// VendorZeroTier is the vendor number of ZeroTier One.
const VendorZeroTier = 1

// RulesEngineRevision is the rules engine revision 1.14.1 announces; a controller treats a
// member announcing 0 (or nothing) as too old for capabilities and tags.
const RulesEngineRevision = 1

// Request is the metadata dictionary of a NETWORK_CONFIG_REQUEST: what the member tells
// the controller about itself. Absent keys read as 0 (or "").
type Request struct {
	Version            uint64 // v: config format understood (7)
	Vendor             uint64 // vend
	ProtocolVersion    uint64 // pv
	MajorVersion       uint64 // majv
	MinorVersion       uint64 // minv
	Revision           uint64 // revv
	MaxRules           uint64 // mr
	MaxCapabilities    uint64 // mc
	MaxCapabilityRules uint64 // mcr
	MaxTags            uint64 // mt
	Flags              uint64 // f
	RulesEngineRev     uint64 // revr
	OSArch             string // o, e.g. "linux/x86_64"
	Auth               string // a: join auth token; written only if non-empty
}

// DefaultRequest returns the metadata a ZeroTier One 1.14.1 member sends, with OS/arch osArch.
func DefaultRequest(osArch string) Request {
	return Request{
		Version:            Version,
		Vendor:             VendorZeroTier,
		ProtocolVersion:    12,
		MajorVersion:       1,
		MinorVersion:       14,
		Revision:           1,
		MaxRules:           1024,
		MaxCapabilities:    128,
		MaxCapabilityRules: 64,
		MaxTags:            128,
		RulesEngineRev:     RulesEngineRevision,
		OSArch:             osArch,
	}
}

// ParseRequest reads request metadata (the NETWORK_CONFIG_REQUEST's dictionary bytes), which
// must fit dict.RequestMetadataCapacity.
func ParseRequest(b []byte) (Request, error) {
	d, err := dict.ParseLimit(b, dict.RequestMetadataCapacity)
	if err != nil {
		return Request{}, fmt.Errorf("netconf: request metadata: %w", err)
	}
	return ParseRequestDictionary(d), nil
}

// ParseRequestDictionary reads request metadata from d.
func ParseRequestDictionary(d *dict.Dictionary) Request {
	o, _ := d.GetString(ReqKeyOSArch)
	a, _ := d.GetString(ReqKeyAuth)
	return Request{
		Version:            d.Uint(ReqKeyVersion, 0),
		Vendor:             d.Uint(ReqKeyVendor, 0),
		ProtocolVersion:    d.Uint(ReqKeyProtocolVersion, 0),
		MajorVersion:       d.Uint(ReqKeyMajorVersion, 0),
		MinorVersion:       d.Uint(ReqKeyMinorVersion, 0),
		Revision:           d.Uint(ReqKeyRevision, 0),
		MaxRules:           d.Uint(ReqKeyMaxRules, 0),
		MaxCapabilities:    d.Uint(ReqKeyMaxCapabilities, 0),
		MaxCapabilityRules: d.Uint(ReqKeyMaxCapabilityRules, 0),
		MaxTags:            d.Uint(ReqKeyMaxTags, 0),
		Flags:              d.Uint(ReqKeyFlags, 0),
		RulesEngineRev:     d.Uint(ReqKeyRulesEngineRev, 0),
		OSArch:             cstring(o),
		Auth:               cstring(a),
	}
}

// ToDictionary writes the metadata in the 1.14.1 member's order (v, vend, pv, majv, minv,
// revv, mr, mc, mcr, mt, f, revr, o), then a if Auth is set, limited to
// dict.RequestMetadataCapacity.
func (r *Request) ToDictionary() (*dict.Dictionary, error) {
	w := writer{d: dict.New(dict.RequestMetadataCapacity)}
	w.uint(ReqKeyVersion, r.Version)
	w.uint(ReqKeyVendor, r.Vendor)
	w.uint(ReqKeyProtocolVersion, r.ProtocolVersion)
	w.uint(ReqKeyMajorVersion, r.MajorVersion)
	w.uint(ReqKeyMinorVersion, r.MinorVersion)
	w.uint(ReqKeyRevision, r.Revision)
	w.uint(ReqKeyMaxRules, r.MaxRules)
	w.uint(ReqKeyMaxCapabilities, r.MaxCapabilities)
	w.uint(ReqKeyMaxCapabilityRules, r.MaxCapabilityRules)
	w.uint(ReqKeyMaxTags, r.MaxTags)
	w.uint(ReqKeyFlags, r.Flags)
	w.uint(ReqKeyRulesEngineRev, r.RulesEngineRev)
	w.str(ReqKeyOSArch, r.OSArch, dict.RequestMetadataCapacity)
	if r.Auth != "" {
		w.str(ReqKeyAuth, r.Auth, dict.RequestMetadataCapacity)
	}
	if w.err != nil {
		return nil, fmt.Errorf("netconf: writing request metadata: %w", w.err)
	}
	return w.d, nil
}

// AppendMarshal appends the serialized metadata dictionary (no terminating NUL), the bytes a
// NETWORK_CONFIG_REQUEST carries.
func (r *Request) AppendMarshal(dst []byte) ([]byte, error) {
	d, err := r.ToDictionary()
	if err != nil {
		return dst, err
	}
	return d.AppendMarshal(dst), nil
}
