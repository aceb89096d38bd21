package controller

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ztx/ztx/crypto/identity"
)

const refDB = "../../testdata/session1/node-state/root-controller.d"

// copyTree copies the reference database into a temporary directory.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestFileStoreLoadsReference(t *testing.T) {
	dir := copyTree(t, refDB)
	s, err := OpenFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := s.Networks()
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != 0xf737c19395000001 {
		t.Fatalf("networks = %v", ids)
	}
	n, err := s.Network(ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != "zta-bench" || !n.V4AssignMode.ZT || n.Revision != 1 || len(n.IPAssignmentPools) != 1 {
		t.Fatalf("network = %+v", n)
	}
	// Re-encoding gives back the reference's file byte for byte.
	want, _ := os.ReadFile(filepath.Join(refDB, "network/f737c19395000001.json"))
	got, _ := marshal(n)
	if !bytes.Equal(got, want) {
		t.Errorf("network re-encoded:\n got %s\nwant %s", got, want)
	}
	ms, err := s.Members(ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 {
		t.Fatalf("members = %d", len(ms))
	}
	for _, m := range ms {
		want, _ := os.ReadFile(filepath.Join(refDB, "network/f737c19395000001/member", m.ID+".json"))
		got, _ := marshal(m)
		if !bytes.Equal(got, want) {
			t.Errorf("member re-encoded:\n got %s\nwant %s", got, want)
		}
	}
	if _, err := s.Member(ids[0], 0x1122334455); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing member: err = %v", err)
	}
	if _, err := s.Network(0x1122334455000001); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing network: err = %v", err)
	}
}

// The pretty-printed API answers in testdata decode to the same values.
func TestReferenceAPIJSON(t *testing.T) {
	for _, c := range []struct {
		file string
		v    any
	}{
		{"controller-network.json", new(Network)},
		{"controller-member-2e57b20512.json", new(Member)},
		{"controller-member-afee230b1a.json", new(Member)},
	} {
		want, err := os.ReadFile("../../testdata/session1/" + c.file)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(want, c.v); err != nil {
			t.Fatal(err)
		}
		got, _ := marshal(c.v)
		if !jsonEqual(t, got, want) {
			t.Errorf("%s: re-encoded as %s", c.file, got)
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

func TestFileStoreCRUD(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"network", "trace"} {
		if fi, err := os.Stat(filepath.Join(dir, d)); err != nil || !fi.IsDir() {
			t.Errorf("%s not created", d)
		}
	}
	id := NetworkID(0x1122334455abcdef)
	n := NewNetwork(id, 1000)
	if err := s.PutNetwork(n); err != nil {
		t.Fatal(err)
	}
	for _, a := range []identity.Address{0x0102030405, 0xaabbccddee} {
		if err := s.PutMember(NewMember(id, a, 2000)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "network/1122334455abcdef/member/aabbccddee.json")); err != nil {
		t.Fatal(err)
	}
	// Files with other names are ignored, as by the reference.
	os.WriteFile(filepath.Join(dir, "network/junk.json"), []byte("{}"), 0o600)
	os.WriteFile(filepath.Join(dir, "network/1122334455abcdef/member/.tmp-x"), []byte("{"), 0o600)
	ids, _ := s.Networks()
	if len(ids) != 1 {
		t.Errorf("networks = %v", ids)
	}
	ms, _ := s.Members(id)
	if len(ms) != 2 || ms[0].ID != "0102030405" {
		t.Errorf("members = %v", ms)
	}
	if err := s.DeleteMember(id, 0x0102030405); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMember(id, 0x0102030405); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if err := s.DeleteNetwork(id); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "network/1122334455abcdef")); !os.IsNotExist(err) {
		t.Errorf("network directory left behind: %v", err)
	}
	if ms, _ := s.Members(id); len(ms) != 0 {
		t.Errorf("members after delete = %v", ms)
	}
}

const crashEnv = "ZTX_CONTROLLER_CRASH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(dir)
		return
	}
	os.Exit(m.Run())
}

