package home

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
)

// DeviceMapFile is the legacy file of network ID to interface name
// entries, one "<16 hex nwid>=<ifname>" per line. The reference's Linux
// tap reads it (and honours an entry only while no interface has that
// name) but never writes it; its macOS tap writes it.
const DeviceMapFile = "devicemap"

// Limits of the reference's devicemap reader.
const (
	// deviceMapChunk is the most it reads of a line at a time (fgets into
	// a 256-byte buffer); the rest of a longer line is read as another.
	deviceMapChunk = 256 - 1
	// maxIfName is the longest interface name (IFNAMSIZ without its NUL);
	// longer names are cut.
	maxIfName = 16 - 1
)

// DeviceMap reads the home's devicemap (ParseDeviceMap). A missing file is
// an empty map.
func (h *Home) DeviceMap() (map[uint64]string, error) {
	b, err := os.ReadFile(h.Path(DeviceMapFile))
	if errors.Is(err, fs.ErrNotExist) {
		return map[uint64]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("home: %w", err)
	}
	return ParseDeviceMap(b), nil
}

// ParseDeviceMap reads a devicemap as the reference's Linux tap does: each
// line (in pieces of at most 255 bytes, ending at a NUL) is split at CR,
// LF and '=' with empty pieces dropped; the first piece is the network ID,
// the second the interface name, and the rest is ignored. Only IDs the
// reference can look up count: exactly 16 lower-case hex digits. Names
// are cut to 15 bytes, and a later line wins over an earlier one for the
// same ID.
func ParseDeviceMap(b []byte) map[uint64]string {
	m := map[uint64]string{}
	for len(b) > 0 {
		n := bytes.IndexByte(b, '\n') + 1
		if n == 0 || n > deviceMapChunk {
			n = min(len(b), deviceMapChunk)
		}
		line := b[:n]
		b = b[n:]
		if i := bytes.IndexByte(line, 0); i >= 0 {
			line = line[:i]
		}
		f := bytes.FieldsFunc(line, func(r rune) bool { return r == '\r' || r == '\n' || r == '=' })
		if len(f) < 2 {
			continue
		}
		id, ok := parseLowerHex16(f[0])
		if !ok {
			continue
		}
		m[id] = string(f[1][:min(len(f[1]), maxIfName)])
	}
	return m
}

// parseLowerHex16 reads a network ID as the reference prints it.
func parseLowerHex16(b []byte) (uint64, bool) {
	if len(b) != 16 {
		return 0, false
	}
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(string(b), 16, 64)
	return v, err == nil
}
