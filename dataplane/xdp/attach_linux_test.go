package xdp

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/internal/netns"
)

// Privileged tests: the program attached to veths in namespaces of the
// test's own, carrying real traffic.
//
//	ns "xdpc" (client)           ns "xdpr" (the node, XDP on ztx-v0)        ns "xdpv" (a virtual network)
//	10.77.0.2 ztx-v0 ──── veth ──── ztx-v0 10.77.0.1    ztx-v1 ──── veth ──── ztx-v0 10.147.17.1
//	sends ZeroTier, receives        trusted FRAMEs are redirected into        MAC = MAC(us, nwid1); a UDP
//	what the node relays back       ztx-v1; relayed ones leave by XDP_TX      socket gets the inner packet

const crashHelperEnv = "ZTX_XDP_CRASH_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(crashHelperEnv) != "" {
		crashHelper()
		return
	}
	os.Exit(m.Run())
}

// pinRoot mounts a private BPF file system for the test's pins.
func pinRoot(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "bpffs")
	if err := MountBPFFS(dir); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			tb.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// enableNAPI attaches an XDP_PASS program to dev in ns: a veth delivers
// frames that its peer's XDP sends or redirects into it only when it has
// NAPI on, which an XDP program (or GRO) turns on.
func enableNAPI(tb testing.TB, ns *netns.NS, dev string) {
	tb.Helper()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.XDP,
		License:      "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, xdpPass), asm.Return()},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { prog.Close() })
	err = ns.Do(func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifi.Index})
		if err != nil {
			return err
		}
		tb.Cleanup(func() { l.Close() })
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// iface reads an interface of ns.
func iface(tb testing.TB, ns *netns.NS, dev string) *net.Interface {
	tb.Helper()
	var ifi *net.Interface
	if err := ns.Do(func() (err error) { ifi, err = net.InterfaceByName(dev); return err }); err != nil {
		tb.Fatal(err)
	}
	return ifi
}

