package home

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/ztx/ztx/headers/dict"
)

// networks.d holds, per joined network, <16 hex ID>.conf (the last applied
// network configuration dictionary; a freshly joined network without one
// has a file holding a single LF) and <16 hex ID>.local.conf (the member's
// allowManaged/allowGlobal/allowDefault/allowDNS choices, NetworkSettings).
// This package keeps the config's bytes; their meaning belongs to the VL2
// code.

// NetworkConfPlaceholder is what networks.d/<id>.conf holds for a network
// joined without a usable config: a single LF.
const NetworkConfPlaceholder = "\n"

// maxNetworkConf is how much of a .conf the reference reads: a network
// config dictionary without its terminating NUL.
const maxNetworkConf = dict.NetworkConfigCapacity - 1

func (h *Home) networkPath(id uint64, suffix string) string {
	return h.Path(NetworksDir, fmt.Sprintf("%016x%s", id, suffix))
}

// NetworkIDs lists the joined networks: every networks.d/<16 hex>.conf,
// sorted.
func (h *Home) NetworkIDs() ([]uint64, error) {
	ents, err := os.ReadDir(h.Path(NetworksDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("home: %w", err)
	}
	var ids []uint64
	for _, e := range ents {
		if id, ok := parseHexName(e.Name(), 16, ".conf"); ok && !e.IsDir() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// JoinNetwork records network id as joined and returns its cached config:
// the content of networks.d/<id>.conf when that holds more than one byte
// (of which, like the reference, it reads at most the capacity of a
// network config dictionary), else nil after writing the placeholder. A
// caller that cannot use the config returned should write the placeholder
// over it, as the reference does.
func (h *Home) JoinNetwork(id uint64) ([]byte, error) {
	f, err := os.Open(h.networkPath(id, ".conf"))
	switch {
	case err == nil:
		b, err := io.ReadAll(io.LimitReader(f, maxNetworkConf))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("home: %w", err)
		}
		if len(b) > 1 {
			return b, nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("home: %w", err)
	}
	return nil, h.WriteNetworkConf(id, []byte(NetworkConfPlaceholder))
}

// ReadNetworkConf returns networks.d/<id>.conf. A missing file is an
// error wrapping fs.ErrNotExist.
func (h *Home) ReadNetworkConf(id uint64) ([]byte, error) {
	b, err := os.ReadFile(h.networkPath(id, ".conf"))
	if err != nil {
		return nil, fmt.Errorf("home: %w", err)
	}
	return b, nil
}

// WriteNetworkConf replaces networks.d/<id>.conf if it changed.
func (h *Home) WriteNetworkConf(id uint64, b []byte) error {
	_, err := writeFileAtomic(h.networkPath(id, ".conf"), b, 0o644)
	return err
}

// ReadNetworkLocalConf returns networks.d/<id>.local.conf. A missing file
// is an error wrapping fs.ErrNotExist.
func (h *Home) ReadNetworkLocalConf(id uint64) ([]byte, error) {
	b, err := os.ReadFile(h.networkPath(id, ".local.conf"))
	if err != nil {
		return nil, fmt.Errorf("home: %w", err)
	}
	return b, nil
}

// WriteNetworkLocalConf replaces networks.d/<id>.local.conf if it changed.
func (h *Home) WriteNetworkLocalConf(id uint64, b []byte) error {
	_, err := writeFileAtomic(h.networkPath(id, ".local.conf"), b, 0o644)
	return err
}

// NetworkSettings returns the settings in networks.d/<id>.local.conf, or
// DefaultNetworkSettings if there is no such file.
func (h *Home) NetworkSettings(id uint64) (NetworkSettings, error) {
	b, err := os.ReadFile(h.networkPath(id, ".local.conf"))
	if errors.Is(err, fs.ErrNotExist) {
		return DefaultNetworkSettings(), nil
	}
	if err != nil {
		return NetworkSettings{}, fmt.Errorf("home: %w", err)
	}
	return ParseNetworkSettings(b), nil
}

// WriteNetworkSettings replaces networks.d/<id>.local.conf with s in the
// reference's format (see NetworkSettings.AppendMarshal) if it changed.
func (h *Home) WriteNetworkSettings(id uint64, s NetworkSettings) error {
	return h.WriteNetworkLocalConf(id, s.AppendMarshal(nil))
}

// DeleteNetwork removes a left network's .conf and .local.conf.
func (h *Home) DeleteNetwork(id uint64) error {
	return errors.Join(removeFile(h.networkPath(id, ".conf")), removeFile(h.networkPath(id, ".local.conf")))
}

// NetworkSettings are the member's choices for one network, kept in
// networks.d/<id>.local.conf: a dictionary (LF-separated key=value lines)
// with allowManaged, allowGlobal, allowDefault and allowDNS.
//
// Read as the reference reads it: only the first 4095 bytes count; a key
// present more than once counts the first time; allowGlobal, allowDefault
// and allowDNS are true when their value starts with 1, t or T (absent:
// false). allowManaged is absent or empty: true; of at most 5 bytes: a
// boolean like the others; longer: a comma-separated list of CIDRs (of
// its first 1023 bytes) that managed addresses and routes must fall
// inside, managed addresses being allowed. A file that is missing holds
// the defaults (DefaultNetworkSettings).
type NetworkSettings struct {
	AllowManaged bool
	// ManagedWhitelist, when not nil, is allowManaged's list of CIDRs.
	// As elsewhere in this package a bare IP means that one host (the
	// reference reads it as a /0: the whole address family), and an entry
	// that does not parse (spaces included) is kept as the zero Prefix,
	// which admits nothing (the reference's unreadable address admits
	// nothing either).
	ManagedWhitelist []netip.Prefix
	AllowGlobal      bool
	AllowDefault     bool
	AllowDNS         bool
}

// DefaultNetworkSettings are the settings of a network without a
// .local.conf: managed addresses allowed, nothing else.
func DefaultNetworkSettings() NetworkSettings { return NetworkSettings{AllowManaged: true} }

// Limits of the reference's reader: a Dictionary<4096> and a 1024-byte
// buffer for allowManaged, each holding a terminating NUL.
const (
	maxNetworkLocalConf = 4096 - 1
	maxAllowManaged     = 1024 - 1
	// maxAllowManagedBool is the longest allowManaged value read as a
	// boolean rather than a list.
	maxAllowManagedBool = 5
)

// ParseNetworkSettings reads a .local.conf. It never fails: what it cannot
// read counts as absent, as in the reference.
func ParseNetworkSettings(b []byte) NetworkSettings {
	if len(b) > maxNetworkLocalConf {
		b = b[:maxNetworkLocalConf]
	}
	d, _ := dict.Parse(b) // never fails
	s := DefaultNetworkSettings()
	if v, ok := d.Get("allowManaged"); ok && len(v) > 0 {
		v = v[:min(len(v), maxAllowManaged)]
		if len(v) <= maxAllowManagedBool {
			s.AllowManaged = isTrue(v)
		} else {
			for _, e := range strings.Split(string(v), ",") {
				p, _ := parsePrefix(e) // the zero Prefix when unreadable
				s.ManagedWhitelist = append(s.ManagedWhitelist, p)
			}
		}
	}
	s.AllowGlobal = d.Bool("allowGlobal", false)
	s.AllowDefault = d.Bool("allowDefault", false)
	s.AllowDNS = d.Bool("allowDNS", false)
	return s
}

func isTrue(v []byte) bool { return len(v) > 0 && (v[0] == '1' || v[0] == 't' || v[0] == 'T') }

// AppendMarshal appends s as the reference writes it:
//
//	allowManaged=1
//	allowGlobal=0
//	allowDefault=0
//	allowDNS=0
//
// each line ending in LF. Like the reference, it writes allowManaged as a
// boolean: a whitelist read from a hand-edited file is not written back.
func (s NetworkSettings) AppendMarshal(dst []byte) []byte {
	for _, kv := range []struct {
		key string
		v   bool
	}{
		{"allowManaged", s.AllowManaged},
		{"allowGlobal", s.AllowGlobal},
		{"allowDefault", s.AllowDefault},
		{"allowDNS", s.AllowDNS},
	} {
		dst = append(dst, kv.key...)
		if kv.v {
			dst = append(dst, "=1\n"...)
		} else {
			dst = append(dst, "=0\n"...)
		}
	}
	return dst
}

// Whitelisted reports whether ManagedWhitelist admits the managed address
// or route target: when there is a list, target must lie inside an entry
// at least as wide as itself. It says nothing about AllowManaged,
// AllowGlobal or AllowDefault, which the caller checks too.
func (s NetworkSettings) Whitelisted(target netip.Prefix) bool {
	if s.ManagedWhitelist == nil {
		return true
	}
	if !target.IsValid() {
		return false
	}
	target = unmapPrefix(target)
	for _, e := range s.ManagedWhitelist {
		if !e.IsValid() {
			continue
		}
		e = unmapPrefix(e)
		if contains(e, target.Addr()) && e.Bits() <= target.Bits() {
			return true
		}
	}
	return false
}

// unmapPrefix turns ::ffff:a.b.c.d/96+n into a.b.c.d/n.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}
