package api

import (
	"github.com/ztx/ztx/internal/refjson"
	"maps"
)

// Settings are the daemon's effective values of the local.conf settings
// that /status always shows. A value set in local.conf is shown as
// configured (coerced as the reference coerces it); these fill the rest.
type Settings struct {
	PrimaryPort           uint16
	SecondaryPort         uint16 // the bound secondary port, 0 if none
	TertiaryPort          uint16
	AllowTCPFallbackRelay bool
	ForceTCPRelay         bool
	PortMappingEnabled    bool
	SoftwareUpdate        string // "" means "disable"
	SoftwareUpdateChannel string // "" means "release"
}

// config builds /status's config object: local.conf as parsed, with the
// settings object completed as the reference completes it. The caller's
// map is not modified.
func (s *Service) config(surface []string) map[string]any {
	out := map[string]any{}
	if s.LocalConf != nil {
		maps.Copy(out, s.LocalConf())
	}
	settings := map[string]any{}
	if m, ok := out["settings"].(map[string]any); ok {
		maps.Copy(settings, m)
	}
	out["settings"] = settings

	st := s.Settings
	update, channel := st.SoftwareUpdate, st.SoftwareUpdateChannel
	if update == "" {
		update = "disable"
	}
	if channel == "" {
		channel = "release"
	}
	settings["allowTcpFallbackRelay"] = refjson.Bool(settings["allowTcpFallbackRelay"], st.AllowTCPFallbackRelay)
	settings["forceTcpRelay"] = refjson.Bool(settings["forceTcpRelay"], st.ForceTCPRelay)
	settings["primaryPort"] = refjson.Uint(settings["primaryPort"], uint64(st.PrimaryPort)) & 0xffff
	settings["secondaryPort"] = refjson.Uint(settings["secondaryPort"], uint64(st.SecondaryPort)) & 0xffff
	settings["tertiaryPort"] = refjson.Uint(settings["tertiaryPort"], uint64(st.TertiaryPort)) & 0xffff
	settings["homeDir"] = s.HomeDir
	var listening []string
	if s.ListeningOn != nil {
		listening = formatAddrs(s.ListeningOn())
	}
	if listening == nil {
		listening = []string{}
	}
	settings["listeningOn"] = listening
	if surface == nil {
		surface = []string{}
	}
	settings["surfaceAddresses"] = surface
	settings["portMappingEnabled"] = refjson.Bool(settings["portMappingEnabled"], st.PortMappingEnabled)
	settings["softwareUpdate"] = refjson.String(settings["softwareUpdate"], update)
	settings["softwareUpdateChannel"] = refjson.String(settings["softwareUpdateChannel"], channel)
	return out
}

// The reference's JSON coercions (PROTOCOL.md part 1 §11.2): absent, null,
// objects and arrays give the default. Numbers may come as json.Number
// (decoded with UseNumber) or float64.
