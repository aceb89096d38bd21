package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/internal/testvec"
	"github.com/ztx/ztx/internal/wiredecode"
)

type decodeOutput struct {
	Packets []wiredecode.Record
	Stats   wiredecode.Stats
}

func decodeJSON(t *testing.T, args ...string) decodeOutput {
	t.Helper()
	out, errOut, code := ztctl(t, append([]string{"wire", "decode", "-j"}, args...)...)
	if code != 0 {
		t.Fatalf("wire decode: exit %d: %s", code, errOut)
	}
	var d decodeOutput
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestWireDecodeSession is the regression test of the whole wire layer:
// every packet of a live ZeroTier One 1.14.1 session must authenticate and
// decrypt to the plaintext the reference itself had.
func TestWireDecodeSession(t *testing.T) {
	sess := testvec.MustSession(t)
	d := decodeJSON(t,
		"--identity", testdata("session1/id1.secret"),
		"--identity", testdata("session1/id2.secret"),
		"--identity", testdata("session1/id3.secret"),
		testdata("session1/zt-session.pcap"))
	if d.Stats.Packets != 136 || d.Stats.Authenticated != 136 || d.Stats.Other != 1 {
		t.Fatalf("stats %+v, want 136 of 136 packets authenticated and 1 other datagram", d.Stats)
	}
	configs, creds := 0, 0
	if len(d.Packets) != len(sess.Entries) {
		t.Fatalf("%d records, the reference lists %d", len(d.Packets), len(sess.Entries))
	}
	for i, e := range sess.Entries {
		r := d.Packets[i]
		if r.Frame != e.Index || r.Src != e.Src.String() || r.Dst != e.Dst.String() || r.Len != e.Len {
			t.Fatalf("#%d: record %+v does not match the capture entry", e.Index, r)
		}
		if !e.ZeroTier {
			if r.Kind != "other" || r.Data != hex.EncodeToString(e.Wire) {
				t.Errorf("#%d: non-ZeroTier datagram decoded as %q", e.Index, r.Kind)
			}
			continue
		}
		if r.Auth != wiredecode.AuthOK || r.Error != "" {
			t.Errorf("#%d: auth %s error %q", e.Index, r.Auth, r.Error)
		}
		if r.Source != e.SrcZT.String() || r.Dest != e.DstZT.String() || r.Hops != e.Hops {
			t.Errorf("#%d: header %s->%s hops %d", e.Index, r.Source, r.Dest, r.Hops)
		}
		if r.VerbNumber != int(e.Verb) || r.Verb != e.VerbName || r.Compressed != e.Compressed {
			t.Errorf("#%d: verb %s (%d, lz4 %v), the reference saw %s (lz4 %v)", e.Index, r.Verb, r.VerbNumber, r.Compressed, e.VerbName, e.Compressed)
		}
		if r.Plaintext != hex.EncodeToString(e.Plaintext) {
			t.Errorf("#%d %s: plaintext differs from the reference's", e.Index, e.VerbName)
		}
		if r.Decoded == nil || r.Summary == "" {
			t.Errorf("#%d %s: payload not decoded", e.Index, e.VerbName)
		}
		if r.Details != nil {
			for _, c := range r.Details.Credentials {
				if c.Signature != "ok" {
					t.Errorf("#%d: %s signature %s", e.Index, c.Kind, c.Signature)
				}
				creds++
			}
		}
		if r.Details != nil && r.Details.ConfigSignature != "" {
			configs++
			if r.Details.ConfigSignature != "ok" || len(r.Details.Config) == 0 {
				t.Errorf("#%d: config signature %s, %d keys", e.Index, r.Details.ConfigSignature, len(r.Details.Config))
			}
		}
	}
	// Three credential pushes, each a COM and a COO signed by the controller.
	if creds != 6 {
		t.Errorf("%d verified credentials, want 6", creds)
	}
	// Four NETWORK_CONFIG pushes and two OK(NETWORK_CONFIG_REQUEST) answers.
	if configs != 6 {
		t.Errorf("%d signed config chunks, want 6", configs)
	}
}

// With only the root's secret, the packets between the two members cannot
// be authenticated, and say so; the root's own traffic still can.
func TestWireDecodePartialKeys(t *testing.T) {
	d := decodeJSON(t, "-i", testdata("session1/id1.secret"), testdata("session1/zt-session.pcap"))
	if d.Stats.Failed != 0 || d.Stats.NoKey == 0 || d.Stats.Authenticated == 0 ||
		d.Stats.Authenticated+d.Stats.NoKey != 136 {
		t.Fatalf("stats %+v", d.Stats)
	}
	for _, r := range d.Packets {
		if r.Kind == "packet" && r.Source != "f737c19395" && r.Dest != "f737c19395" && r.Auth == wiredecode.AuthOK {
			t.Fatalf("#%d between members authenticated without their keys", r.Frame)
		}
	}
	// Nothing known at all: headers only, no failures.
	d = decodeJSON(t, testdata("session1/zt-session.pcap"))
	if d.Stats.Authenticated != 0 || d.Stats.Failed != 0 || d.Stats.NoKey != 136 {
		t.Fatalf("no identities: stats %+v", d.Stats)
	}
}

func TestWireDecodeText(t *testing.T) {
	out, _, code := ztctl(t, "wire", "decode", "-x",
		"-i", testdata("session1/id2.secret"), "-i", testdata("session1/id3.secret"), "-i", testdata("session1/id1.public"),
		testdata("session1/zt-session.pcap"))
	if code != 0 {
		t.Fatal(code)
	}
	mustContain(t, "text", out, "#1 0.0000 10.77.0.2:9993 -> 10.77.0.1:9993 len=137 afee230b1a -> f737c19395 id=f9054323558de554 cipher=C25519_POLY1305_NONE hops=0 auth=ok verb=HELLO")
	mustContain(t, "text", out, "code=NETWORK_ACCESS_DENIED")
	mustContain(t, "text", out, "not ZeroTier data=4564af5e")
	mustContain(t, "text", out, "    controller signature: ok\n    network config (21 keys): v=0000000000000007 nwid=f737c19395000001")
	mustContain(t, "text", out, "136 ZeroTier packets: 136 authenticated, 0 failed, 0 without keys")
	if _, errOut, code := ztctl(t, "wire", "decode", "/nonexistent.pcap"); code != 1 || errOut == "" {
		t.Fatal("missing capture accepted")
	}
	if _, _, code := ztctl(t, "wire", "decode", testdata("session1/id1.public")); code != 1 {
		t.Fatal("non-capture accepted")
	}
}

// TestWireDecodeFragments builds a capture of a large ECHO between two new
// identities, fragmented at 1432 bytes and delivered out of order, and checks
// that it is reassembled, authenticated and decoded.
func TestWireDecodeFragments(t *testing.T) {
	a, _ := identity.Generate(rand.Reader)
	b, _ := identity.Generate(rand.Reader)
	shared, _ := a.Agree(b)
	key, err := packet.NewKey(&shared)
	if err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("ztx fragment test "), 200) // 3600 bytes
	pkt := packet.New(b.Address, a.Address, packet.VerbEcho).AppendPayload(payload...)
	pkt.SetFragmented(true)
	if err := key.Armor(pkt, packet.SuiteAESGMACSIV); err != nil {
		t.Fatal(err)
	}
	pieces, err := packet.Fragment(pkt, 1432)
	if err != nil || len(pieces) != 3 {
		t.Fatalf("fragment: %d pieces, %v", len(pieces), err)
	}
	order := [][]byte{pieces[2], pieces[0], pieces[1]}
	path := filepath.Join(t.TempDir(), "frag.pcap")
	writeUDPCapture(t, path, order)

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.secret"), []byte(a.SecretString()), 0o600)
	os.WriteFile(filepath.Join(dir, "b.public"), []byte(b.String()), 0o644)
	d := decodeJSON(t, "-i", filepath.Join(dir, "a.secret"), "-i", filepath.Join(dir, "b.public"), path)
	if d.Stats.Packets != 1 || d.Stats.Authenticated != 1 || d.Stats.Fragments != 2 {
		t.Fatalf("stats %+v", d.Stats)
	}
	last := d.Packets[2]
	if !last.Assembled || last.Verb != "ECHO" || last.Plaintext != hex.EncodeToString(payload) {
		t.Fatalf("assembled record %+v", last)
	}
	// Cutting a piece out leaves the packet incomplete, with no error.
	writeUDPCapture(t, path, [][]byte{pieces[0], pieces[2]})
	d = decodeJSON(t, "-i", filepath.Join(dir, "a.secret"), "-i", filepath.Join(dir, "b.public"), path)
	if d.Stats.Packets != 0 || d.Stats.Authenticated != 0 {
		t.Fatalf("incomplete packet decoded: %+v", d.Stats)
	}
	// A forged byte in a fragment fails authentication.
	bad := bytes.Clone(pieces[1])
	bad[len(bad)-1] ^= 1
	writeUDPCapture(t, path, [][]byte{pieces[0], bad, pieces[2]})
	d = decodeJSON(t, "-i", filepath.Join(dir, "a.secret"), "-i", filepath.Join(dir, "b.public"), path)
	if d.Stats.Failed != 1 || d.Stats.Authenticated != 0 {
		t.Fatalf("forged fragment: %+v", d.Stats)
	}
	if r := d.Packets[2]; r.Auth != wiredecode.AuthFailed || !strings.Contains(r.Error, "MAC") {
		t.Fatalf("forged fragment record: auth %s error %q", r.Auth, r.Error)
	}
}

func writeUDPCapture(t *testing.T, path string, payloads [][]byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	w.WriteFileHeader(65536, layers.LinkTypeEthernet)
	for i, p := range payloads {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{10, 99, 0, 1}, DstIP: net.IP{10, 99, 0, 2}}
		udp := &layers.UDP{SrcPort: 9993, DstPort: 9993}
		udp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload(p)); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, int64(i)*1e6), CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
}
