package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/ztx/ztx/dataplane/xdp"
)

// ztctl bpf: what the XDP fast path's pinned maps hold (dataplane/xdp pins
// them under /sys/fs/bpf/ztx/<instance>/), read-only, in ZeroTier terms.

// bpfEnv is what the bpf commands take from the outside world; tests
// replace it.
type bpfEnv struct {
	now       func() time.Time     // for rates
	monotonic func() time.Duration // CLOCK_MONOTONIC: the clock of a pair's last-relayed time
	sleep     func(context.Context, time.Duration) error
}

func defaultBPFEnv() bpfEnv {
	return bpfEnv{
		now: time.Now,
		monotonic: func() time.Duration {
			var ts unix.Timespec
			if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
				return 0
			}
			return time.Duration(ts.Nano())
		},
		sleep: func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	}
}

func bpfCommand() *cli.Command { return newBPFCommand(defaultBPFEnv()) }

func newBPFCommand(env bpfEnv) *cli.Command {
	pinRoot := &cli.StringFlag{Name: "pin-root", Value: xdp.DefaultPinDir, Usage: "bpffs directory the daemons pin their instances under"}
	jsonFlag := &cli.BoolFlag{Name: "json", Aliases: []string{"j"}, Usage: "JSON output"}
	instance := &cli.StringFlag{Name: "instance", Usage: "the instance (its node address), if there are several", DefaultText: "the only one, else the only live one"}
	// action applies flags written after the arguments and runs body.
	action := func(body func(*cli.Context, bpfEnv, []string) error) cli.ActionFunc {
		return func(c *cli.Context) error {
			args, err := interspersed(c)
			if err != nil {
				return err
			}
			return body(c, env, args)
		}
	}
	return &cli.Command{
		Name:  "bpf",
		Usage: "inspect the XDP fast path: instances, maps, entries and counters (reads pinned maps; needs root)",
		Subcommands: []*cli.Command{
			{
				Name:   "status",
				Usage:  "list the instances pinned under the pin root: owner, address, interface, attachment, program, maps",
				Flags:  []cli.Flag{pinRoot, jsonFlag},
				Action: action(bpfStatus),
			},
			{
				Name:   "maps",
				Usage:  "list an instance's maps: type, key and value sizes, max entries, entries",
				Flags:  []cli.Flag{pinRoot, instance, jsonFlag},
				Action: action(bpfMaps),
			},
			{
				Name:      "dump",
				Usage:     "print a map's entries in ZeroTier terms",
				ArgsUsage: "MAP (" + strings.Join(xdp.MapNames(), ", ") + ")",
				Flags:     []cli.Flag{pinRoot, instance, jsonFlag},
				Action:    action(bpfDump),
			},
			{
				Name:  "stats",
				Usage: "print the program's counters (what happened to each frame), summed over CPUs",
				Flags: []cli.Flag{pinRoot, instance, jsonFlag,
					&cli.Float64Flag{Name: "interval", Aliases: []string{"i"}, Usage: "read twice, SECONDS apart, and print rates too"},
				},
				Action: action(bpfStats),
			},
		},
	}
}

// bpfFail ends a bpf command with a message saying what to do about err.
func bpfFail(cmd string, err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, os.ErrPermission):
		msg += " (reading pinned BPF maps needs root: try again with sudo)"
	case errors.Is(err, ebpf.ErrMapIncompatible):
		msg += " (pinned by another version of ztx)"
	}
	return &exitError{code: 1, msg: "ztctl bpf " + cmd + ": " + msg}
}

// bpfUsage ends a bpf command with a usage error.
func bpfUsage(cmd, format string, args ...any) error {
	return &exitError{code: 2, msg: "ztctl bpf " + cmd + ": " + fmt.Sprintf(format, args...)}
}

// checkPinRoot says why root cannot hold instances: no BPF file system
// mounted there, or no permission to look.
func checkPinRoot(root string) error {
	var st unix.Statfs_t
	p := root
	for {
		err := unix.Statfs(p, &st)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.ENOENT) || p == filepath.Dir(p) {
			return &os.PathError{Op: "statfs", Path: p, Err: err}
		}
		p = filepath.Dir(p)
	}
	if st.Type != unix.BPF_FS_MAGIC {
		if p != root {
			return fmt.Errorf("no BPF file system mounted at %s, so no instance (ztnode mounts one when it loads its XDP program)", filepath.Dir(root))
		}
		return fmt.Errorf("%s is not on a BPF file system, so it holds no instance", root)
	}
	if p != root {
		return fmt.Errorf("no ztx XDP instance: %s does not exist (is ztnode running with its XDP fast path?)", root)
	}
	return nil
}

