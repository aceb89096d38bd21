package xdp

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"

	"github.com/ztx/ztx/crypto/identity"
)

// DefaultPinDir is where a daemon pins its instances' maps.
const DefaultPinDir = "/sys/fs/bpf/ztx"

// ProgramName is the kernel's name for the XDP program (bpf/xdp.c ztx_xdp),
// as bpftool and `ip link` show it.
const ProgramName = "ztx_xdp"

// ErrClosed is returned by the methods of an XDP after Close.
var ErrClosed = errors.New("xdp: closed")

// ErrInstanceRunning is returned by Load when the instance's pin directory
// belongs to a process that is still running.
var ErrInstanceRunning = errors.New("xdp: instance already running")

// Mode is how an XDP program is attached.
type Mode uint8

// Attach modes. The values of ModeDriver and ModeGeneric are bpf/ztx.h's
// ZTX_ATTACH_DRIVER and ZTX_ATTACH_GENERIC.
const (
	ModeAuto    Mode = iota // in Options: driver mode where the driver has it, else generic
	ModeDriver              // native XDP in the driver's receive path
	ModeGeneric             // generic (SKB) XDP, for any interface
	ModeNone                // XDP.Mode of a program loaded without an interface
)

func (m Mode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeDriver:
		return "driver"
	case ModeGeneric:
		return "generic"
	case ModeNone:
		return "none"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// Options configure Load.
type Options struct {
	// Interface is the physical interface to attach to, in the calling
	// thread's network namespace. Empty: the program is loaded but not
	// attached (tests, tools).
	Interface string
	// Mode is the attach mode; ModeAuto tries driver mode, then generic.
	Mode Mode
	// Netlink attaches through netlink instead of a BPF link, for kernels
	// before 5.9. Such an attachment outlives the process: Close or, after a
	// crash, Cleanup detaches it. A BPF link goes away with the process.
	Netlink bool

	// Ports are the node's UDP ports (SetPorts).
	Ports []uint16
	// Address is the node's ZeroTier address (SetAddress).
	Address identity.Address

	// PinDir is the bpffs directory under which the instance pins its maps,
	// normally DefaultPinDir. Empty: nothing is pinned.
	PinDir string
	// Instance names the instance's directory under PinDir; default Address
	// as 10 hex digits.
	Instance string

	// VerifierLog puts the whole verifier log into the error when the
	// kernel rejects the program (otherwise only its last lines).
	VerifierLog bool
}

// XDP is the loaded program and its maps, attached to one interface or
// none. Its methods are safe for concurrent use; all of them return
// ErrClosed after Close.
type XDP struct {
	mu      sync.Mutex
	objs    ztxObjects
	link    link.Link // BPF link attachment; nil if none or netlink
	ifindex int       // attached interface; 0 if none
	mode    Mode
	netlink bool
	progID  uint32
	dir     string // instance pin directory; "" if not pinned
	closed  bool
}

// Load loads the program and its maps, configures the node's address and
// ports, pins the maps (Options.PinDir) and attaches the program
// (Options.Interface). Everything it made is undone when it fails.
// A stale pin directory of the same instance (its owner is gone) is
// cleaned up first; one whose owner still runs is ErrInstanceRunning.
func Load(opts Options) (_ *XDP, err error) {
	if opts.Mode > ModeGeneric {
		return nil, fmt.Errorf("xdp: invalid mode %v", opts.Mode)
	}
	if err := rlimit.RemoveMemlock(); err != nil { // kernels before 5.11 charge maps to RLIMIT_MEMLOCK
		return nil, fmt.Errorf("xdp: %w", err)
	}
	x := &XDP{mode: ModeNone}
	if err := loadZtxObjects(&x.objs, nil); err != nil {
		var ve *ebpf.VerifierError
		if opts.VerifierLog && errors.As(err, &ve) {
			return nil, fmt.Errorf("xdp: load: %+v", ve)
		}
		return nil, fmt.Errorf("xdp: load: %w", err)
	}
	defer func() {
		if err != nil {
			x.Close()
		}
	}()
	if err := x.SetAddress(opts.Address); err != nil {
		return nil, err
	}
	if err := x.SetPorts(opts.Ports...); err != nil {
		return nil, err
	}
	info, err := x.objs.ZtxXdp.Info()
	if err != nil {
		return nil, fmt.Errorf("xdp: program info: %w", err)
	}
	if id, ok := info.ID(); ok {
		x.progID = uint32(id)
	}
	if opts.Interface != "" {
		ifi, err := net.InterfaceByName(opts.Interface)
		if err != nil {
			return nil, fmt.Errorf("xdp: %w", err)
		}
		x.ifindex = ifi.Index
		// Recorded before attaching, so that Cleanup knows to look for a
		// netlink attachment even if this process dies while attaching.
		x.netlink = opts.Netlink
	}
	if opts.PinDir != "" {
		instance := opts.Instance
		if instance == "" {
			instance = opts.Address.String()
		}
		if err := x.pin(opts.PinDir, instance); err != nil {
			return nil, err
		}
	}
	if x.ifindex != 0 {
		if err := x.attach(opts.Mode, opts.Netlink); err != nil {
			return nil, fmt.Errorf("xdp: attach to %s: %w", opts.Interface, err)
		}
		if err := x.writeInfo(); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// attach attaches the program to x.ifindex in the given mode (ModeAuto:
// driver, then generic) and records the mode that worked.
func (x *XDP) attach(mode Mode, useNetlink bool) error {
	modes := []Mode{mode}
	if mode == ModeAuto {
		modes = []Mode{ModeDriver, ModeGeneric}
	}
	var errs []error
	for _, m := range modes {
		var err error
		if useNetlink {
			err = netlinkAttach(x.ifindex, x.objs.ZtxXdp.FD(), m)
		} else {
			flags := link.XDPDriverMode
			if m == ModeGeneric {
				flags = link.XDPGenericMode
			}
			x.link, err = link.AttachXDP(link.XDPOptions{Program: x.objs.ZtxXdp, Interface: x.ifindex, Flags: flags})
		}
		if err == nil {
			x.mode = m
			return nil
		}
		errs = append(errs, fmt.Errorf("%v mode: %w", m, err))
	}
	return errors.Join(errs...)
}

// netlinkAttach attaches (fd >= 0) or detaches (fd = -1) an XDP program
// through netlink, never replacing another program.
func netlinkAttach(ifindex, fd int, m Mode) error {
	flags := nl.XDP_FLAGS_DRV_MODE
	if m == ModeGeneric {
		flags = nl.XDP_FLAGS_SKB_MODE
	}
	if fd >= 0 {
		flags |= nl.XDP_FLAGS_UPDATE_IF_NOEXIST
	}
	l, err := netlink.LinkByIndex(ifindex)
	if err != nil {
		return err
	}
	return netlink.LinkSetXdpFdWithFlags(l, fd, flags)
}

// Mode is the mode the program is attached in, or ModeNone.
func (x *XDP) Mode() Mode { return x.mode }

// Ifindex is the interface the program is attached to, or 0.
func (x *XDP) Ifindex() int { return x.ifindex }

// PinDir is the instance's pin directory, or "" if nothing is pinned.
func (x *XDP) PinDir() string { return x.dir }

// Close detaches the program, removes the pins and releases the maps.
// It is idempotent.
func (x *XDP) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil
	}
	x.closed = true
	var errs []error
	if x.link != nil {
		errs = append(errs, x.link.Close())
	} else if x.netlink {
		errs = append(errs, detachIfOurs(x.ifindex, x.progID))
	}
	if x.dir != "" {
		errs = append(errs, removePins(x.dir))
	}
	errs = append(errs, x.objs.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("xdp: close: %w", err)
	}
	return nil
}

// detachIfOurs detaches the XDP program of interface ifindex (current
// network namespace) if it is program progID, in the mode it is attached in.
func detachIfOurs(ifindex int, progID uint32) error {
	l, err := netlink.LinkByIndex(ifindex)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil // the interface is gone, and the program with it
		}
		return err
	}
	a := l.Attrs().Xdp
	if a == nil || !a.Attached || a.ProgId != progID {
		return nil
	}
	// IFLA_XDP_ATTACHED: 1 driver, 2 generic (SKB), as Mode numbers them.
	if m := Mode(a.AttachMode); m == ModeDriver || m == ModeGeneric {
		return netlinkAttach(ifindex, -1, m)
	}
	return fmt.Errorf("program %d is attached in mode %d", progID, a.AttachMode)
}