// crashChild writes records in a loop and prints one line per write once
// the write has returned, until it is killed.
func crashChild(dir string) {
	s, err := OpenFileStore(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	id := NetworkID(0x1122334455000001)
	for i := uint64(1); ; i++ {
		if i%10 == 0 {
			n := NewNetwork(id, 0)
			n.Revision = i
			if err := s.PutNetwork(n); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			fmt.Fprintf(w, "n %d\n", i)
		} else {
			m := NewMember(id, identity.Address(0x1000000000+i%37), 0)
			m.Revision = i
			m.IPAssignments = []string{strings.Repeat("x", int(i%500))} // vary the size
			if err := s.PutMember(m); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			fmt.Fprintf(w, "m %s %d\n", m.ID, i)
		}
		w.Flush() // the line leaves the process only after the write returned
	}
}

// TestCrashSafety kills a writer with SIGKILL at random times and checks
// that every write it acknowledged is readable afterwards.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	acked := 0
	for round := 0; round < 8; round++ {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rand.IntN(150)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if errb.Len() > 0 {
			t.Fatalf("child: %s", errb.String())
		}
		s, err := OpenFileStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(out.String(), "\n")
		lines = lines[:len(lines)-1] // the last one may be torn
		for _, l := range lines {
			f := strings.Fields(l)
			switch f[0] {
			case "n":
				var rev uint64
				fmt.Sscan(f[1], &rev)
				n, err := s.Network(0x1122334455000001)
				if err != nil || n.Revision < rev {
					t.Fatalf("round %d: acked network rev %d lost: %v %v", round, rev, n, err)
				}
			case "m":
				var rev uint64
				a, _ := identity.ParseAddress(f[1])
				fmt.Sscan(f[2], &rev)
				m, err := s.Member(0x1122334455000001, a)
				if err != nil || m.Revision < rev {
					t.Fatalf("round %d: acked member %s rev %d lost: %v %v", round, f[1], rev, m, err)
				}
			}
			acked++
		}
		// Every record on disk decodes (no torn files).
		if _, err := s.Members(0x1122334455000001); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	if acked == 0 {
		t.Fatal("child acknowledged no writes")
	}
	t.Logf("%d acknowledged writes checked", acked)
}

// Records written by older versions may lack fields; they read as the
// defaults.
func TestFileStoreMissingFields(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "network/1122334455000001.json"), []byte(`{"id":"1122334455000001","name":"old"}`), 0o600)
	os.MkdirAll(filepath.Join(dir, "network/1122334455000001/member"), 0o700)
	os.WriteFile(filepath.Join(dir, "network/1122334455000001/member/0102030405.json"), []byte(`{"id":"0102030405","authorized":true}`), 0o600)
	n, err := s.Network(0x1122334455000001)
	if err != nil {
		t.Fatal(err)
	}
	if !n.Private || n.MTU != DefaultMTU || n.MulticastLimit != 32 || len(n.Rules) != 1 || n.Name != "old" || n.NWID != n.ID {
		t.Errorf("network %+v", n)
	}
	m, err := s.Member(0x1122334455000001, 0x0102030405)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Authorized || m.VMajor != -1 || m.NWID != "1122334455000001" || m.Address != "0102030405" {
		t.Errorf("member %+v", m)
	}
}

// SaveMember (for the config request path) counts revisions like the API.
func TestSaveMember(t *testing.T) {
	s, err := OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := New(0x1122334455, s, Options{})
	if c.Address() != 0x1122334455 {
		t.Fatal("address")
	}
	if _, err := c.UpdateNetwork(0x1122334455000001, nil); err != nil {
		t.Fatal(err)
	}
	m, err := c.UpdateMember(0x1122334455000001, 0x0102030405, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	m.Identity = "0102030405:0:abcd"
	m.VMajor = 1
	if err := c.SaveMember(m); err != nil || m.Revision != 2 {
		t.Fatalf("save: %v rev %d", err, m.Revision)
	}
	if err := c.SaveMember(m.Clone()); err != nil {
		t.Fatal(err)
	}
	got, err := s.Member(m.NetworkID(), m.MemberAddress())
	if err != nil || got.Revision != 2 || got.Identity != m.Identity || got.NetworkID() != 0x1122334455000001 {
		t.Fatalf("stored %+v %v", got, err)
	}
}
