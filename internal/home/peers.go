package home

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"time"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/inet"
)

// Peer cache file (peers.d/<10 hex address>.peer), offsets in bytes:
//
//	0    1    format version, 2
//	1    71   public identity (binary form; a private key, if present, is
//	          skipped and dropped)
//	72   2    peer's protocol version, big-endian
//	74   2    software major version
//	76   2    software minor version
//	78   2    software revision
//	80   2    path count P
//	82   ...  P InetAddresses (the peer's physical addresses)
const (
	peerCacheVersion = 2
	// MaxPeerPaths is the most paths a peer has, and so the most a cache
	// record holds.
	MaxPeerPaths = 64
	// PeerCacheMaxAge is how long a cache file may go unwritten before
	// the node cleans it away (30 days).
	PeerCacheMaxAge = 30 * 24 * time.Hour
)

// PeerVersion is the version a peer reported in HELLO.
type PeerVersion struct {
	Protocol, Major, Minor, Revision uint16
}

// PeerRecord is what the node remembers of a peer it dropped from memory:
// enough to talk to it again at once (its keys, its version, so that AES
// is used from the first packet, and addresses to send HELLO to).
type PeerRecord struct {
	Identity *identity.Identity
	Version  PeerVersion
	Paths    []netip.AddrPort
}

// ParsePeer reads a peer cache record. A wrong version byte, a truncated
// header or a bad identity is an error. Like the reference, the path list
// is read until it ends or an address fails to parse, and unknown
// (non-IP) addresses are skipped; bytes after the paths are ignored.
func ParsePeer(b []byte) (*PeerRecord, error) {
	r, err := parsePeer(b)
	if err != nil {
		return nil, fmt.Errorf("home: peer cache: %w", err)
	}
	return r, nil
}

func parsePeer(b []byte) (*PeerRecord, error) {
	if len(b) < 1 {
		return nil, errors.New("empty")
	}
	if b[0] != peerCacheVersion {
		return nil, fmt.Errorf("format version %d, not %d", b[0], peerCacheVersion)
	}
	id, n, err := identity.ParseBinary(b[1:])
	if err != nil {
		return nil, err
	}
	if id.Address.IsReserved() {
		return nil, fmt.Errorf("reserved address %s", id.Address)
	}
	p := 1 + n
	if len(b) < p+10 {
		return nil, errors.New("truncated")
	}
	r := &PeerRecord{
		Identity: id.PublicOnly(),
		Version: PeerVersion{
			Protocol: binary.BigEndian.Uint16(b[p:]),
			Major:    binary.BigEndian.Uint16(b[p+2:]),
			Minor:    binary.BigEndian.Uint16(b[p+4:]),
			Revision: binary.BigEndian.Uint16(b[p+6:]),
		},
	}
	count := int(binary.BigEndian.Uint16(b[p+8:]))
	p += 10
	for range count {
		ap, n, err := inet.Parse(b[p:])
		if err != nil {
			break
		}
		p += n
		if ap.IsValid() {
			r.Paths = append(r.Paths, ap)
		}
	}
	return r, nil
}

// AppendMarshal appends the cache record: the public identity and at most
// MaxPeerPaths paths.
func (r *PeerRecord) AppendMarshal(dst []byte) []byte {
	dst = append(dst, peerCacheVersion)
	dst = r.Identity.AppendBinary(dst, false)
	dst = binary.BigEndian.AppendUint16(dst, r.Version.Protocol)
	dst = binary.BigEndian.AppendUint16(dst, r.Version.Major)
	dst = binary.BigEndian.AppendUint16(dst, r.Version.Minor)
	dst = binary.BigEndian.AppendUint16(dst, r.Version.Revision)
	paths := r.Paths[:min(len(r.Paths), MaxPeerPaths)]
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(paths)))
	for _, ap := range paths {
		dst = inet.Append(dst, ap)
	}
	return dst
}

func (h *Home) peerPath(a identity.Address) string {
	return h.Path(PeersDir, a.String()+".peer")
}

// SavePeer writes peers.d/<address>.peer, only if it changed.
func (h *Home) SavePeer(r PeerRecord) error {
	if r.Identity == nil {
		return errors.New("home: peer record without identity")
	}
	_, err := writeFileAtomic(h.peerPath(r.Identity.Address), r.AppendMarshal(nil), 0o644)
	return err
}

// LoadPeer reads peers.d/<addr>.peer. A missing file is an error wrapping
// fs.ErrNotExist; a record for another address is an error. The identity
// is not run through LocallyValidate (the reference trusts its own cache).
func (h *Home) LoadPeer(addr identity.Address) (*PeerRecord, error) {
	path := h.peerPath(addr)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("home: %w", err)
	}
	r, err := parsePeer(b)
	if err != nil {
		return nil, fmt.Errorf("home: %s: %w", path, err)
	}
	if r.Identity.Address != addr {
		return nil, fmt.Errorf("home: %s holds peer %s", path, r.Identity.Address)
	}
	return r, nil
}

// DeletePeer removes a peer's cache file; a missing one is not an error.
func (h *Home) DeletePeer(addr identity.Address) error {
	return removeFile(h.peerPath(addr))
}

// PrunePeers deletes peer cache files last written before cutoff (the
// reference cleans files older than PeerCacheMaxAge every so often) and
// returns how many it deleted.
func (h *Home) PrunePeers(cutoff time.Time) (int, error) {
	ents, err := os.ReadDir(h.Path(PeersDir))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("home: %w", err)
	}
	n := 0
	var errs []error
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			continue
		}
		if err := removeFile(h.Path(PeersDir, e.Name())); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
