package home

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
)

// networks.d holds, per joined network, <16 hex ID>.conf (the last applied
// network configuration dictionary; a freshly joined network without one
// has a file holding a single LF) and <16 hex ID>.local.conf (the member's
// allowManaged/allowGlobal/allowDefault/allowDNS choices). This package
// keeps their bytes; their meaning belongs to the VL2 code.

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

// DeleteNetwork removes a left network's .conf and .local.conf.
func (h *Home) DeleteNetwork(id uint64) error {
	return errors.Join(removeFile(h.networkPath(id, ".conf")), removeFile(h.networkPath(id, ".local.conf")))
}
