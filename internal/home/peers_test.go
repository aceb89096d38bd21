package home

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"
)

func testPeerRecord(t testing.TB) PeerRecord {
	return PeerRecord{
		Identity: testIdentity(t, "id2.public"),
		Version:  PeerVersion{Protocol: 12, Major: 1, Minor: 14, Revision: 1},
		Paths:    []netip.AddrPort{ap("10.77.0.3:9993"), ap("[2001:db8::3]:41234")},
	}
}

func TestPeerCacheFormat(t *testing.T) {
	r := testPeerRecord(t)
	b := r.AppendMarshal(nil)
	// version | identity (71) | 12 | 1 | 14 | 1 | count 2 | 0x04 ip port | 0x06 ip port
	want := "02" + hex.EncodeToString(r.Identity.AppendBinary(nil, false)) +
		"000c" + "0001" + "000e" + "0001" + // protocol 12, version 1.14.1
		"0002" + // two paths
		"04" + "0a4d0003" + "2709" + // 10.77.0.3/9993
		"06" + "20010db8000000000000000000000003" + "a112" // 2001:db8::3/41234
	if got := hex.EncodeToString(b); got != want {
		t.Errorf("record\n got %s\nwant %s", got, want)
	}
	got, err := ParsePeer(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, r) {
		t.Errorf("round trip\n got %+v\nwant %+v", *got, r)
	}
}

func TestPeerCacheRoundTrip(t *testing.T) {
	h, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := testPeerRecord(t)
	if err := h.SavePeer(r); err != nil {
		t.Fatal(err)
	}
	path := h.Path(PeersDir, r.Identity.Address.String()+".peer")
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	got, err := h.LoadPeer(r.Identity.Address)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, r) {
		t.Errorf("LoadPeer\n got %+v\nwant %+v", *got, r)
	}

	// A record with the private key is stored without it.
	sec := testPeerRecord(t)
	sec.Identity = testIdentity(t, "id3.secret")
	sec.Paths = nil
	if err := h.SavePeer(sec); err != nil {
		t.Fatal(err)
	}
	got, err = h.LoadPeer(sec.Identity.Address)
	if err != nil || got.Identity.HasPrivate() || !got.Identity.Equal(sec.Identity) || len(got.Paths) != 0 {
		t.Errorf("secret identity: %+v %v", got, err)
	}

	// At most 64 paths are stored.
	many := testPeerRecord(t)
	many.Paths = nil
	for i := range 70 {
		many.Paths = append(many.Paths, netip.AddrPortFrom(ip("10.0.0.1"), uint16(1000+i)))
	}
	if got, err := ParsePeer(many.AppendMarshal(nil)); err != nil || !slices.Equal(got.Paths, many.Paths[:64]) {
		t.Errorf("path limit: %d paths, %v", len(got.Paths), err)
	}

	if _, err := h.LoadPeer(addr("1122334455")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing peer: %v", err)
	}
	// A file under another peer's name.
	other := h.Path(PeersDir, "1122334455.peer")
	writeString(t, other, readString(t, path))
	if _, err := h.LoadPeer(addr("1122334455")); err == nil {
		t.Error("record for another address loaded")
	}
	if err := h.SavePeer(PeerRecord{}); err == nil {
		t.Error("saved a record without identity")
	}

	// Pruning by age.
	old := time.Now().Add(-31 * 24 * time.Hour)
	os.Chtimes(other, old, old)
	if n, err := h.PrunePeers(time.Now().Add(-PeerCacheMaxAge)); err != nil || n != 1 {
		t.Errorf("PrunePeers = %d, %v", n, err)
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Error("old peer file kept")
	}
	if _, err := h.LoadPeer(r.Identity.Address); err != nil {
		t.Errorf("fresh peer file pruned: %v", err)
	}
	if err := h.DeletePeer(r.Identity.Address); err != nil {
		t.Fatal(err)
	}
	if err := h.DeletePeer(r.Identity.Address); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
	noTempFiles(t, h.Dir())
}

func TestCorruptPeerCache(t *testing.T) {
	h, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := testPeerRecord(t)
	good := r.AppendMarshal(nil)
	headerLen := 1 + 71 + 10
	// Every truncation: an error up to the end of the header, then the
	// paths that fit.
	for n := range len(good) {
		got, err := ParsePeer(good[:n])
		if n < headerLen {
			if err == nil {
				t.Errorf("%d bytes: no error", n)
			}
			continue
		}
		if err != nil {
			t.Errorf("%d bytes: %v", n, err)
			continue
		}
		wantPaths := 0
		if n >= headerLen+7 {
			wantPaths = 1
		}
		if len(got.Paths) != wantPaths {
			t.Errorf("%d bytes: %d paths", n, len(got.Paths))
		}
	}
	for name, b := range map[string][]byte{
		"version 1":        append([]byte{1}, good[1:]...),
		"identity type 1":  slices.Concat(good[:6], []byte{1}, good[7:]),
		"private key len":  slices.Concat(good[:71], []byte{5}, good[72:]),
		"reserved address": slices.Concat([]byte{2, 0xff}, good[2:]),
		"zero address":     slices.Concat([]byte{2, 0, 0, 0, 0, 0}, good[6:]),
	} {
		if _, err := ParsePeer(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
		writeString(t, h.Path(PeersDir, r.Identity.Address.String()+".peer"), string(b))
		if _, err := h.LoadPeer(r.Identity.Address); err == nil {
			t.Errorf("%s: LoadPeer succeeded", name)
		}
	}
	// A bad address type ends the path list; unknown (non-IP) addresses
	// are skipped; trailing bytes are ignored.
	b := slices.Concat(good[:headerLen-2], []byte{0, 4}, []byte{0}, []byte{3, 0, 2, 0xaa, 0xbb}, good[headerLen:headerLen+7], []byte{9, 9, 9})
	got, err := ParsePeer(b)
	if err != nil || !slices.Equal(got.Paths, r.Paths[:1]) {
		t.Errorf("lenient path list: %+v %v", got, err)
	}
	if !bytes.Equal(got.AppendMarshal(nil)[:headerLen-2], good[:headerLen-2]) {
		t.Error("header changed")
	}
}
