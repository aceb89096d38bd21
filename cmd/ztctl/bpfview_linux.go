package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ztx/ztx/dataplane/xdp"
)

// The bpf commands' views: map entries and counters in ZeroTier terms
// (10-hex-digit addresses, 16-hex-digit network IDs, CIDRs, IP:port,
// MACs), as JSON values and as text.

// dump is one map's entries, ready to print.
type dump struct {
	json any
	text func(io.Writer)
}

type trustedRow struct {
	CIDR          string `json:"cidr"`
	TrustedPathID uint64 `json:"trustedPathId"` // as in local.conf
}

type networkRow struct {
	NWID      string `json:"nwid"`
	Ifindex   int    `json:"ifindex"`
	Interface string `json:"interface,omitempty"`
}

type relayRow struct {
	Address   string `json:"address"` // the destination node
	Ifindex   int    `json:"ifindex"` // egress
	Interface string `json:"interface,omitempty"`
	Src       string `json:"src"` // IP:port
	Dst       string `json:"dst"`
	SrcMAC    string `json:"srcMac"`
	DstMAC    string `json:"dstMac"` // next hop
}

type pairRow struct {
	Source string `json:"source"`
	Dest   string `json:"dest"`
	// LastRelayed is the kernel's CLOCK_MONOTONIC time (ns) of a recent
	// relayed packet, 0 if none; LastRelayedAgeMs its age, -1 if none.
	LastRelayed      uint64 `json:"lastRelayed"`
	LastRelayedAgeMs int64  `json:"lastRelayedAgeMs"`
}

type counterRow struct {
	Name    string `json:"name"`
	Action  string `json:"action"` // the XDP verdict of the frames it counts
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	// Rates over the interval, with --interval.
	PacketsPerSecond *float64 `json:"packetsPerSecond,omitempty"`
	BitsPerSecond    *float64 `json:"bitsPerSecond,omitempty"`
}

type infoView struct {
	PID       int    `json:"pid"`
	Alive     bool   `json:"alive"`
	Ifindex   int    `json:"ifindex"`
	Interface string `json:"interface,omitempty"`
	Mode      string `json:"mode"`
	Method    string `json:"method,omitempty"`
	ProgramID uint32 `json:"programId"`
	Netns     uint64 `json:"netns"` // inode of the owner's network namespace
	Error     string `json:"error,omitempty"`
}

func trustedRows(tp []xdp.TrustedPath) []trustedRow {
	rows := []trustedRow{}
	for _, t := range tp {
		rows = append(rows, trustedRow{CIDR: t.Prefix.String(), TrustedPathID: t.ID})
	}
	return rows
}

func networkRows(nets []xdp.Network, ifName func(int) string) []networkRow {
	rows := []networkRow{}
	for _, n := range nets {
		rows = append(rows, networkRow{NWID: fmt.Sprintf("%016x", n.NWID), Ifindex: n.Ifindex, Interface: ifName(n.Ifindex)})
	}
	return rows
}

func relayRows(relays []xdp.Relay, ifName func(int) string) []relayRow {
	rows := []relayRow{}
	for _, r := range relays {
		rows = append(rows, relayRow{
			Address: r.Dest.String(), Ifindex: r.Path.Ifindex, Interface: ifName(r.Path.Ifindex),
			Src: r.Path.Src.String(), Dst: r.Path.Dst.String(),
			SrcMAC: r.Path.SrcMAC.String(), DstMAC: r.Path.DstMAC.String(),
		})
	}
	return rows
}

// pairRows shows pairs with their ages at now (CLOCK_MONOTONIC).
func pairRows(pairs []xdp.Pair, now time.Duration) []pairRow {
	rows := []pairRow{}
	for _, p := range pairs {
		r := pairRow{Source: p.Source.String(), Dest: p.Dest.String(), LastRelayed: uint64(p.LastRelayed), LastRelayedAgeMs: -1}
		if p.LastRelayed > 0 {
			r.LastRelayedAgeMs = max(now-p.LastRelayed, 0).Milliseconds()
		}
		rows = append(rows, r)
	}
	return rows
}

