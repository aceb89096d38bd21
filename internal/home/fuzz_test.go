package home

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ztx/ztx/internal/testvec"
)

func FuzzLocalConf(f *testing.F) {
	files, _ := filepath.Glob(testvec.MustPath(f, "session1", "node-state", "*-local.conf"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		fullConf, "", "{}", "[]", "{\"settings\":", `{"physical":{"::/0":{"mtu":"1e9"}}}`,
		`{"virtual":{"0123456789":{"try":["::ffff:1.2.3.4/5"],"blacklist":["::ffff:0.0.0.0/96"]}}}`,
		`{"settings":{"policies":{"p":{"basePolicy":"balance-xor","links":{"a":{"ipvPref":260}}}},"peerSpecificBonds":{"ffffffffff":"p"}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseLocalConf("local.conf", b)
		if err != nil {
			var ce *ConfError
			if !errors.As(err, &ce) || ce.File != "local.conf" {
				t.Fatalf("error is not a ConfError: %v", err)
			}
			return
		}
		if len(c.Paths) > MaxConfigurablePaths {
			t.Fatalf("%d paths", len(c.Paths))
		}
		for _, p := range c.Paths {
			if p.MTU < MinPhysMTU || p.MTU > MaxPhysMTU {
				t.Fatalf("MTU %d", p.MTU)
			}
		}
		// What /status echoes parses back to the same configuration.
		raw := c.RawJSON()
		c2, err := ParseLocalConf("local.conf", raw)
		if err != nil {
			t.Fatalf("RawJSON %s does not parse: %v", raw, err)
		}
		if !reflect.DeepEqual(c.Settings, c2.Settings) || !reflect.DeepEqual(c.Physical, c2.Physical) ||
			!reflect.DeepEqual(c.Virtual, c2.Virtual) || !reflect.DeepEqual(c.Paths, c2.Paths) ||
			!reflect.DeepEqual(c.Warnings, c2.Warnings) || string(c2.RawJSON()) != string(raw) {
			t.Fatalf("re-parse differs:\n%+v\n%+v", c, c2)
		}
	})
}

func FuzzPeerCache(f *testing.F) {
	r := testPeerRecord(f)
	good := r.AppendMarshal(nil)
	f.Add(good)
	f.Add(good[:80])
	f.Add(append(good[:len(good):len(good)], 0xff, 0x06))
	r.Paths = nil
	f.Add(r.AppendMarshal(nil))
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePeer(b)
		if err != nil {
			return
		}
		if p.Identity == nil || p.Identity.HasPrivate() {
			t.Fatal("bad identity in a parsed record")
		}
		m := p.AppendMarshal(nil)
		q, err := ParsePeer(m)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if len(p.Paths) > MaxPeerPaths {
			p.Paths = p.Paths[:MaxPeerPaths]
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip\n%+v\n%+v", p, q)
		}
		if m2 := q.AppendMarshal(nil); string(m2) != string(m) {
			t.Fatal("marshal not stable")
		}
	})
}

func FuzzTrustedPaths(f *testing.F) {
	f.Add([]byte("1f 10.0.0.0/8\n0x20=fd00::/8\n"))
	f.Add([]byte("ffffffffffffffffff 1.2.3.4/33\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range ParseTrustedPaths(b) {
			if p.TrustedPathID == 0 || p.Prefix.Bits() <= 0 || !p.Prefix.IsValid() {
				t.Fatalf("bad row %+v", p)
			}
		}
	})
}

// Any .local.conf reads, and what is written reads back the same (but for
// the whitelist, which is not written).
func FuzzNetworkSettings(f *testing.F) {
	for _, s := range []string{
		"allowManaged=1\nallowGlobal=0\nallowDefault=0\nallowDNS=0\n", "", "allowManaged=10.0.0.0/8,fd00::/8",
		"allowManaged=\\e\\0\\n\nallowDNS=t", "allowGlobal=1\r\nallowManaged=TRUE!",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := ParseNetworkSettings(b)
		if s.ManagedWhitelist != nil && !s.AllowManaged {
			t.Fatalf("a whitelist with allowManaged off: %+v", s)
		}
		out := s.AppendMarshal(nil)
		back := ParseNetworkSettings(out)
		s.ManagedWhitelist = nil
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("%q read back as %+v, want %+v", out, back, s)
		}
	})
}

// Any devicemap reads into IDs and usable interface names.
func FuzzDeviceMap(f *testing.F) {
	f.Add([]byte("f737c19395000001=zta-zt0\n"))
	f.Add([]byte("0123456789abcdef==ztfoo=x\r\n=y\n\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for id, name := range ParseDeviceMap(b) {
			if name == "" || len(name) > 15 || strings.ContainsAny(name, "\r\n=\x00") {
				t.Fatalf("%016x: name %q", id, name)
			}
		}
	})
}
