package capture

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func TestSessionCapture(t *testing.T) {
	f, err := os.Open("../../testdata/session1/zt-session.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ds, err := ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 137 {
		t.Fatalf("got %d UDP datagrams, want 137", len(ds))
	}
	first := ds[0]
	if first.Src.String() != "10.77.0.2:9993" || first.Dst.String() != "10.77.0.1:9993" || len(first.Payload) != 137 {
		t.Fatalf("first datagram %v -> %v len %d", first.Src, first.Dst, len(first.Payload))
	}
	if ds[82].Frame != 83 || len(ds[82].Payload) != 4 {
		t.Fatalf("datagram 83: frame %d len %d, want the 4-byte punch packet", ds[82].Frame, len(ds[82].Payload))
	}
}

// TestPcapng writes the same datagrams as pcapng (Linux cooked and
// Ethernet interfaces) and reads them back.
func TestPcapng(t *testing.T) {
	f, _ := os.ReadFile("../../testdata/session1/zt-session.pcap")
	want, err := ReadAll(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := pcapgo.NewReader(bytes.NewReader(f))
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	got, err := ReadAll(&buf)
	if err != nil || len(got) != len(want) {
		t.Fatalf("pcapng: %d datagrams (%v), want %d", len(got), err, len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i].Payload, want[i].Payload) || got[i].Src != want[i].Src {
			t.Fatalf("datagram %d differs", i)
		}
	}
}

func TestNotACapture(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("abc"), bytes.Repeat([]byte{0x55}, 100)} {
		if _, err := ReadAll(bytes.NewReader(b)); err == nil {
			t.Errorf("%q accepted as a capture", b)
		}
	}
}

func FuzzReadAll(f *testing.F) {
	b, _ := os.ReadFile("../../testdata/session1/zt-session.pcap")
	f.Add(b[:2000])
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	w.WriteFileHeader(65536, layers.LinkTypeRaw)
	w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: 3, Length: 3}, []byte{0x45, 0, 0})
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		ReadAll(bytes.NewReader(data)) // must not panic
	})
}

// TestIPv4Fragments: a UDP datagram larger than the link MTU, captured as
// IPv4 fragments (out of order), is returned whole.
func TestIPv4Fragments(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 190) // 3040 bytes
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 77, Protocol: layers.IPProtocolUDP,
		SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{10, 0, 0, 2}}
	udp := &layers.UDP{SrcPort: 9993, DstPort: 9993}
	udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	udpBytes := buf.Bytes()
	var frames [][]byte
	for off := 0; off < len(udpBytes); off += 1480 {
		end := min(off+1480, len(udpBytes))
		frag := *ip
		frag.FragOffset = uint16(off / 8)
		if end < len(udpBytes) {
			frag.Flags = layers.IPv4MoreFragments
		}
		eth := &layers.Ethernet{SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		b := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(b, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, &frag, gopacket.Payload(udpBytes[off:end])); err != nil {
			t.Fatal(err)
		}
		frames = append(frames, b.Bytes())
	}
	frames[0], frames[2] = frames[2], frames[0]
	var file bytes.Buffer
	w := pcapgo.NewWriter(&file)
	w.WriteFileHeader(65536, layers.LinkTypeEthernet)
	for i, f := range frames {
		w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(100, int64(i)), CaptureLength: len(f), Length: len(f)}, f)
	}
	ds, err := ReadAll(&file)
	if err != nil || len(ds) != 1 {
		t.Fatalf("got %d datagrams (%v), want 1", len(ds), err)
	}
	if !bytes.Equal(ds[0].Payload, payload) || ds[0].Frame != 3 || ds[0].Src.String() != "10.0.0.1:9993" {
		t.Fatalf("reassembled datagram: frame %d from %v, %d bytes", ds[0].Frame, ds[0].Src, len(ds[0].Payload))
	}
}