// XDP verdicts (linux/bpf.h enum xdp_action).
const (
	actionPass     = "XDP_PASS"
	actionTX       = "XDP_TX"
	actionRedirect = "XDP_REDIRECT"
)

// counterActions are the verdicts of the frames each counter counts
// (bpf/xdp.c; the program never drops). TestCounterActions fails when a
// counter is added without one.
var counterActions = map[xdp.Counter]string{
	xdp.PassNotZT:        actionPass,
	xdp.PassUnsupported:  actionPass,
	xdp.PassMalformed:    actionPass,
	xdp.PassControl:      actionPass,
	xdp.PassTrustedOther: actionPass,
	xdp.PassTrustedBadID: actionPass,
	xdp.PassNoNetwork:    actionPass,
	xdp.PassNoRoute:      actionPass,
	xdp.PassNoPair:       actionPass,
	xdp.PassHops:         actionPass,
	xdp.PassNoChecksum:   actionPass,
	xdp.PassError:        actionPass,
	xdp.Trusted:          actionRedirect,
	xdp.RelayTX:          actionTX,
	xdp.RelayRedirect:    actionRedirect,
}

func counterRows(c xdp.Counters) []counterRow {
	rows := make([]counterRow, 0, len(c))
	for i, v := range c {
		rows = append(rows, counterRow{Name: xdp.Counter(i).String(), Action: counterActions[xdp.Counter(i)], Packets: v.Packets, Bytes: v.Bytes})
	}
	return rows
}

