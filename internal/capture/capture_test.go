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
