package tap

import (
	"encoding/base32"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Route is a route through the tap: to Target, via the gateway Via (the
// zero Addr for an on-link route), with the given Metric (priority).
type Route struct {
	Target netip.Prefix
	Via    netip.Addr
	Metric int
}

// Config describes a tap device for Open.
type Config struct {
	// Name is the interface name; empty means the reference's name for
	// NetworkID (DeviceMap entry, else DefaultName).
	Name string
	// DeviceMap maps network IDs to interface names, as read from the
	// reference's home-directory "devicemap" file (internal/home's
	// DeviceMap).
	DeviceMap map[uint64]string
	NetworkID uint64
	MAC       [6]byte
	// MTU of the interface; 0 leaves the kernel's default (1500).
	MTU       int
	Addresses []netip.Prefix
	Routes    []Route
	// Offload opens the tap with a virtio_net_hdr (IFF_VNET_HDR) and turns
	// on TCP segmentation and checksum offload, and UDP segmentation
	// offload where the kernel has it (Device.Offloads). Read and Write
	// keep their contract: Read cuts the kernel's superpackets into frames
	// no larger than the MTU and completes partial checksums; Write
	// coalesces runs of TCP segments into superpackets.
	Offload bool
}

// DefaultMTU is ZeroTier One's default virtual network MTU.
const DefaultMTU = 2800

const (
	batchSize        = 64
	offloadBatchSize = 128
)

var base32Lower = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// DefaultName is the reference's interface name for network nwid at the
// given collision trial (0 first): "zt" and eight base32 characters.
func DefaultName(nwid, trial uint64) string {
	v := (nwid ^ nwid>>24) + trial
	b := [5]byte{byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	return "zt" + base32Lower.EncodeToString(b[:])
}

func ifaceExists(name string) bool {
	_, err := os.Stat("/proc/sys/net/ipv4/conf/" + name)
	return err == nil
}

// Name is the name Open gives network nwid in the calling thread's network
// namespace when Config.Name is empty.
func Name(nwid uint64, devmap map[uint64]string) string {
	if n, ok := devmap[nwid]; ok && n != "" && len(n) < unix.IFNAMSIZ && !ifaceExists(n) {
		return n
	}
	for trial := uint64(0); ; trial++ {
		if n := DefaultName(nwid, trial); !ifaceExists(n) {
			return n
		}
	}
}

// Device is an open TAP interface.
type Device struct {
	name  string
	index int
	file  *os.File
	rc    interface {
		Read(func(fd uintptr) bool) error
		Write(func(fd uintptr) bool) error
	}
	nl *netlink.Handle

	shut atomic.Bool // set at Close, for Read and Write

	// With Config.Offload: reads and writes carry a virtio_net_hdr.
	offloads Offloads
	mtu      atomic.Int64 // the MTU Read cuts TCP superpackets to
	stats    stats
	rmu      sync.Mutex // Read's state:
	rbuf     []byte     // what one read(2) returns
	split    splitter
	wmu      sync.Mutex // Write's state:
	co       coalescer
	hdr      []byte // a superpacket's headers
	iov      []unix.Iovec

	mu     sync.Mutex
	closed bool
	addrs  []netip.Prefix
	routes []Route
}

// Open creates and configures a tap device in the calling thread's network
// namespace. On error nothing is left behind.
func Open(cfg Config) (d *Device, err error) {
	name := cfg.Name
	if name == "" {
		name = Name(cfg.NetworkID, cfg.DeviceMap)
	}
	if len(name) >= unix.IFNAMSIZ {
		return nil, fmt.Errorf("tap: interface name %q too long", name)
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("tap: open /dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("tap: %w", err)
	}
	flags := uint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if cfg.Offload {
		flags |= unix.IFF_VNET_HDR
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("tap: TUNSETIFF %s: %w", name, err)
	}
	name = ifr.Name()
	var offloads Offloads
	if cfg.Offload {
		if offloads, err = setOffload(fd); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("tap: %s: %w", name, err)
		}
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("tap: %s: set non-blocking: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), "/dev/net/tun:"+name)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("tap: %s: %w", name, err)
	}
	nl, err := netlink.NewHandle()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("tap: %s: netlink: %w", name, err)
	}
	d = &Device{name: name, file: f, rc: rc, nl: nl, offloads: offloads}
	if cfg.Offload {
		d.rbuf = make([]byte, readBufSize)
	}
	defer func() {
		if err != nil {
			d.Close()
			d = nil
		}
	}()
	link, err := nl.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("tap: %s: %w", name, err)
	}
	d.index = link.Attrs().Index
	d.mtu.Store(int64(link.Attrs().MTU))
	if cfg.MAC != ([6]byte{}) {
		if err := nl.LinkSetHardwareAddr(link, net.HardwareAddr(cfg.MAC[:])); err != nil {
			return nil, fmt.Errorf("tap: %s: set MAC: %w", name, err)
		}
	}
	if cfg.MTU != 0 {
		if err := nl.LinkSetMTU(link, cfg.MTU); err != nil {
			return nil, fmt.Errorf("tap: %s: set MTU %d: %w", name, cfg.MTU, err)
		}
		d.mtu.Store(int64(cfg.MTU))
	}
	if err := nl.LinkSetUp(link); err != nil {
		return nil, fmt.Errorf("tap: %s: set up: %w", name, err)
	}
	if err := d.SetAddresses(cfg.Addresses); err != nil {
		return nil, err
	}
	if err := d.SetRoutes(cfg.Routes); err != nil {
		return nil, err
	}
	return d, nil
}

// Name is the interface's name.
func (d *Device) Name() string { return d.name }

// Index is the interface's index.
func (d *Device) Index() int { return d.index }

// BatchSize is the most frames one Read returns: 128 with offload (a
// superpacket alone can make 45 frames at MTU 1500), 64 without.
func (d *Device) BatchSize() int {
	if d.offloads != 0 {
		return offloadBatchSize
	}
	return batchSize
}

func (d *Device) link() netlink.Link {
	return &netlink.Tuntap{LinkAttrs: netlink.LinkAttrs{Index: d.index, Name: d.name}, Mode: netlink.TUNTAP_MODE_TAP}
}

// SetMTU changes the interface's MTU.
func (d *Device) SetMTU(mtu int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return net.ErrClosed
	}
	if err := d.nl.LinkSetMTU(d.link(), mtu); err != nil {
		return fmt.Errorf("tap: %s: set MTU %d: %w", d.name, mtu, err)
	}
	d.mtu.Store(int64(mtu))
	return nil
}

func nlAddr(p netip.Prefix) *netlink.Addr {
	a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
	if p.Addr().Is6() {
		a.Flags = unix.IFA_F_NODAD
	}
	return a
}

// SetAddresses makes the interface's addresses (of those this Device
// manages) exactly addrs: new ones are added, gone ones removed.
func (d *Device) SetAddresses(addrs []netip.Prefix) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return net.ErrClosed
	}
	want := make(map[netip.Prefix]bool, len(addrs))
	for _, p := range addrs {
		want[netip.PrefixFrom(p.Addr().Unmap(), p.Bits())] = true
	}
	have := make(map[netip.Prefix]bool, len(d.addrs))
	var errs []error
	var kept []netip.Prefix
	for _, p := range d.addrs {
		have[p] = true
		if want[p] {
			kept = append(kept, p)
			continue
		}
		if err := d.nl.AddrDel(d.link(), nlAddr(p)); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			errs = append(errs, fmt.Errorf("tap: %s: remove address %v: %w", d.name, p, err))
			kept = append(kept, p)
		}
	}
	for p := range want {
		if have[p] {
			continue
		}
		if err := d.nl.AddrReplace(d.link(), nlAddr(p)); err != nil {
			errs = append(errs, fmt.Errorf("tap: %s: add address %v: %w", d.name, p, err))
			continue
		}
		kept = append(kept, p)
	}
	d.addrs = kept
	return errors.Join(errs...)
}

