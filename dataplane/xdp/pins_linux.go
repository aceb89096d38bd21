package xdp

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Instance is what an instance's pin directory says about its owner.
type Instance struct {
	Name    string // directory name under the pin root
	Dir     string
	PID     int    // owning process; 0 if the directory has no info map
	Ifindex int    // interface the program was attached to, 0 if none
	Mode    Mode   // how it was attached
	Netlink bool   // attached through netlink (outlives the owner)
	ProgID  uint32 // the program's kernel ID
	Live    bool   // the owning process still runs
	// Err says why the info map could not be read; such an instance
	// counts as stale (made by a crashed Load, or by another version).
	Err   error
	netns uint64
}

// Instances lists the instance directories under a pin root.
func Instances(root string) ([]Instance, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("xdp: %w", err)
	}
	var out []Instance
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, readInstance(filepath.Join(root, e.Name())))
		}
	}
	return out, nil
}

// Cleanup removes what crashed instances left under a pin root: the pins
// of every instance whose owner is gone and, for one that was attached
// through netlink in the calling thread's network namespace, its program
// (matched by ID and name). Live instances are left alone. It returns the
// names of the instances it removed.
func Cleanup(root string) ([]string, error) {
	insts, err := Instances(root)
	var removed []string
	errs := []error{err}
	for _, st := range insts {
		if errors.Is(st.Err, os.ErrNotExist) {
			continue // went away meanwhile
		}
		if st.Live {
			continue
		}
		if err := cleanInstance(st); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, st.Name)
	}
	return removed, errors.Join(errs...)
}

// cleanInstance detaches a stale instance's netlink-attached program (when
// it is in this network namespace) and removes its pins.
func cleanInstance(st Instance) error {
	var errs []error
	if st.Netlink && st.Ifindex != 0 && st.ProgID != 0 {
		if ns, err := netnsInode(); err != nil || ns != st.netns {
			errs = append(errs, fmt.Errorf("xdp: %s: program %d on ifindex %d is in another network namespace; not detached", st.Dir, st.ProgID, st.Ifindex))
		} else if err := detachStale(st); err != nil {
			errs = append(errs, fmt.Errorf("xdp: %s: detach: %w", st.Dir, err))
		}
	}
	errs = append(errs, removePins(st.Dir))
	return errors.Join(errs...)
}

// detachStale detaches a program left attached through netlink, if the
// interface still carries it.
func detachStale(st Instance) error {
	p, err := ebpf.NewProgramFromID(ebpf.ProgramID(st.ProgID))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil // already gone
		}
		return err
	}
	defer p.Close()
	info, err := p.Info()
	if err != nil {
		return err
	}
	if info.Name != ProgramName {
		return nil // the ID was reused by someone else's program
	}
	return detachIfOurs(st.Ifindex, st.ProgID)
}

// removePins removes an instance directory and the pins in it. Unpinning
// a map releases it once no program or process holds it.
func removePins(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("xdp: %w", err)
	}
	var errs []error
	for _, e := range ents {
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// readInstance reads an instance directory's info map.
func readInstance(dir string) Instance {
	st := Instance{Name: filepath.Base(dir), Dir: dir}
	if _, err := os.Stat(dir); err != nil {
		st.Err = err
		return st
	}
	m, err := ebpf.LoadPinnedMap(filepath.Join(dir, ztxMapInfo), &ebpf.LoadPinOptions{ReadOnly: true})
	if err != nil {
		st.Err = fmt.Errorf("xdp: %s: %w", dir, err)
		if errors.Is(err, os.ErrNotExist) {
			st.Err = fmt.Errorf("xdp: %s: no info map", dir) // not os.ErrNotExist: the directory is there
		}
		return st
	}
	defer m.Close()
	var v ztxInstanceInfo
	if err := m.Lookup(uint32(0), &v); err != nil {
		st.Err = fmt.Errorf("xdp: %s: info: %w", dir, err)
		return st
	}
	st.PID, st.Ifindex, st.ProgID = int(v.Pid), int(v.Ifindex), v.ProgId
	st.Mode, st.Netlink, st.netns = ModeNone, v.Netlink != 0, v.Netns
	if v.Attach == uint32(ModeDriver) || v.Attach == uint32(ModeGeneric) {
		st.Mode = Mode(v.Attach)
	}
	if st.PID > 0 {
		start, err := procStartTime(st.PID)
		st.Live = err == nil && start == v.StartTime
	}
	return st
}

// writeInfo records the owner and the attachment in the info map.
func (x *XDP) writeInfo() error {
	pid := os.Getpid()
	start, err := procStartTime(pid)
	if err != nil {
		return fmt.Errorf("xdp: %w", err)
	}
	ns, err := netnsInode()
	if err != nil {
		return fmt.Errorf("xdp: %w", err)
	}
	v := ztxInstanceInfo{
		Pid:       uint32(pid),
		Ifindex:   uint32(x.ifindex),
		StartTime: start,
		Netns:     ns,
		ProgId:    x.progID,
	}
	if x.mode == ModeDriver || x.mode == ModeGeneric {
		v.Attach = uint32(x.mode)
	}
	if x.netlink {
		v.Netlink = 1
	}
	if err := x.objs.Info.Put(uint32(0), &v); err != nil {
		return fmt.Errorf("xdp: info: %w", err)
	}
	return nil
}

// procStartTime is field 22 of /proc/<pid>/stat: the process's start time
// in clock ticks since boot, which tells a process from a later one that
// got its PID.
func procStartTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold anything.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	const field = 22 - 3 // fields after the command name start at 3
	if len(f) <= field {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	return strconv.ParseUint(f[field], 10, 64)
}

// netnsInode identifies the calling thread's network namespace.
func netnsInode() (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// checkBPFFS reports an error unless dir, or the nearest of its parents
// that exists, is on a BPF file system.
func checkBPFFS(dir string) error {
	var st unix.Statfs_t
	for p := dir; ; p = filepath.Dir(p) {
		err := unix.Statfs(p, &st)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.ENOENT) || p == filepath.Dir(p) {
			return fmt.Errorf("xdp: statfs %s: %w", p, err)
		}
	}
	if st.Type != unix.BPF_FS_MAGIC {
		return fmt.Errorf("xdp: %s is not on a BPF file system (mount -t bpf bpf %s, or MountBPFFS)", dir, dir)
	}
	return nil
}

// MountBPFFS mounts a BPF file system on dir (made if missing) unless dir
// already is on one. Daemons call it for DefaultPinDir's parent,
// /sys/fs/bpf, where systemd has not mounted it; tests for a private one.
func MountBPFFS(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("xdp: %w", err)
	}
	if checkBPFFS(dir) == nil {
		return nil
	}
	if err := unix.Mount("bpf", dir, "bpf", 0, "mode=0700"); err != nil {
		return fmt.Errorf("xdp: mount bpffs on %s: %w", dir, err)
	}
	return nil
}
