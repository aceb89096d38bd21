package tap

import (
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Offloads is a set of offloads a tap negotiated with the kernel
// (Device.Offloads).
type Offloads uint8

const (
	// OffloadTSO: TCP segmentation and checksum offload (TUN_F_CSUM,
	// TUN_F_TSO4, TUN_F_TSO6, TUN_F_TSO_ECN). The kernel hands Read TCP
	// superpackets of up to 64 KB and frames with partial checksums, which
	// Read segments and completes; Write coalesces TCP segments into
	// superpackets. ethtool shows tx-checksumming and
	// tcp-segmentation-offload on.
	OffloadTSO Offloads = 1 << iota
	// OffloadUSO: UDP segmentation offload (TUN_F_USO4, TUN_F_USO6, Linux
	// 6.2 and later): the kernel hands Read UDP_SEGMENT superpackets, which
	// Read cuts into datagrams. ethtool shows tx-udp-segmentation on.
	OffloadUSO
)

// Stats counts what offload did; all zero without Config.Offload.
type Stats struct {
	SuperpacketsRead    uint64 // GSO superpackets Read took from the kernel
	SegmentsRead        uint64 // frames Read cut them into
	SuperpacketsWritten uint64 // superpackets Write built by coalescing
	FramesCoalesced     uint64 // frames Write put into them
	Dropped             uint64 // frames Read discarded: malformed, or larger than a buffer
}

// readBufSize holds a virtio_net_hdr and the largest frame a tap hands
// over: a 64 KB IP packet behind an Ethernet header and two VLAN tags.
const readBufSize = vnetHdrSize + ethHdrLen + 2*vlanLen + 0xffff + ipv6HdrLen

const (
	tunTSO = unix.TUN_F_CSUM | unix.TUN_F_TSO4 | unix.TUN_F_TSO6 | unix.TUN_F_TSO_ECN
	tunUSO = unix.TUN_F_USO4 | unix.TUN_F_USO6
)

// setOffload sets the virtio_net_hdr size and the offloads on a tap opened
// with IFF_VNET_HDR: TSO, and USO too when the kernel knows it.
func setOffload(fd int) (Offloads, error) {
	if err := unix.IoctlSetPointerInt(fd, unix.TUNSETVNETHDRSZ, vnetHdrSize); err != nil {
		return 0, fmt.Errorf("TUNSETVNETHDRSZ: %w", err)
	}
	if unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, tunTSO|tunUSO) == nil {
		return OffloadTSO | OffloadUSO, nil
	}
	if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, tunTSO); err != nil {
		return 0, fmt.Errorf("TUNSETOFFLOAD: %w", err)
	}
	return OffloadTSO, nil
}

// Offloads is what Open negotiated with the kernel: nothing without
// Config.Offload.
func (d *Device) Offloads() Offloads { return d.offloads }

// Stats returns the offload counters.
func (d *Device) Stats() Stats {
	return Stats{
		SuperpacketsRead:    d.stats.gsoRead.Load(),
		SegmentsRead:        d.stats.segRead.Load(),
		SuperpacketsWritten: d.stats.gsoWritten.Load(),
		FramesCoalesced:     d.stats.coalesced.Load(),
		Dropped:             d.stats.dropped.Load(),
	}
}

// stats are the Device's offload counters.
type stats struct {
	gsoRead, segRead, dropped, gsoWritten, coalesced atomic.Uint64
}

// add moves counts c into the Device's counters.
func (d *Device) add(c *counters) {
	d.stats.gsoRead.Add(c.gsoRead)
	d.stats.segRead.Add(c.segRead)
	d.stats.dropped.Add(c.dropped)
	d.stats.gsoWritten.Add(c.gsoWritten)
	d.stats.coalesced.Add(c.coalesced)
	*c = counters{}
}

// readOffload is Read on a vnet-header tap: each read is a virtio_net_hdr
// and a frame, which the splitter turns into frames in bufs. Segments of a
// superpacket that do not fit in bufs are returned by the next Read.
func (d *Device) readOffload(bufs [][]byte, sizes []int, offset int) (int, error) {
	d.rmu.Lock()
	defer d.rmu.Unlock()
	s := &d.split
	defer d.add(&s.counters)
	s.mtu = int(d.mtu.Load())
	bufs = bufs[:min(len(bufs), len(sizes))]
	n := 0
	var rerr error
	err := d.rc.Read(func(fd uintptr) bool {
		for {
			if n = s.fill(bufs, sizes, offset, n); n == len(bufs) {
				return true
			}
			m, err := unix.Read(int(fd), d.rbuf)
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
			n = s.put(d.rbuf[:m], bufs, sizes, offset, n)
		}
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

// writeOffload is Write on a vnet-header tap: the coalescer's superpackets
// go with a GSO virtio_net_hdr, everything else with a zero one, each in
// one writev. A superpacket the kernel refuses is written frame by frame.
func (d *Device) writeOffload(bufs [][]byte, offset int) (int, error) {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	c := &d.co
	defer d.add(&c.counters)
	c.plan(bufs, offset)
	n, k := 0, 0
	var werr error
	err := d.rc.Write(func(fd uintptr) bool {
		for k < len(c.groups) {
			g := &c.groups[k]
			if g.count > 1 && !g.split {
				err := d.writeGroup(fd, g, bufs, offset)
				switch err {
				case nil:
					n += g.count
					k++
					c.gsoWritten++
					c.coalesced += uint64(g.count)
				case unix.EINTR:
				case unix.EAGAIN:
					return false
				default:
					g.split = true
				}
				continue
			}
			err := d.writev(fd, vnetZero[:], room(bufs[g.cur], offset))
			switch err {
			case nil:
				n++
				if g.cur = c.next[g.cur]; g.cur < 0 {
					k++
				}
			case unix.EINTR:
			case unix.EAGAIN:
				return false
			default:
				werr = err
				return true
			}
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

var vnetZero [vnetHdrSize]byte

// writeGroup writes superpacket g: its header and the payloads of its
// frames, straight from bufs.
func (d *Device) writeGroup(fd uintptr, g *group, bufs [][]byte, offset int) error {
	d.hdr = g.appendHeader(d.hdr[:0], room(bufs[g.head], offset))
	d.iov = appendIovec(d.iov[:0], d.hdr)
	for i := g.head; i >= 0; i = d.co.next[i] {
		d.iov = appendIovec(d.iov, room(bufs[i], offset)[g.seg.end:])
	}
	return d.flush(fd)
}

// writev writes the concatenation of hdr and frame.
func (d *Device) writev(fd uintptr, hdr, frame []byte) error {
	d.iov = appendIovec(appendIovec(d.iov[:0], hdr), frame)
	return d.flush(fd)
}

// flush writes d.iov with one writev and forgets the buffers.
func (d *Device) flush(fd uintptr) error {
	defer clear(d.iov)
	_, _, e := unix.Syscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(unsafe.SliceData(d.iov))), uintptr(len(d.iov)))
	if e != 0 {
		return e
	}
	return nil
}

func appendIovec(iov []unix.Iovec, b []byte) []unix.Iovec {
	if len(b) == 0 {
		return iov
	}
	v := unix.Iovec{Base: &b[0]}
	v.SetLen(len(b))
	return append(iov, v)
}