func (d *Device) nlRoute(r Route) *netlink.Route {
	t := r.Target.Masked()
	nr := &netlink.Route{
		LinkIndex: d.index,
		Dst:       &net.IPNet{IP: t.Addr().AsSlice(), Mask: net.CIDRMask(t.Bits(), t.Addr().BitLen())},
		Priority:  r.Metric,
	}
	if r.Via.IsValid() {
		nr.Gw = r.Via.AsSlice()
	} else {
		nr.Scope = netlink.SCOPE_LINK
	}
	return nr
}

func normRoute(r Route) Route {
	r.Target = r.Target.Masked()
	r.Via = r.Via.Unmap()
	return r
}

// SetRoutes makes the routes through the interface (of those this Device
// manages) exactly routes: new ones are added, gone ones removed.
func (d *Device) SetRoutes(routes []Route) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return net.ErrClosed
	}
	want := make(map[Route]bool, len(routes))
	for _, r := range routes {
		want[normRoute(r)] = true
	}
	have := make(map[Route]bool, len(d.routes))
	var errs []error
	var kept []Route
	for _, r := range d.routes {
		have[r] = true
		if want[r] {
			kept = append(kept, r)
			continue
		}
		if err := d.nl.RouteDel(d.nlRoute(r)); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("tap: %s: remove route %v: %w", d.name, r, err))
			kept = append(kept, r)
		}
	}
	for r := range want {
		if have[r] {
			continue
		}
		if err := d.nl.RouteReplace(d.nlRoute(r)); err != nil {
			errs = append(errs, fmt.Errorf("tap: %s: add route %v via %v: %w", d.name, r.Target, r.Via, err))
			continue
		}
		kept = append(kept, r)
	}
	d.routes = kept
	return errors.Join(errs...)
}

