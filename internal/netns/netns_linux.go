package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Prefix is the start of the name of everything this package creates.
const Prefix = "ztx-"

// runDir is where named network namespaces are bind-mounted (as by
// `ip netns add`).
const runDir = "/run/netns"

var (
	seq       atomic.Uint64 // numbers the namespaces of this process
	sweepOnce sync.Once
	nameOK    = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`)
)

// RequireRoot skips the test unless it runs as root, which network
// namespaces, veth pairs and nftables need.
func RequireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root: the test builds network namespaces (run it as root, as CI does)")
	}
}

// RequireCommands skips the test when one of the named programs is not on
// PATH. ip and tc come with iproute2, nft with nftables; scripts/deps.sh
// installs both.
func RequireCommands(tb testing.TB, names ...string) {
	tb.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			tb.Skipf("needs the %q command, which is not on PATH (scripts/deps.sh installs iproute2 and nftables)", name)
		}
	}
}

// NS is a named network namespace made for one test. Everything in it goes
// away when the test ends: deleting the namespace deletes its interfaces,
// routes and nftables tables with it.
type NS struct {
	// Name is the namespace's name under /run/netns, as `ip netns` shows it:
	// "ztx-<name>-<pid>-<n>".
	Name string

	handle netns.NsHandle  // open fd on the namespace
	nl     *netlink.Handle // rtnetlink socket inside the namespace

	dumped atomic.Bool // its state has been logged for a failed test

	mu     sync.Mutex
	nif    int                       // interfaces made here, to name the next one
	addrs  map[string][]netip.Prefix // addresses this package gave each interface
	routes []route                   // routes this package added, for Link.SetUp
}

type route struct {
	dst netip.Prefix
	gw  netip.Addr
	dev string
}

// New creates the network namespace "ztx-<name>-<pid>-<n>" with its loopback
// interface up, and deletes it when the test ends. name is lower-case letters,
// digits, dots and dashes. IPv6 duplicate address detection is off in the
// namespace, so addresses are usable at once.
//
// The first call in a process runs Sweep, which removes the namespaces of
// earlier test processes that died without cleaning up.
func New(tb testing.TB, name string) *NS {
	tb.Helper()
	RequireRoot(tb)
	if !nameOK.MatchString(name) {
		tb.Fatalf("netns: bad namespace name %q: want lower-case letters, digits, dots and dashes", name)
	}
	sweepOnce.Do(func() {
		if err := Sweep(); err != nil {
			tb.Logf("netns: sweeping namespaces of dead test processes: %v", err)
		}
	})
	full := fmt.Sprintf("%s%s-%d-%d", Prefix, name, os.Getpid(), seq.Add(1)-1)
	h, err := create(full)
	if err != nil {
		tb.Fatalf("netns: creating namespace %s: %v", full, err)
	}
	n := &NS{Name: full, handle: h, addrs: make(map[string][]netip.Prefix)}
	register(tb, n)
	tb.Cleanup(func() {
		dumpOnFailure(tb, n)
		unregister(tb, n)
		if err := n.close(); err != nil {
			tb.Errorf("netns: deleting namespace %s: %v", n.Name, err)
		}
	})
	if n.nl, err = netlink.NewHandleAt(h); err != nil {
		tb.Fatalf("netns %s: netlink socket: %v", full, err)
	}
	if err := n.setLinkUp("lo", true); err != nil {
		tb.Fatalf("netns %s: %v", full, err)
	}
	err = n.Do(func() error {
		return errors.Join(
			writeSysctl("net/ipv6/conf/all/accept_dad", "0"),
			writeSysctl("net/ipv6/conf/default/accept_dad", "0"),
		)
	})
	if err != nil {
		tb.Fatalf("netns %s: %v", full, err)
	}
	return n
}

// create makes a network namespace and bind-mounts it on /run/netns/name (as
// `ip netns add` does). It unshares on a locked thread and moves the thread
// back before unlocking it; only if moving back fails does the thread stay
// locked, to end with its goroutine. (netns.NewNamed leaves the thread in
// the new namespace, and a locked goroutine that exits on the main thread
// wedges the thread there instead of ending it: the namespace would then
// outlive the test.)
func create(name string) (netns.NsHandle, error) {
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return netns.None(), err
	}
	path := filepath.Join(runDir, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return netns.None(), err
	}
	f.Close()
	type result struct {
		h   netns.NsHandle
		err error
	}
	c := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			c <- result{netns.None(), err}
			return
		}
		defer orig.Close()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread() // still in the original namespace
			c <- result{netns.None(), fmt.Errorf("unshare: %w", err)}
			return
		}
		h, err := netns.Get()
		if err == nil {
			err = unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, "")
		}
		if rerr := netns.Set(orig); rerr != nil {
			c <- result{h, errors.Join(err, fmt.Errorf("returning to the original namespace: %w", rerr))}
			return // the thread ends, still locked
		}
		runtime.UnlockOSThread()
		c <- result{h, err}
	}()
	r := <-c
	if r.err != nil {
		if r.h.IsOpen() {
			r.h.Close()
		}
		_ = deleteNamed(name)
		return netns.None(), r.err
	}
	return r.h, nil
}

func (n *NS) close() error {
	if n.nl != nil {
		n.nl.Close()
	}
	err := n.handle.Close()
	return errors.Join(err, deleteNamed(n.Name))
}

// deleteNamed unmounts and removes /run/netns/name; unlike netns.DeleteNamed
// it also removes a name file that was never mounted (a creator that died
// between creating the file and mounting the namespace on it).
func deleteNamed(name string) error {
	path := filepath.Join(runDir, name)
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmounting %s: %w", path, err)
	}
	return os.Remove(path)
}

// Do runs fn on an OS thread that is inside the namespace, and returns fn's
// error. The thread is locked for the duration and moved back afterwards; if
// moving back fails the thread is discarded rather than reused. Sockets that
// fn opens stay in the namespace after Do returns and can be used from any
// goroutine; goroutines that fn starts do not run in the namespace. A panic
// in fn is re-raised in the caller.
func (n *NS) Do(fn func() error) error {
	type result struct {
		err   error
		panic any
		stack []byte
	}
	c := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			c <- result{err: fmt.Errorf("netns: current namespace: %w", err)}
			return // the thread exits, still locked
		}
		defer orig.Close()
		if err := netns.Set(n.handle); err != nil {
			c <- result{err: fmt.Errorf("netns: entering %s: %w", n.Name, err)}
			return
		}
		var r result
		func() {
			defer func() {
				if p := recover(); p != nil {
					r.panic, r.stack = p, debug.Stack()
				}
			}()
			r.err = fn()
		}()
		if err := netns.Set(orig); err != nil {
			r.err = errors.Join(r.err, fmt.Errorf("netns: leaving %s: %w", n.Name, err))
			c <- r
			return // the thread exits, still locked
		}
		runtime.UnlockOSThread()
		c <- r
	}()
	r := <-c
	if r.panic != nil {
		panic(fmt.Sprintf("%v [in netns %s]\n%s", r.panic, n.Name, r.stack))
	}
	return r.err
}

// writeSysctl writes a sysctl of the calling thread's network namespace
// (/proc/sys/net follows the thread, so call it inside Do).
func writeSysctl(key, value string) error {
	if err := os.WriteFile(filepath.Join("/proc/sys", key), []byte(value), 0); err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", strings.ReplaceAll(key, "/", "."), value, err)
	}
	return nil
}

// Sysctl sets a sysctl inside the namespace; key is dotted or slashed
// ("net.ipv4.ip_forward").
func (n *NS) Sysctl(key, value string) error {
	return n.Do(func() error { return writeSysctl(strings.ReplaceAll(key, ".", "/"), value) })
}

// nextIfName names the next interface made in n: ztx-v0, ztx-v1, ...
func (n *NS) nextIfName() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	name := fmt.Sprintf("%sv%d", Prefix, n.nif)
	n.nif++
	return name
}

func (n *NS) setLinkUp(dev string, up bool) error {
	l, err := n.nl.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("netns %s: link %s: %w", n.Name, dev, err)
	}
	if up {
		err = n.nl.LinkSetUp(l)
	} else {
		err = n.nl.LinkSetDown(l)
	}
	if err != nil {
		return fmt.Errorf("netns %s: setting %s up=%v: %w", n.Name, dev, up, err)
	}
	return nil
}

// waitOperUp waits until dev is operationally up. Packets sent before then
// (the first neighbour solicitation, say) are dropped, which would cost the
// test a retransmission timeout.
func (n *NS) waitOperUp(dev string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := n.nl.LinkByName(dev)
		if err != nil {
			return fmt.Errorf("netns %s: link %s: %w", n.Name, dev, err)
		}
		if st := l.Attrs().OperState; st == netlink.OperUp || st == netlink.OperUnknown {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("netns %s: %s is still %v after 5s", n.Name, dev, l.Attrs().OperState)
		}
		time.Sleep(time.Millisecond)
	}
}

// AddAddr gives interface dev of n the address p (address and prefix
// length, as in 10.0.0.1/24).
func (n *NS) AddAddr(dev string, p netip.Prefix) error {
	if !p.IsValid() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
		return fmt.Errorf("netns %s: bad address %v for %s", n.Name, p, dev)
	}
	l, err := n.nl.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("netns %s: link %s: %w", n.Name, dev, err)
	}
	if err := n.nl.AddrAdd(l, nlAddr(p)); err != nil {
		return fmt.Errorf("netns %s: address %v on %s: %w", n.Name, p, dev, err)
	}
	n.mu.Lock()
	n.addrs[dev] = append(n.addrs[dev], p)
	n.mu.Unlock()
	return nil
}

func nlAddr(p netip.Prefix) *netlink.Addr {
	a := &netlink.Addr{IPNet: &net.IPNet{
		IP:   p.Addr().AsSlice(),
		Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen()),
	}}
	if p.Addr().Is6() {
		a.Flags = unix.IFA_F_NODAD
	}
	return a
}

// AddRoute routes dst via the gateway gw, out of the interface whose
// address's subnet holds gw. The route is remembered: Link.SetUp puts it back
// after the interface was down (the kernel drops routes through an interface
// that goes down). A zero-length dst is refused: test namespaces never get a
// default route.
func (n *NS) AddRoute(dst netip.Prefix, gw netip.Addr) error {
	if !dst.IsValid() || dst.Bits() == 0 {
		return fmt.Errorf("netns %s: refusing route to %v: no default routes in test namespaces", n.Name, dst)
	}
	if dst.Addr().Is4() != gw.Is4() {
		return fmt.Errorf("netns %s: route to %v via %v mixes address families", n.Name, dst, gw)
	}
	dev := n.devFor(gw)
	if dev == "" {
		return fmt.Errorf("netns %s: route to %v: gateway %v is on none of the namespace's subnets", n.Name, dst, gw)
	}
	r := route{dst: dst.Masked(), gw: gw, dev: dev}
	if err := n.installRoute(r); err != nil {
		return err
	}
	n.mu.Lock()
	n.routes = append(n.routes, r)
	n.mu.Unlock()
	return nil
}

func (n *NS) devFor(a netip.Addr) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	for dev, ps := range n.addrs {
		for _, p := range ps {
			if p.Masked().Contains(a) {
				return dev
			}
		}
	}
	return ""
}

func (n *NS) installRoute(r route) error {
	l, err := n.nl.LinkByName(r.dev)
	if err != nil {
		return fmt.Errorf("netns %s: link %s: %w", n.Name, r.dev, err)
	}
	err = n.nl.RouteReplace(&netlink.Route{
		LinkIndex: l.Attrs().Index,
		Dst:       &net.IPNet{IP: r.dst.Addr().AsSlice(), Mask: net.CIDRMask(r.dst.Bits(), r.dst.Addr().BitLen())},
		Gw:        r.gw.AsSlice(),
	})
	if err != nil {
		return fmt.Errorf("netns %s: route %v via %v dev %s: %w", n.Name, r.dst, r.gw, r.dev, err)
	}
	return nil
}

// restore puts back what the kernel removed when dev went down: its IPv6
// addresses (IPv4 ones stay), then the remembered routes through it.
// (keep_addr_on_down would keep the IPv6 addresses, but on some kernels their
// local routes then fail to come back with the interface.)
func (n *NS) restore(dev string) error {
	n.mu.Lock()
	rs := append([]route(nil), n.routes...)
	as := append([]netip.Prefix(nil), n.addrs[dev]...)
	n.mu.Unlock()
	var errs []error
	if l, err := n.nl.LinkByName(dev); err != nil {
		errs = append(errs, fmt.Errorf("netns %s: link %s: %w", n.Name, dev, err))
	} else {
		for _, p := range as {
			if p.Addr().Is6() {
				if err := n.nl.AddrReplace(l, nlAddr(p)); err != nil {
					errs = append(errs, fmt.Errorf("netns %s: address %v on %s: %w", n.Name, p, dev, err))
				}
			}
		}
	}
	for _, r := range rs {
		if r.dev == dev {
			errs = append(errs, n.installRoute(r))
		}
	}
	return errors.Join(errs...)
}

// byTest lists the namespaces each test made, for dumpOnFailure.
var byTest struct {
	sync.Mutex
	m map[testing.TB][]*NS
}

func register(tb testing.TB, n *NS) {
	byTest.Lock()
	defer byTest.Unlock()
	if byTest.m == nil {
		byTest.m = make(map[testing.TB][]*NS)
	}
	byTest.m[tb] = append(byTest.m[tb], n)
}

func unregister(tb testing.TB, n *NS) {
	byTest.Lock()
	defer byTest.Unlock()
	l := byTest.m[tb]
	for i, m := range l {
		if m == n {
			l = append(l[:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(byTest.m, tb)
	} else {
		byTest.m[tb] = l
	}
}

// dumpOnFailure logs, when tb has failed, the state of the namespaces that
// tb made and of nss, each once. Every cleanup that tears something down
// calls it first, so the log shows the topology as it was at the failure.
func dumpOnFailure(tb testing.TB, nss ...*NS) {
	if !tb.Failed() {
		return
	}
	byTest.Lock()
	all := append(append([]*NS(nil), byTest.m[tb]...), nss...)
	byTest.Unlock()
	for _, n := range all {
		if n.dumped.CompareAndSwap(false, true) {
			tb.Logf("netns: state of %s when the test failed:\n%s", n.Name, n.dump())
		}
	}
}

// dump describes the namespace's interfaces, routes and nftables ruleset, for
// the log of a failed test.
func (n *NS) dump() string {
	var b strings.Builder
	run := func(args ...string) {
		fmt.Fprintf(&b, "$ %s\n", strings.Join(args, " "))
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		b.Write(out)
		if err != nil {
			fmt.Fprintf(&b, "(%v)\n", err)
		}
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "(no ip command to show it)"
	}
	run("ip", "-n", n.Name, "-br", "addr")
	run("ip", "-n", n.Name, "route")
	run("ip", "-n", n.Name, "-6", "route")
	if _, err := exec.LookPath("nft"); err == nil {
		run("ip", "netns", "exec", n.Name, "nft", "list", "ruleset")
	}
	return b.String()
}

// Sweep removes the namespaces that test processes of this package left
// behind when they died without cleaning up: every /run/netns/ztx-<name>-<pid>-<n>
// whose <pid> no longer runs. Namespaces of live processes, and names of any
// other form (such as scripts/netns.sh's ztx-sh-*), are left alone. A stale
// namespace that processes still run in is not removed (they would keep it
// alive unseen); Sweep reports their pids instead of killing them.
func Sweep() error {
	ents, err := os.ReadDir(runDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("netns: sweep: %w", err)
	}
	var errs []error
	for _, e := range ents {
		pid, ok := creatorPID(e.Name())
		if !ok || pidAlive(pid) {
			continue
		}
		if pids := pidsIn(filepath.Join(runDir, e.Name())); len(pids) > 0 {
			errs = append(errs, fmt.Errorf("netns: stale namespace %s (its creator, pid %d, is gone) still has processes %v; not removed", e.Name(), pid, pids))
			continue
		}
		if err := deleteNamed(e.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("netns: removing stale namespace %s: %w", e.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// creatorPID parses the pid out of "ztx-<name>-<pid>-<n>".
func creatorPID(name string) (int, bool) {
	if !strings.HasPrefix(name, Prefix) {
		return 0, false
	}
	f := strings.Split(name[len(Prefix):], "-")
	if len(f) < 3 || f[0] == "" {
		return 0, false
	}
	pid, err := strconv.Atoi(f[len(f)-2])
	if err != nil || pid <= 0 {
		return 0, false
	}
	if _, err := strconv.ParseUint(f[len(f)-1], 10, 64); err != nil {
		return 0, false
	}
	return pid, true
}

func pidAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// pidsIn lists the processes whose network namespace is the one bind-mounted
// at path (as `ip netns pids` does).
func pidsIn(path string) []int {
	var want unix.Stat_t
	if err := unix.Stat(path, &want); err != nil {
		return nil
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/ns/net")
	var pids []int
	for _, p := range procs {
		var st unix.Stat_t
		if unix.Stat(p, &st) != nil || st.Dev != want.Dev || st.Ino != want.Ino {
			continue
		}
		if pid, err := strconv.Atoi(strings.Split(p, "/")[2]); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}