// pin pins every map under root/instance, the info map first (Cleanup
// takes a directory without one for stale).
func (x *XDP) pin(root, instance string) error {
	if instance == "" || instance == "." || instance == ".." || filepath.Base(instance) != instance {
		return fmt.Errorf("xdp: invalid instance name %q", instance)
	}
	if err := checkBPFFS(root); err != nil {
		return err
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("xdp: %w", err)
	}
	dir := filepath.Join(root, instance)
	if st := readInstance(dir); !errors.Is(st.Err, os.ErrNotExist) {
		if st.Live {
			return fmt.Errorf("%w: %s (pid %d)", ErrInstanceRunning, dir, st.PID)
		}
		if err := cleanInstance(st); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("xdp: %w", err)
	}
	x.dir = dir
	if err := x.writeInfo(); err != nil {
		return err
	}
	for _, m := range x.pinned() {
		if err := m.m.Pin(filepath.Join(dir, m.name)); err != nil {
			return fmt.Errorf("xdp: pin %s: %w", m.name, err)
		}
	}
	return nil
}

type namedMap struct {
	name string
	m    *ebpf.Map
}

// pinned lists the maps in pinning order: info first.
func (x *XDP) pinned() []namedMap {
	return []namedMap{
		{ztxMapInfo, x.objs.Info},
		{ztxMapConfig, x.objs.Config},
		{ztxMapPorts, x.objs.Ports},
		{ztxMapTrusted, x.objs.Trusted},
		{ztxMapNetworks, x.objs.Networks},
		{ztxMapRelays, x.objs.Relays},
		{ztxMapPairs, x.objs.Pairs},
		{ztxMapCounters, x.objs.Counters},
	}
}