func (d *Device) mapClosed(err error) error {
	if errors.Is(err, os.ErrClosed) || d.shut.Load() {
		return net.ErrClosed
	}
	return err
}

// Read reads up to len(bufs) frames (BatchSize is a good size), frame i into
// bufs[i][offset:] with its length in sizes[i]. It blocks until at least one
// frame is there and returns how many it read. With offload, superpackets
// come out as segments: TCP ones no larger than the MTU (plus the Ethernet
// header and any VLAN tags) whatever the kernel's gso_size, UDP ones of
// gso_size, which the kernel keeps within the MTU. Frames that are
// malformed or do not fit in their buffer are dropped (Stats.Dropped).
func (d *Device) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	if d.offloads != 0 {
		return d.readOffload(bufs, sizes, offset)
	}
	n := 0
	var rerr error
	err := d.rc.Read(func(fd uintptr) bool {
		for n < len(bufs) && n < len(sizes) {
			m, err := unix.Read(int(fd), bufs[n][offset:])
			if err == unix.EINTR {
				continue
			}
			if err == unix.EAGAIN {
				return n > 0
			}
			if err != nil {
				rerr = err
				return true
			}
			sizes[n] = m
			n++
		}
		return true
	})
	if n > 0 {
		return n, nil
	}
	if err != nil {
		return 0, d.mapClosed(err)
	}
	if rerr != nil {
		return 0, d.mapClosed(&os.PathError{Op: "read", Path: d.name, Err: rerr})
	}
	return 0, nil
}

// Write writes the frames bufs[i][offset:] and returns how many it wrote.
// With offload, runs of TCP segments of a flow are written as one
// superpacket, in the place of the run's first frame: frames of a flow stay
// in order, frames of different flows may not; after an error, the count
// is of frames written, not necessarily the first ones. bufs are not
// modified.
func (d *Device) Write(bufs [][]byte, offset int) (int, error) {
	if d.offloads != 0 {
		return d.writeOffload(bufs, offset)
	}
	n := 0
	var werr error
	err := d.rc.Write(func(fd uintptr) bool {
		for n < len(bufs) {
			_, err := unix.Write(int(fd), bufs[n][offset:])
			if err == unix.EINTR {
				continue
			}
			if err == unix.EAGAIN {
				return false
			}
			if err != nil {
				werr = err
				return true
			}
			n++
		}
		return true
	})
	if err != nil {
		return n, d.mapClosed(err)
	}
	if werr != nil {
		return n, d.mapClosed(&os.PathError{Op: "write", Path: d.name, Err: werr})
	}
	return n, nil
}

// Close removes the interface, and with it its addresses and routes, and
// unblocks pending Reads and Writes, which return net.ErrClosed.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return net.ErrClosed
	}
	d.closed = true
	d.shut.Store(true)
	var errs []error
	// Closing the file first wakes pending Reads and Writes with
	// net.ErrClosed; it also destroys the (non-persistent) tap, so the
	// delete below normally finds nothing left.
	if err := d.file.Close(); err != nil {
		errs = append(errs, fmt.Errorf("tap: %s: %w", d.name, err))
	}
	if d.index != 0 {
		if err := d.nl.LinkDel(d.link()); err != nil && !errors.Is(err, unix.ENODEV) {
			var nf netlink.LinkNotFoundError
			if !errors.As(err, &nf) {
				errs = append(errs, fmt.Errorf("tap: %s: delete: %w", d.name, err))
			}
		}
	}
	d.nl.Close()
	d.addrs, d.routes = nil, nil
	return errors.Join(errs...)
}