// instances lists the instances under root, failing when there is none.
func instances(root string) ([]xdp.Instance, error) {
	if err := checkPinRoot(root); err != nil {
		return nil, err
	}
	insts, err := xdp.Instances(root)
	if err != nil {
		return nil, err
	}
	if len(insts) == 0 {
		return nil, fmt.Errorf("no ztx XDP instance under %s (is ztnode running with its XDP fast path?)", root)
	}
	return insts, nil
}

// pickInstance finds the instance a command is about: the one named, else
// the only one, else the only live one.
func pickInstance(cmd, root, name string) (xdp.Instance, error) {
	if name != "" && (name != filepath.Base(name) || name == "." || name == "..") {
		return xdp.Instance{}, bpfUsage(cmd, "invalid instance name %q", name)
	}
	insts, err := instances(root)
	if err != nil {
		return xdp.Instance{}, bpfFail(cmd, err)
	}
	var names []string
	var live []xdp.Instance
	for _, st := range insts {
		if st.Name == name {
			return st, nil
		}
		state := "gone"
		if st.Live {
			state = "running"
			live = append(live, st)
		}
		names = append(names, fmt.Sprintf("%s (pid %d, %s)", st.Name, st.PID, state))
	}
	switch {
	case name != "":
		return xdp.Instance{}, bpfFail(cmd, fmt.Errorf("no instance %s under %s; there are: %s", name, root, strings.Join(names, ", ")))
	case len(insts) == 1:
		return insts[0], nil
	case len(live) == 1:
		return live[0], nil
	}
	return xdp.Instance{}, bpfUsage(cmd, "%d instances under %s: %s; choose one with --instance", len(insts), root, strings.Join(names, ", "))
}

// openInstance picks an instance and opens its maps.
func openInstance(c *cli.Context, cmd string) (xdp.Instance, *xdp.Pinned, error) {
	st, err := pickInstance(cmd, c.String("pin-root"), c.String("instance"))
	if err != nil {
		return st, nil, err
	}
	p, err := xdp.OpenPinned(st.Dir)
	if err != nil {
		return st, nil, bpfFail(cmd, err)
	}
	return st, p, nil
}

// ifResolver names the interfaces of an instance's network namespace, when
// it is the one ztctl runs in.
type ifResolver struct{ other bool }

func newIfResolver(st xdp.Instance) ifResolver {
	var s unix.Stat_t
	if st.Netns() == 0 || unix.Stat("/proc/thread-self/ns/net", &s) != nil {
		return ifResolver{}
	}
	return ifResolver{other: s.Ino != st.Netns()}
}

// name is the interface's name, or "" when unknown.
func (r ifResolver) name(ifindex int) string {
	if r.other || ifindex <= 0 {
		return ""
	}
	ifi, err := net.InterfaceByIndex(ifindex)
	if err != nil {
		return ""
	}
	return ifi.Name
}

// label is "eth0 (ifindex 2)", or says why there is no name.
func (r ifResolver) label(ifindex int) string {
	switch name := r.name(ifindex); {
	case ifindex <= 0:
		return "none"
	case name != "":
		return fmt.Sprintf("%s (ifindex %d)", name, ifindex)
	case r.other:
		return fmt.Sprintf("ifindex %d (in the owner's network namespace)", ifindex)
	default:
		return fmt.Sprintf("ifindex %d (no such interface)", ifindex)
	}
}

// instanceView is what status shows of an instance.
type instanceView struct {
	Instance  string `json:"instance"`
	Dir       string `json:"dir"`
	PID       int    `json:"pid"`
	Process   string `json:"process,omitempty"` // the owner's command name, while it runs
	Alive     bool   `json:"alive"`
	Address   string `json:"address,omitempty"`
	Ifindex   int    `json:"ifindex"`
	Interface string `json:"interface,omitempty"`
	Mode      string `json:"mode"`             // driver, generic or none
	Method    string `json:"method,omitempty"` // link or netlink, when attached
	ProgramID uint32 `json:"programId"`
	// ProgramLoaded says whether the kernel still has the program (absent:
	// could not tell).
	ProgramLoaded *bool    `json:"programLoaded,omitempty"`
	Maps          []string `json:"maps"`
	MissingMaps   []string `json:"missingMaps,omitempty"`
	Error         string   `json:"error,omitempty"`

	ifLabel string
}

