package service

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ztx/ztx/dataplane/xdp"
	"github.com/ztx/ztx/internal/netns"
	"golang.org/x/sys/unix"
)

// TestXDPRootRelay: a root with the XDP data plane between two nodes
// that cannot reach each other directly. The first packets of the pair
// go through userspace (and the root introduces the nodes); then the
// kernel relays, and pings keep coming back relayed. Closing the root
// detaches the program and removes its pins.
func TestXDPRootRelay(t *testing.T) {
	netns.RequireRoot(t)
	netns.RequireCommands(t, "ip", "nft")
	pins := filepath.Join(t.TempDir(), "bpf")
	if err := xdp.MountBPFFS(pins); err != nil {
		t.Skipf("no BPF file system: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(pins, unix.MNT_DETACH) })
	nsR, nsA, nsB := netns.New(t, "root"), netns.New(t, "a"), netns.New(t, "b")
	seg := netns.Bridge(t, "lan", lan, nsR, nsA, nsB)
	root := startWith(t, nsR, "id1.secret", seg.Addr(nsR), nil,
		Options{Dataplane: DataplaneXDP, XDPMode: xdp.ModeGeneric, PinDir: filepath.Join(pins, "ztx")})
	a := startIn(t, nsA, "id2.secret", seg.Addr(nsA))
	b := startIn(t, nsB, "id3.secret", seg.Addr(nsB))
	netns.Block(t, seg.NS, netip.PrefixFrom(seg.Addr(nsA), 32), netip.PrefixFrom(seg.Addr(nsB), 32))
	eventually(t, 20*time.Second, "A and B online", func() bool { return a.online() && b.online() })

	relayedByKernel := func() uint64 {
		c, ok := root.svc.XDPCounters()
		if !ok {
			t.Fatal("the root runs without XDP")
		}
		return c[xdp.RelayTX].Packets + c[xdp.RelayRedirect].Packets
	}
	if r := a.ping(t, b); !r.Relayed {
		t.Fatalf("A and B are blocked from each other, yet the ping went direct: %+v", r)
	}
	eventually(t, 10*time.Second, "the kernel relaying the pair", func() bool {
		a.tryPing(b)
		return relayedByKernel() > 0
	}, a, b, root)
	before := relayedByKernel()
	for range 5 {
		if r := a.ping(t, b); !r.Relayed {
			t.Fatalf("ping not relayed: %+v", r)
		}
	}
	if got := relayedByKernel() - before; got < 10 {
		t.Fatalf("the kernel relayed %d packets of 5 pings and answers", got)
	}
	uCounters := root.svc.Node().Stats()
	t.Logf("root: userspace relayed %d, kernel %d", uCounters.Relayed, relayedByKernel())

	// Closing detaches and unpins.
	dir := ""
	if len(root.svc.fast.progs) > 0 {
		dir = root.svc.fast.progs[0].PinDir()
	}
	root.svc.Close()
	if _, err := os.Stat(dir); dir == "" || !os.IsNotExist(err) {
		t.Fatalf("pins left in %q after Close: %v", dir, err)
	}
}