// dumpMap reads map name of an instance into a dump; now is CLOCK_MONOTONIC.
func dumpMap(p *xdp.Pinned, st xdp.Instance, name string, now time.Duration) (dump, error) {
	r := newIfResolver(st)
	switch name {
	case xdp.MapInfo:
		// What status shows, and the owner's network namespace.
		v := infoView{PID: st.PID, Alive: st.Live, Ifindex: st.Ifindex, Interface: r.name(st.Ifindex),
			Mode: st.Mode.String(), ProgramID: st.ProgID, Netns: st.Netns()}
		if st.Ifindex != 0 {
			v.Method = map[bool]string{false: "link", true: "netlink"}[st.Netlink]
		}
		if st.Err != nil {
			v.Error = st.Err.Error()
		}
		return dump{v, func(w io.Writer) {
			state := "gone"
			if v.Alive {
				state = "running"
			}
			t := table(w, "field", "value")
			fmt.Fprintf(t, "pid\t%d (%s)\n", v.PID, state)
			fmt.Fprintf(t, "interface\t%s\n", r.label(v.Ifindex))
			fmt.Fprintf(t, "mode\t%s\n", v.Mode)
			if v.Method != "" {
				fmt.Fprintf(t, "method\t%s\n", v.Method)
			}
			fmt.Fprintf(t, "program\t%d\n", v.ProgramID)
			fmt.Fprintf(t, "netns\t%d\n", v.Netns)
			if v.Error != "" {
				fmt.Fprintf(t, "error\t%s\n", v.Error)
			}
			t.Flush()
		}}, nil
	case xdp.MapConfig:
		a, err := p.Address()
		if err != nil {
			return dump{}, err
		}
		v := struct {
			Address string `json:"address"`
		}{a.String()}
		return dump{v, func(w io.Writer) {
			note := ""
			if a == 0 {
				note = " (not configured: nothing is delivered, packets are only relayed)"
			}
			fmt.Fprintf(w, "address %s%s\n", v.Address, note)
		}}, nil
	case xdp.MapPorts:
		ports, err := p.Ports()
		if err != nil {
			return dump{}, err
		}
		if ports == nil {
			ports = []uint16{}
		}
		return dump{ports, func(w io.Writer) {
			t := table(w, "udp port")
			for _, port := range ports {
				fmt.Fprintf(t, "%d\n", port)
			}
			done(t, len(ports))
		}}, nil
	case xdp.MapTrusted:
		tp, err := p.TrustedPaths()
		if err != nil {
			return dump{}, err
		}
		rows := trustedRows(tp)
		return dump{rows, func(w io.Writer) {
			t := table(w, "cidr", "trusted path id")
			for _, v := range rows {
				fmt.Fprintf(t, "%s\t%d\n", v.CIDR, v.TrustedPathID)
			}
			done(t, len(rows))
		}}, nil
	case xdp.MapNetworks:
		nets, err := p.Networks()
		if err != nil {
			return dump{}, err
		}
		rows := networkRows(nets, r.name)
		return dump{rows, func(w io.Writer) {
			t := table(w, "network", "delivered to")
			for _, v := range rows {
				fmt.Fprintf(t, "%s\t%s\n", v.NWID, r.label(v.Ifindex))
			}
			done(t, len(rows))
		}}, nil
	case xdp.MapRelays:
		relays, err := p.Relays()
		if err != nil {
			return dump{}, err
		}
		rows := relayRows(relays, r.name)
		return dump{rows, func(w io.Writer) {
			t := table(w, "destination", "egress", "src", "dst", "src mac", "next hop mac")
			for _, v := range rows {
				fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Address, r.label(v.Ifindex), v.Src, v.Dst, v.SrcMAC, v.DstMAC)
			}
			done(t, len(rows))
		}}, nil
	case xdp.MapPairs:
		pairs, err := p.Pairs()
		if err != nil {
			return dump{}, err
		}
		rows := pairRows(pairs, now)
		return dump{rows, func(w io.Writer) {
			t := table(w, "source", "", "dest", "last relayed")
			for _, v := range rows {
				last := "never"
				if v.LastRelayedAgeMs >= 0 {
					last = (time.Duration(v.LastRelayedAgeMs) * time.Millisecond).Round(time.Second).String() + " ago"
				}
				fmt.Fprintf(t, "%s\t->\t%s\t%s\n", v.Source, v.Dest, last)
			}
			done(t, len(rows))
		}}, nil
	case xdp.MapCounters:
		c, err := p.Counters()
		if err != nil {
			return dump{}, err
		}
		rows := counterRows(c)
		return dump{rows, func(w io.Writer) {
			fmt.Fprintf(w, "%-20s %12s %16s\n", "counter", "packets", "bytes")
			for _, v := range rows {
				fmt.Fprintf(w, "%-20s %12d %16d\n", v.Name, v.Packets, v.Bytes)
			}
		}}, nil
	}
	return dump{}, fmt.Errorf("unknown map %q", name)
}

// table starts a left-aligned table with a header line.
func table(w io.Writer, header ...string) *tabwriter.Writer {
	t := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(t, strings.Join(header, "\t"))
	return t
}

// done ends a table, saying so when it had no rows.
func done(t *tabwriter.Writer, rows int) {
	if rows == 0 {
		fmt.Fprintln(t, "(no entries)")
	}
	t.Flush()
}

// statsView is stats's reading: the counters, and with an interval the
// reading before it.
type statsView struct {
	Instance string
	Counters xdp.Counters
	Before   *xdp.Counters // nil without an interval
	Elapsed  time.Duration
}

type statsJSON struct {
	Instance        string       `json:"instance"`
	IntervalSeconds float64      `json:"intervalSeconds,omitempty"`
	Counters        []counterRow `json:"counters"`
	Actions         []counterRow `json:"actions"` // sums per XDP verdict
	Total           counterRow   `json:"total"`
}

// counterSums are the counters, their sums per verdict and their total.
type counterSums struct {
	rows, actions []counterRow
	total         counterRow
}

