package home

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"slices"
	"testing"

	"github.com/ztx/ztx/internal/testvec"
)

func TestNetworksDir(t *testing.T) {
	h, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := h.NetworkIDs(); err != nil || len(ids) != 0 {
		t.Fatalf("no networks.d: %v %v", ids, err)
	}
	conf, err := os.ReadFile(testvec.MustPath(t, "session1", "node-state", "node-a-networks.d-f737c19395000001.conf"))
	if err != nil {
		t.Fatal(err)
	}
	const nwid = 0xf737c19395000001
	if err := h.WriteNetworkConf(nwid, conf); err != nil {
		t.Fatal(err)
	}
	if err := h.WriteNetworkLocalConf(nwid, []byte("allowManaged=1\nallowGlobal=0\n")); err != nil {
		t.Fatal(err)
	}
	if err := h.WriteNetworkConf(0x8056c2e21c000001, []byte("\n")); err != nil {
		t.Fatal(err)
	}
	writeString(t, h.Path(NetworksDir, "not-a-network.conf"), "")
	writeString(t, h.Path(NetworksDir, "F737C19395000002.conf"), "\n")
	ids, err := h.NetworkIDs()
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint64{0x8056c2e21c000001, nwid, 0xf737c19395000002}; !slices.Equal(ids, want) {
		t.Errorf("NetworkIDs = %x, want %x", ids, want)
	}
	if b, err := h.ReadNetworkConf(nwid); err != nil || !bytes.Equal(b, conf) {
		t.Errorf("ReadNetworkConf: %v", err)
	}
	if b, err := h.ReadNetworkLocalConf(nwid); err != nil || string(b) != "allowManaged=1\nallowGlobal=0\n" {
		t.Errorf("ReadNetworkLocalConf: %q %v", b, err)
	}
	if err := h.DeleteNetwork(nwid); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ReadNetworkConf(nwid); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after delete: %v", err)
	}
	if _, err := h.ReadNetworkLocalConf(nwid); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after delete: %v", err)
	}
	if err := h.DeleteNetwork(nwid); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
}
