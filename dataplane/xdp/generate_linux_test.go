package xdp

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ztx/ztx/headers/packet"
)

// TestGeneratedUpToDate runs gen.go's bpf2go command into a temporary
// directory and fails when the committed ztx_bpf*.go and .o differ from
// what it makes: run `make generate` after changing bpf/. (The objects are
// compared byte for byte, so they are made with the clang that
// scripts/deps.sh installs.)
func TestGeneratedUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bpf2go and the program; skipped in -short mode")
	}
	for _, tool := range []string{"clang", "llvm-strip", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/deps.sh installs it): cannot check the generated files", tool)
		}
	}
	src, err := os.ReadFile("gen.go")
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for line := range strings.Lines(string(src)) {
		if rest, ok := strings.CutPrefix(line, "//go:generate "); ok {
			args = strings.Fields(rest)
		}
	}
	// go run github.com/cilium/ebpf/cmd/bpf2go [flags] ident source -- cflags
	if len(args) < 4 || args[0] != "go" || args[1] != "run" || !strings.HasSuffix(args[2], "/bpf2go") {
		t.Fatalf("gen.go: unexpected go:generate line %q", args)
	}
	tmp := t.TempDir()
	args = append(append(args[:3:3], "-output-dir", tmp), args[3:]...)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "GOPACKAGE=xdp", "GOFILE=gen.go")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}

	fresh, _ := filepath.Glob(filepath.Join(tmp, "ztx_*"))
	committed, _ := filepath.Glob("ztx_*")
	if len(fresh) == 0 || len(fresh) != len(committed) {
		t.Fatalf("bpf2go made %v; committed are %v", fresh, committed)
	}
	for _, f := range fresh {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Base(f))
		if err != nil {
			t.Errorf("%v (run make generate)", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run make generate and commit the result", filepath.Base(f))
		}
	}
}

// cDefines reads the integer #defines of a C header.
func cDefines(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defs := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || fields[0] != "#define" {
			continue
		}
		if v, err := strconv.ParseInt(fields[2], 0, 64); err == nil {
			defs[fields[1]] = int(v)
		}
	}
	return defs
}

// TestHeaderMatchesGo fails when bpf/ztx.h and the Go side disagree.
func TestHeaderMatchesGo(t *testing.T) {
	defs := cDefines(t, "../../bpf/ztx.h")
	want := map[string]int{
		"ZT_BEACON_LENGTH":   packet.BeaconLength,
		"ZTX_FAMILY_IPV4":    familyIPv4,
		"ZTX_FAMILY_IPV6":    familyIPv6,
		"ZTX_ATTACH_NONE":    0,
		"ZTX_ATTACH_DRIVER":  int(ModeDriver),
		"ZTX_ATTACH_GENERIC": int(ModeGeneric),
	}
	for name, v := range want {
		if got, ok := defs[name]; !ok || got != v {
			t.Errorf("%s = %d (defined: %v), Go says %d", name, got, ok, v)
		}
	}
	// Map sizes, as the object file has them.
	spec, err := loadZtx()
	if err != nil {
		t.Fatal(err)
	}
	for name, def := range map[string]string{
		ztxMapPorts: "ZTX_MAX_PORTS", ztxMapTrusted: "ZTX_MAX_TRUSTED", ztxMapNetworks: "ZTX_MAX_NETWORKS",
		ztxMapRelays: "ZTX_MAX_RELAYS", ztxMapPairs: "ZTX_MAX_PAIRS", ztxMapCounters: "",
	} {
		want := uint32(NumCounters)
		if def != "" {
			want = uint32(defs[def])
		}
		if got := spec.Maps[name].MaxEntries; got != want || want == 0 {
			t.Errorf("map %s has %d entries, want %d (%s)", name, got, want, def)
		}
	}
}

// TestCountersMatchC fails when enum counter in bpf/ztx.h and the Go names
// drift apart: every C name, in order, is the Go name in capitals.
func TestCountersMatchC(t *testing.T) {
	src, err := os.ReadFile("../../bpf/ztx.h")
	if err != nil {
		t.Fatal(err)
	}
	body := regexp.MustCompile(`(?s)enum counter \{(.*?)\};`).FindSubmatch(src)
	if body == nil {
		t.Fatal("no enum counter in bpf/ztx.h")
	}
	names := regexp.MustCompile(`(?m)^\s*COUNTER_(\w+)`).FindAllSubmatch(body[1], -1)
	if len(names) != NumCounters+1 || string(names[NumCounters][1]) != "MAX" {
		t.Fatalf("enum counter has %d names, Go has %d counters", len(names)-1, NumCounters)
	}
	seen := map[string]bool{}
	for i := range NumCounters {
		c := Counter(i)
		if want := strings.ToLower(string(names[i][1])); c.String() != want {
			t.Errorf("counter %d: Go name %q, C name COUNTER_%s", i, c, names[i][1])
		}
		if seen[c.String()] {
			t.Errorf("counter name %q twice", c)
		}
		seen[c.String()] = true
	}
	if s, want := Counter(NumCounters).String(), fmt.Sprintf("Counter(%d)", NumCounters); s != want {
		t.Errorf("out of range: %q", s)
	}
}
