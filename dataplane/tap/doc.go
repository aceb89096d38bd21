// Package tap is the Linux TAP device behind a VL2 virtual network: one
// Ethernet interface per joined network, created with /dev/net/tun
// (IFF_TAP|IFF_NO_PI) and configured with netlink.
//
// Naming follows ZeroTier One 1.14: a devicemap entry for the network ID
// (16 lower-case hex digits) wins when that interface does not exist yet;
// otherwise the name is "zt" plus the RFC 4648 base32 alphabet in lower case
// applied to the 40 bits (nwid ^ nwid>>24) + trial, with trial counting up
// from 0 past names already in use (DefaultName, Name).
//
// Frames move in batches with headroom, like wireguard-go's tun.Device:
// Read and Write take bufs [][]byte and an offset, and the Ethernet frame
// (destination MAC first, no FCS) is bufs[i][offset:]. The file descriptor
// is non-blocking and driven by the Go runtime poller, so Close unblocks a
// Read waiting for a frame; every method returns net.ErrClosed after Close.
//
// With Config.Offload the tap is opened with IFF_VNET_HDR and TCP (and, from
// Linux 6.2, UDP) segmentation offload, as wireguard-go does for its tun:
// the kernel hands over superpackets of up to 64 KB behind a virtio_net_hdr
// (vnet.go draws it) and accepts them. Callers see no difference: Read cuts
// superpackets into frames of at most the MTU and completes partial
// checksums (segment.go), keeping segments that do not fit in bufs for the
// next Read; Write coalesces consecutive segments of a TCP flow into one
// superpacket the way Linux GRO does (coalesce.go) and writes everything
// else as it is. VLAN-tagged frames, IPv4 options, IPv6 extension headers,
// fragments and non-IP frames are never coalesced; superpackets carrying
// them are still cut correctly. One read(2) per superpacket and one
// writev(2) per coalesced run replace a system call per frame.
//
// The netlink handle used for configuration is bound to the network
// namespace of the thread that called Open, so SetAddresses, SetRoutes and
// SetMTU may be called from any goroutine afterwards.
package tap