func sumCounters(c xdp.Counters) counterSums {
	s := counterSums{rows: counterRows(c), total: counterRow{Name: "total"}}
	for _, a := range []string{actionPass, actionTX, actionRedirect} {
		s.actions = append(s.actions, counterRow{Name: a, Action: a})
	}
	for _, r := range s.rows {
		for i := range s.actions {
			if s.actions[i].Action == r.Action {
				s.actions[i].Packets += r.Packets
				s.actions[i].Bytes += r.Bytes
			}
		}
		s.total.Packets += r.Packets
		s.total.Bytes += r.Bytes
	}
	return s
}

// view sums the counters per verdict and computes the rates.
func (s statsView) view() statsJSON {
	now := sumCounters(s.Counters)
	v := statsJSON{Instance: s.Instance, Counters: now.rows, Actions: now.actions, Total: now.total}
	if s.Before == nil || s.Elapsed <= 0 {
		return v
	}
	was := sumCounters(*s.Before)
	v.IntervalSeconds = s.Elapsed.Seconds()
	for i := range v.Counters {
		setRates(&v.Counters[i], was.rows[i], s.Elapsed)
	}
	for i := range v.Actions {
		setRates(&v.Actions[i], was.actions[i], s.Elapsed)
	}
	setRates(&v.Total, was.total, s.Elapsed)
	return v
}

// setRates sets r's rates from the reading before it, elapsed earlier.
// Counters only grow; a smaller one (never expected) counts as no change.
func setRates(r *counterRow, before counterRow, elapsed time.Duration) {
	dp, db := uint64(0), uint64(0)
	if r.Packets >= before.Packets && r.Bytes >= before.Bytes {
		dp, db = r.Packets-before.Packets, r.Bytes-before.Bytes
	}
	pps, bps := float64(dp)/elapsed.Seconds(), float64(db)*8/elapsed.Seconds()
	r.PacketsPerSecond, r.BitsPerSecond = &pps, &bps
}

func (v statsJSON) text(w io.Writer) {
	rates := v.IntervalSeconds > 0
	fmt.Fprintf(w, "instance %s", v.Instance)
	if rates {
		fmt.Fprintf(w, ", rates over %.2f s", v.IntervalSeconds)
	}
	fmt.Fprintln(w)
	header := fmt.Sprintf("%-20s %-12s %12s %16s", "counter", "action", "packets", "bytes")
	if rates {
		header += fmt.Sprintf(" %8s %8s", "pkt/s", "bit/s")
	}
	fmt.Fprintln(w, header)
	row := func(name, action string, r counterRow) {
		line := fmt.Sprintf("%-20s %-12s %12d %16d", name, action, r.Packets, r.Bytes)
		if rates && r.PacketsPerSecond != nil {
			line += fmt.Sprintf(" %8s %8s", siRate(*r.PacketsPerSecond), siRate(*r.BitsPerSecond))
		}
		fmt.Fprintln(w, line)
	}
	for _, r := range v.Counters {
		row(r.Name, r.Action, r)
	}
	for _, r := range v.Actions {
		row(r.Name, "", r)
	}
	row(v.Total.Name, "", v.Total)
}

// siRate writes a rate with an SI prefix and three significant digits:
// 0, 12.5, 999, 1.20k, 45.6M, 9.41G.
func siRate(v float64) string {
	if v < 0.05 {
		return "0"
	}
	prefixes := []string{"", "k", "M", "G", "T", "P"}
	i := 0
	for v >= 999.5 && i < len(prefixes)-1 {
		v /= 1000
		i++
	}
	switch {
	case i == 0 && v < 99.95:
		return fmt.Sprintf("%.1f", v)
	case i == 0:
		return fmt.Sprintf("%.0f", v)
	case v < 9.995:
		return fmt.Sprintf("%.2f%s", v, prefixes[i])
	case v < 99.95:
		return fmt.Sprintf("%.1f%s", v, prefixes[i])
	}
	return fmt.Sprintf("%.0f%s", v, prefixes[i])
}
