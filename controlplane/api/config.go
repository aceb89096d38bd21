package api

import (
	"encoding/json"
	"maps"
	"math"
	"strconv"
	"strings"
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
	settings["allowTcpFallbackRelay"] = jsonBool(settings["allowTcpFallbackRelay"], st.AllowTCPFallbackRelay)
	settings["forceTcpRelay"] = jsonBool(settings["forceTcpRelay"], st.ForceTCPRelay)
	settings["primaryPort"] = jsonUint(settings["primaryPort"], uint64(st.PrimaryPort)) & 0xffff
	settings["secondaryPort"] = jsonUint(settings["secondaryPort"], uint64(st.SecondaryPort)) & 0xffff
	settings["tertiaryPort"] = jsonUint(settings["tertiaryPort"], uint64(st.TertiaryPort)) & 0xffff
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
	settings["portMappingEnabled"] = jsonBool(settings["portMappingEnabled"], st.PortMappingEnabled)
	settings["softwareUpdate"] = jsonString(settings["softwareUpdate"], update)
	settings["softwareUpdateChannel"] = jsonString(settings["softwareUpdateChannel"], channel)
	return out
}

// The reference's JSON coercions (PROTOCOL.md part 1 §11.2): absent, null,
// objects and arrays give the default. Numbers may come as json.Number
// (decoded with UseNumber) or float64.

func jsonBool(v any, dfl bool) bool {
	switch x := v.(type) {
	case bool:
		return x
	case json.Number, float64:
		return numberUint(x) > 0
	case string:
		return x != "" && (x[0] == 't' || x[0] == 'T' || x[0] == '1')
	}
	return dfl
}

func jsonUint(v any, dfl uint64) uint64 {
	switch x := v.(type) {
	case json.Number, float64:
		return numberUint(x)
	case string:
		return leadingDecimal(x)
	case bool:
		if x {
			return 1
		}
		return 0
	}
	return dfl
}

func jsonString(v any, dfl string) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number, float64:
		return strconv.FormatUint(numberUint(x), 10)
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	return dfl
}

// numberUint casts a JSON number to uint64 as the reference does
// (negative integers wrap; fractions truncate).
func numberUint(v any) uint64 {
	var f float64
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if u, err := strconv.ParseUint(s, 10, 64); err == nil {
				return u
			}
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return uint64(i)
			}
		}
		f, _ = strconv.ParseFloat(s, 64)
	case float64:
		f = x
	}
	switch {
	case math.IsNaN(f), f >= 1<<64, f <= -(1 << 63):
		return 1 << 63
	case f >= 0:
		return uint64(f)
	}
	return uint64(int64(f))
}

// leadingDecimal reads a string like strtoull in base 10: optional space
// and sign, then the digits that follow; none gives 0.
func leadingDecimal(s string) uint64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var v uint64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if v > (math.MaxUint64-d)/10 {
			return math.MaxUint64
		}
		v = v*10 + d
	}
	if neg {
		return -v
	}
	return v
}