func viewInstance(st xdp.Instance) instanceView {
	v := instanceView{
		Instance: st.Name, Dir: st.Dir, PID: st.PID, Alive: st.Live,
		Ifindex: st.Ifindex, Mode: st.Mode.String(), ProgramID: st.ProgID,
		Maps: []string{},
	}
	if st.Err != nil {
		v.Error = st.Err.Error()
	}
	if st.Live {
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(st.PID) + "/comm"); err == nil {
			v.Process = strings.TrimSpace(string(b))
		}
	}
	if st.Ifindex != 0 {
		v.Method = "link"
		if st.Netlink {
			v.Method = "netlink"
		}
	}
	r := newIfResolver(st)
	v.Interface, v.ifLabel = r.name(st.Ifindex), r.label(st.Ifindex)
	if st.ProgID != 0 {
		prog, err := ebpf.NewProgramFromID(ebpf.ProgramID(st.ProgID))
		if err == nil {
			info, ierr := prog.Info()
			loaded := ierr == nil && info.Name == xdp.ProgramName // else: the ID went to another program
			v.ProgramLoaded = &loaded
			prog.Close()
		} else if errors.Is(err, os.ErrNotExist) {
			loaded := false
			v.ProgramLoaded = &loaded
		}
	}
	for _, name := range xdp.MapNames() {
		if _, err := os.Stat(filepath.Join(st.Dir, name)); err == nil {
			v.Maps = append(v.Maps, name)
		} else {
			v.MissingMaps = append(v.MissingMaps, name)
		}
	}
	if p, err := xdp.OpenPinned(st.Dir); err == nil {
		if a, err := p.Address(); err == nil {
			v.Address = a.String()
		}
		p.Close()
	}
	return v
}

func bpfStatus(c *cli.Context, _ bpfEnv, args []string) error {
	if len(args) != 0 {
		return bpfUsage("status", "no arguments expected")
	}
	insts, err := instances(c.String("pin-root"))
	if err != nil {
		return bpfFail("status", err)
	}
	views := make([]instanceView, len(insts))
	for i, st := range insts {
		views[i] = viewInstance(st)
	}
	if c.Bool("json") {
		return printJSON(c, views)
	}
	for i, v := range views {
		if i > 0 {
			fmt.Fprintln(c.App.Writer)
		}
		writeInstance(c.App.Writer, v)
	}
	return nil
}

func writeInstance(w io.Writer, v instanceView) {
	fmt.Fprintf(w, "instance %s (%s)\n", v.Instance, v.Dir)
	owner := "none recorded"
	switch {
	case v.PID != 0 && v.Alive && v.Process != "":
		owner = fmt.Sprintf("pid %d (%s), running", v.PID, v.Process)
	case v.PID != 0 && v.Alive:
		owner = fmt.Sprintf("pid %d, running", v.PID)
	case v.PID != 0:
		owner = fmt.Sprintf("pid %d, gone (stale: the next load or Cleanup removes it)", v.PID)
	}
	fmt.Fprintf(w, "  owner      %s\n", owner)
	if v.Address != "" {
		fmt.Fprintf(w, "  address    %s\n", v.Address)
	}
	fmt.Fprintf(w, "  interface  %s\n", v.ifLabel)
	attach := "none (loaded without an interface)"
	if v.Method != "" {
		attach = fmt.Sprintf("%s mode, %s", v.Mode, map[string]string{"link": "bpf link", "netlink": "netlink (outlives its owner)"}[v.Method])
	}
	fmt.Fprintf(w, "  attach     %s\n", attach)
	prog := "none"
	if v.ProgramID != 0 {
		prog = fmt.Sprintf("%s id %d", xdp.ProgramName, v.ProgramID)
		if v.ProgramLoaded != nil && !*v.ProgramLoaded {
			prog += " (no longer loaded)"
		}
	}
	fmt.Fprintf(w, "  program    %s\n", prog)
	maps := strings.Join(v.Maps, " ")
	if maps == "" {
		maps = "none"
	}
	if len(v.MissingMaps) > 0 {
		maps += " (missing: " + strings.Join(v.MissingMaps, " ") + ")"
	}
	fmt.Fprintf(w, "  maps       %s\n", maps)
	if v.Error != "" {
		fmt.Fprintf(w, "  error      %s\n", v.Error)
	}
}

// mapView is what maps shows of a map.
type mapView struct {
	Name       string `json:"name"`
	ID         uint32 `json:"id,omitempty"`
	Type       string `json:"type,omitempty"`
	KeySize    uint32 `json:"keySize"`
	ValueSize  uint32 `json:"valueSize"`
	MaxEntries uint32 `json:"maxEntries"`
	Entries    int    `json:"entries"`
	Pinned     bool   `json:"pinned"`
	Error      string `json:"error,omitempty"`
}