// xdpOf is the XDP attachment of an interface of ns, as netlink shows it.
func xdpOf(tb testing.TB, ns *netns.NS, dev string) netlink.LinkXdp {
	tb.Helper()
	var x netlink.LinkXdp
	err := ns.Do(func() error {
		l, err := netlink.LinkByName(dev)
		if err == nil && l.Attrs().Xdp != nil {
			x = *l.Attrs().Xdp
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return x
}

// exchange sends b from c to dst every 100 ms until r receives a datagram
// (returned) or timeout passes (nil).
func exchange(tb testing.TB, c, r *net.UDPConn, dst netip.AddrPort, b []byte, timeout time.Duration) ([]byte, netip.AddrPort) {
	tb.Helper()
	buf := make([]byte, 65536)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := c.WriteToUDPAddrPort(b, dst); err != nil {
			tb.Fatal(err)
		}
		r.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, from, err := r.ReadFromUDPAddrPort(buf)
		if err == nil {
			return buf[:n], from
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			tb.Fatal(err)
		}
	}
	return nil, netip.AddrPort{}
}

func TestAttach(t *testing.T) {
	netns.RequireRoot(t)
	for _, mode := range []Mode{ModeAuto, ModeGeneric} {
		t.Run(mode.String(), func(t *testing.T) { testAttach(t, mode) })
	}
}

func testAttach(t *testing.T, mode Mode) {
	netns.RequireRoot(t)
	root := pinRoot(t)
	node, client, vnet := netns.New(t, "xdpr"), netns.New(t, "xdpc"), netns.New(t, "xdpv")
	wan := netns.Connect(t, node, client, netip.MustParsePrefix("10.77.0.1/24"), netip.MustParsePrefix("10.77.0.2/24"))
	vl := netns.Connect(t, node, vnet, netip.Prefix{}, netip.MustParsePrefix("10.147.17.1/24"))
	vmac := netconf.MACOf(us, nwid1)
	if err := vnet.Do(func() error {
		l, err := netlink.LinkByName(vl.NameB)
		if err != nil {
			return err
		}
		return netlink.LinkSetHardwareAddr(l, vmac[:])
	}); err != nil {
		t.Fatal(err)
	}
	enableNAPI(t, client, wan.NameB)
	enableNAPI(t, vnet, vl.NameB)

	var x *XDP
	if err := node.Do(func() (err error) {
		x, err = Load(Options{Interface: wan.NameA, Mode: mode, Ports: []uint16{9993}, Address: us, PinDir: root, VerifierLog: true})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	want := map[Mode]Mode{ModeAuto: ModeDriver, ModeGeneric: ModeGeneric}[mode]
	t.Logf("attached to %s/%s in %v mode, pinned at %s", node.Name, wan.NameA, x.Mode(), x.PinDir())
	if x.Mode() != want {
		t.Errorf("mode %v, want %v (veths have native XDP)", x.Mode(), want)
	}
	if a := xdpOf(t, node, wan.NameA); !a.Attached || a.ProgId != x.progID || a.AttachMode != uint32(want) {
		t.Errorf("netlink shows %+v; want program %d attached in mode %d", a, x.progID, want)
	}
	if x.PinDir() != filepath.Join(root, us.String()) {
		t.Errorf("pin dir %s", x.PinDir())
	}
	for _, m := range x.pinned() {
		if _, err := os.Stat(filepath.Join(x.PinDir(), m.name)); err != nil {
			t.Error(err)
		}
	}

	// Ordinary traffic goes through untouched.
	node.Echo(t, netip.MustParseAddrPort("10.77.0.1:7777"))
	if err := client.ProbeUDP(netip.MustParseAddrPort("10.77.0.1:7777"), 5*time.Second); err != nil {
		t.Fatalf("UDP echo through the XDP program: %v", err)
	}

	// A trusted FRAME comes out of the virtual network's interface.
	nodeAddr := netip.MustParseAddrPort("10.77.0.1:9993")
	sender := client.ListenUDP(t, netip.MustParseAddrPort("10.77.0.2:9993"))
	if err := x.SetTrustedPath(netip.MustParsePrefix("10.77.0.0/24"), trustID); err != nil {
		t.Fatal(err)
	}
	if err := x.SetNetwork(nwid1, iface(t, node, vl.NameA).Index); err != nil {
		t.Fatal(err)
	}
	app := vnet.ListenUDP(t, netip.MustParseAddrPort("10.147.17.1:6000"))
	got, from := exchange(t, sender, app, nodeAddr, trustedFrame(t, us, peerA, nwid1, trustID), 5*time.Second)
	if string(got) != "hello over the trusted path" || from != netip.MustParseAddrPort("10.147.17.2:6001") {
		t.Errorf("virtual network got %q from %v", got, from)
	}

	// A relayed packet leaves by XDP_TX, once the pair was introduced.
	local := iface(t, node, wan.NameA)
	remote := iface(t, client, wan.NameB)
	if err := x.SetRelay(peerD2, RelayPath{Ifindex: local.Index, Src: nodeAddr, Dst: netip.MustParseAddrPort("10.77.0.2:5555"),
		SrcMAC: local.HardwareAddr, DstMAC: remote.HardwareAddr}); err != nil {
		t.Fatal(err)
	}
	dest := client.ListenUDP(t, netip.MustParseAddrPort("10.77.0.2:5555"))
	p := armored(t, peerD2, peerA, 300, 1)
	if got, _ := exchange(t, sender, dest, nodeAddr, p, 300*time.Millisecond); got != nil {
		t.Errorf("relayed before the pair was introduced: % x", got)
	}
	if err := x.SetPair(peerA, peerD2); err != nil {
		t.Fatal(err)
	}
	got, from = exchange(t, sender, dest, nodeAddr, p, 5*time.Second)
	wantDgram := bytes.Clone(p)
	packet.Packet(wantDgram).IncrementHops()
	if !bytes.Equal(got, wantDgram) || from != nodeAddr {
		t.Errorf("relayed datagram from %v:\n% x\nwant\n% x", from, got, wantDgram)
	}

	c, err := x.Counters()
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := ReadPinnedCounters(x.PinDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("counters: %v", c)
	for _, k := range []Counter{PassNotZT, Trusted, RelayTX, PassNoPair} {
		if c[k].Packets == 0 {
			t.Errorf("counter %v is 0", k)
		}
		if pinned[k].Packets < c[k].Packets {
			t.Errorf("pinned counter %v: %d < %d", k, pinned[k].Packets, c[k].Packets)
		}
	}

	dir := x.PinDir()
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if a := xdpOf(t, node, wan.NameA); a.Attached {
		t.Errorf("still attached after Close: %+v", a)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pin dir after Close: %v", err)
	}
}

// peerD2 is the relayed destination of TestAttach (peerD's role, another
// address so that the two tests' tables cannot mix).
const peerD2 identity.Address = 0x4444444499

// crashHelper runs in a child process: it loads and attaches as told by
// its environment, says "loaded", and waits to be killed.
func crashHelper() {
	x, err := Load(Options{
		Interface: os.Getenv("ZTX_XDP_IF"),
		Netlink:   os.Getenv("ZTX_XDP_NETLINK") == "1",
		Ports:     []uint16{9993},
		Address:   us,
		PinDir:    os.Getenv("ZTX_XDP_PINS"),
	})
	if err != nil {
		fmt.Println("load:", err)
		os.Exit(1)
	}
	fmt.Printf("loaded %d %v\n", x.progID, x.Mode())
	select {}
}

// crash starts a child process that loads the program onto dev in ns and
// kills it (SIGKILL) once it has; it returns the child's PID.
func crash(t *testing.T, ns *netns.NS, dev, root string, useNetlink bool) int {
	t.Helper()
	nl := "0"
	if useNetlink {
		nl = "1"
	}
	p := ns.Start(t, "env", crashHelperEnv+"=1", "ZTX_XDP_IF="+dev, "ZTX_XDP_PINS="+root, "ZTX_XDP_NETLINK="+nl, os.Args[0])
	if err := p.WaitOutput("loaded", 10*time.Second); err != nil {
		t.Fatalf("helper: %v\n%s", err, p.Output())
	}
	t.Logf("helper %d: %s", p.PID(), strings.TrimSpace(p.Output()))
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("helper did not die")
	}
	return p.PID()
}

// TestCleanupAfterCrash kills a process that loaded the program and checks
// what it left behind and that Cleanup (or the next Load) removes it.
func TestCleanupAfterCrash(t *testing.T) {
	netns.RequireRoot(t)
	for _, c := range []struct {
		name    string
		netlink bool
		reload  bool // clean up by loading the same instance again
	}{
		{"bpf link, Cleanup", false, false},
		{"netlink, Cleanup", true, false},
		{"netlink, Load again", true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := pinRoot(t)
			ns, other := netns.New(t, "xdpcrash"), netns.New(t, "xdpcrashp")
			l := netns.Connect(t, ns, other, netip.MustParsePrefix("10.78.0.1/24"), netip.MustParsePrefix("10.78.0.2/24"))
			pid := crash(t, ns, l.NameA, root, c.netlink)

			dir := filepath.Join(root, us.String())
			insts, err := Instances(root)
			if err != nil {
				t.Fatal(err)
			}
			if len(insts) != 1 || insts[0].Dir != dir || insts[0].PID != pid || insts[0].Live || insts[0].Netlink != c.netlink {
				t.Fatalf("instances after the crash: %+v", insts)
			}
			left := xdpOf(t, ns, l.NameA)
			if c.netlink != left.Attached {
				t.Errorf("after the crash, attached = %v; want %v (a BPF link dies with its process, a netlink attachment does not)", left.Attached, c.netlink)
			}
			if c.netlink && left.ProgId != insts[0].ProgID {
				t.Errorf("attached program %d, the instance's is %d", left.ProgId, insts[0].ProgID)
			}

			if c.reload {
				var x *XDP
				if err := ns.Do(func() (err error) {
					x, err = Load(Options{Interface: l.NameA, Ports: []uint16{9993}, Address: us, PinDir: root})
					return err
				}); err != nil {
					t.Fatal(err)
				}
				defer x.Close()
				if a := xdpOf(t, ns, l.NameA); !a.Attached || a.ProgId != x.progID {
					t.Errorf("after the new Load: %+v; want program %d", a, x.progID)
				}
				return
			}
			var removed []string
			if err := ns.Do(func() (err error) { removed, err = Cleanup(root); return err }); err != nil {
				t.Fatal(err)
			}
			if len(removed) != 1 || removed[0] != us.String() {
				t.Errorf("removed %v", removed)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("pin dir after Cleanup: %v", err)
			}
			if a := xdpOf(t, ns, l.NameA); a.Attached {
				t.Errorf("still attached after Cleanup: %+v", a)
			}
		})
	}
}

// TestLiveInstance checks that a running instance's pins are left alone.
func TestLiveInstance(t *testing.T) {
	requireRoot(t)
	root := pinRoot(t)
	x, err := Load(Options{Ports: []uint16{9993}, Address: us, PinDir: root})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if removed, err := Cleanup(root); err != nil || len(removed) != 0 {
		t.Errorf("Cleanup of a live instance: removed %v, %v", removed, err)
	}
	insts, err := Instances(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(insts) != 1 || !insts[0].Live || insts[0].PID != os.Getpid() || insts[0].ProgID != x.progID || insts[0].Mode != ModeNone {
		t.Errorf("instances: %+v", insts)
	}
	if _, err := Load(Options{Address: us, PinDir: root}); !errors.Is(err, ErrInstanceRunning) {
		t.Errorf("second Load of the instance: %v", err)
	}
	other, err := Load(Options{Address: us, PinDir: root, Instance: "second"})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(x.PinDir(), ztxMapCounters)); err != nil {
		t.Errorf("first instance's pins after the second closed: %v", err)
	}
	if _, err := Load(Options{Address: us, PinDir: root, Instance: "../x"}); err == nil {
		t.Error("instance ../x accepted")
	}
}

// TestCleanupUnfinished checks that Cleanup removes an instance directory
// that a Load which died early left without an info map.
func TestCleanupUnfinished(t *testing.T) {
	requireRoot(t)
	root := pinRoot(t)
	if err := os.Mkdir(filepath.Join(root, "half"), 0o700); err != nil {
		t.Fatal(err)
	}
	insts, err := Instances(root)
	if err != nil || len(insts) != 1 || insts[0].Err == nil || insts[0].Live {
		t.Fatalf("instances: %+v, %v", insts, err)
	}
	if removed, err := Cleanup(root); err != nil || len(removed) != 1 || removed[0] != "half" {
		t.Errorf("Cleanup: removed %v, %v", removed, err)
	}
	if insts, err := Instances(root); err != nil || len(insts) != 0 {
		t.Errorf("instances after Cleanup: %+v, %v", insts, err)
	}
	if insts, err := Instances(filepath.Join(root, "none")); err != nil || insts != nil {
		t.Errorf("instances of a missing root: %+v, %v", insts, err)
	}
}

func TestPinDirNotBPFFS(t *testing.T) {
	requireRoot(t)
	dir := filepath.Join(t.TempDir(), "ztx")
	_, err := Load(Options{Address: us, PinDir: dir})
	if err == nil || !strings.Contains(err.Error(), "BPF file system") {
		t.Errorf("Load with a pin dir on another file system: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load made %s: %v", dir, err)
	}
	// Below a pin root on bpffs, missing directories are made.
	x, err := Load(Options{Address: us, PinDir: filepath.Join(pinRoot(t), "a", "b")})
	if err != nil {
		t.Fatal(err)
	}
	x.Close()
}
