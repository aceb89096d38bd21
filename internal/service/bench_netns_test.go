package service

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/ztx/ztx/internal/netns"
)

// BenchmarkIperf3 measures TCP throughput (iperf3, 5 s per run) between
// two members of a virtual network over the userspace data path, and over
// the raw veth underlay between the same namespaces, alternating, three
// runs each; it reports the medians and their ratio. Run it alone:
//
//	go test -run '^$' -bench Iperf3 -benchtime 1x ./internal/service
func BenchmarkIperf3(b *testing.B) {
	netns.RequireCommands(b, "iperf3")
	v := newVnet(b)
	for _, n := range []*testNode{v.a, v.b} {
		if err := n.svc.JoinNetwork(v.nwid); err != nil {
			b.Fatal(err)
		}
	}
	_, ipB := v.authorize(b)
	eventually(b, 20*time.Second, "A pings B", func() bool { return pings(v.nsA, b, ipB, 1) })
	srv := v.nsB.Start(b, "iperf3", "-s")
	defer srv.Stop()
	time.Sleep(300 * time.Millisecond)
	raw := v.seg.Addr(v.nsB)
	var rawRuns, ztRuns []float64
	for i := 0; i < b.N; i++ {
		rawRuns, ztRuns = nil, nil
		for range 3 {
			rawRuns = append(rawRuns, iperf3(b, v.nsA, raw))
			ztRuns = append(ztRuns, iperf3(b, v.nsA, ipB))
		}
	}
	r, z := median(rawRuns), median(ztRuns)
	b.ReportMetric(r, "raw-Gbit/s")
	b.ReportMetric(z, "ztx-Gbit/s")
	b.ReportMetric(100*z/r, "%-of-raw")
	b.Logf("raw veth runs %v Gbit/s, ztx userspace runs %v Gbit/s", rawRuns, ztRuns)
}

// iperf3 runs one 5 s TCP test from ns to the server at to; Gbit/s.
func iperf3(tb testing.TB, ns *netns.NS, to netip.Addr) float64 {
	tb.Helper()
	r, err := runIperf3(tb, ns, to, 5)
	if err != nil {
		tb.Fatal(err)
	}
	return r.Gbps
}

// iperf3Result is what runIperf3 reads from iperf3's JSON summary.
type iperf3Result struct {
	Bytes int64   // received
	Gbps  float64 // received, Gbit/s
}

// runIperf3 runs an iperf3 TCP client in ns against the server at to for
// secs seconds.
func runIperf3(tb testing.TB, ns *netns.NS, to netip.Addr, secs int) (iperf3Result, error) {
	out, err := ns.Command(tb.Context(), "iperf3", "-c", to.String(), "-t", fmt.Sprint(secs), "-J").Output()
	if err != nil {
		return iperf3Result{}, fmt.Errorf("iperf3 to %s: %v\n%s", to, err, out)
	}
	var res struct {
		End struct {
			SumReceived struct {
				Bytes         int64   `json:"bytes"`
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return iperf3Result{}, fmt.Errorf("iperf3 output: %w", err)
	}
	return iperf3Result{Bytes: res.End.SumReceived.Bytes, Gbps: res.End.SumReceived.BitsPerSecond / 1e9}, nil
}

func median(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := slices.Clone(x)
	slices.Sort(s)
	return s[len(s)/2]
}