// mapTypeName names a map type as bpftool does.
func mapTypeName(t ebpf.MapType) string {
	switch t {
	case ebpf.Hash:
		return "hash"
	case ebpf.Array:
		return "array"
	case ebpf.LPMTrie:
		return "lpm_trie"
	case ebpf.PerCPUArray:
		return "percpu_array"
	case ebpf.PerCPUHash:
		return "percpu_hash"
	case ebpf.LRUHash:
		return "lru_hash"
	case ebpf.DevMap:
		return "devmap"
	case ebpf.DevMapHash:
		return "devmap_hash"
	}
	return strings.ToLower(t.String())
}

func bpfMaps(c *cli.Context, _ bpfEnv, args []string) error {
	if len(args) != 0 {
		return bpfUsage("maps", "no arguments expected")
	}
	st, p, err := openInstance(c, "maps")
	if err != nil {
		return err
	}
	defer p.Close()
	var views []mapView
	for _, name := range xdp.MapNames() {
		v := mapView{Name: name}
		if p.Has(name) {
			s, err := p.Stat(name)
			v.Pinned, v.ID, v.Type = true, s.ID, mapTypeName(s.Type)
			v.KeySize, v.ValueSize, v.MaxEntries, v.Entries = s.KeySize, s.ValueSize, s.MaxEntries, s.Entries
			switch {
			case err != nil:
				v.Error = err.Error()
			case s.Incompatible != nil:
				v.Error = s.Incompatible.Error()
			}
		}
		views = append(views, v)
	}
	if c.Bool("json") {
		return printJSON(c, struct {
			Instance string    `json:"instance"`
			Dir      string    `json:"dir"`
			Maps     []mapView `json:"maps"`
		}{st.Name, st.Dir, views})
	}
	w := c.App.Writer
	fmt.Fprintf(w, "instance %s (%s)\n", st.Name, st.Dir)
	fmt.Fprintf(w, "%-9s %-13s %6s %4s %6s %8s %8s\n", "map", "type", "id", "key", "value", "max", "entries")
	for _, v := range views {
		if !v.Pinned {
			fmt.Fprintf(w, "%-9s not pinned\n", v.Name)
			continue
		}
		fmt.Fprintf(w, "%-9s %-13s %6d %4d %6d %8d %8d\n", v.Name, v.Type, v.ID, v.KeySize, v.ValueSize, v.MaxEntries, v.Entries)
		if v.Error != "" {
			fmt.Fprintf(w, "          error: %s\n", v.Error)
		}
	}
	return nil
}

func bpfDump(c *cli.Context, env bpfEnv, args []string) error {
	if len(args) != 1 {
		return bpfUsage("dump", "usage: dump MAP (one of %s)", strings.Join(xdp.MapNames(), ", "))
	}
	name := args[0]
	if !slices.Contains(xdp.MapNames(), name) {
		return bpfUsage("dump", "unknown map %q (maps: %s)", name, strings.Join(xdp.MapNames(), ", "))
	}
	st, p, err := openInstance(c, "dump")
	if err != nil {
		return err
	}
	defer p.Close()
	d, err := dumpMap(p, st, name, env.monotonic())
	if err != nil {
		return bpfFail("dump", err)
	}
	if c.Bool("json") {
		return printJSON(c, d.json)
	}
	d.text(c.App.Writer)
	return nil
}

func bpfStats(c *cli.Context, env bpfEnv, args []string) error {
	if len(args) != 0 {
		return bpfUsage("stats", "no arguments expected")
	}
	secs := c.Float64("interval")
	if secs < 0 || secs > 24*3600 {
		return bpfUsage("stats", "interval %g s: give 0 to 86400 seconds", secs)
	}
	st, p, err := openInstance(c, "stats")
	if err != nil {
		return err
	}
	defer p.Close()
	first, err := p.Counters()
	if err != nil {
		return bpfFail("stats", err)
	}
	t0 := env.now()
	s := statsView{Instance: st.Name, Counters: first}
	if secs > 0 {
		if err := env.sleep(c.Context, time.Duration(secs*float64(time.Second))); err != nil {
			return bpfFail("stats", err)
		}
		second, err := p.Counters()
		if err != nil {
			return bpfFail("stats", err)
		}
		s.Counters, s.Before, s.Elapsed = second, &first, env.now().Sub(t0)
	}
	v := s.view()
	if c.Bool("json") {
		return printJSON(c, v)
	}
	v.text(c.App.Writer)
	return nil
}
