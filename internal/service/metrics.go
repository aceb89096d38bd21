package service

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ztx/ztx/controlplane/vl2"
	"github.com/ztx/ztx/dataplane/xdp"
)

// /metrics series of the daemon's VL2 and XDP data planes:
//
//	ztx_networks{status}                    gauge: joined networks by status
//	ztx_vl2_frames_total{direction}         counter: unicast frames, in|out
//	ztx_vl2_multicast_frames_total{direction} counter: multicast frames, in|out
//	ztx_vl2_dropped_frames_total{reason}    counter
//	ztx_vl2_configs_total{result}           counter: applied|rejected
//	ztx_xdp_packets_total{counter}          counter: the XDP program's outcomes
//	ztx_xdp_bytes_total{counter}            counter
var (
	descNetworks  = prometheus.NewDesc("ztx_networks", "joined virtual networks, by status", []string{"status"}, nil)
	descFrames    = prometheus.NewDesc("ztx_vl2_frames_total", "unicast Ethernet frames carried", []string{"direction"}, nil)
	descMulticast = prometheus.NewDesc("ztx_vl2_multicast_frames_total", "multicast and broadcast frames carried", []string{"direction"}, nil)
	descVL2Drops  = prometheus.NewDesc("ztx_vl2_dropped_frames_total", "VL2 frames and credentials dropped, by reason", []string{"reason"}, nil)
	descConfigs   = prometheus.NewDesc("ztx_vl2_configs_total", "network configs received", []string{"result"}, nil)
	descXDPPkts   = prometheus.NewDesc("ztx_xdp_packets_total", "packets seen by the XDP program, by outcome", []string{"counter"}, nil)
	descXDPBytes  = prometheus.NewDesc("ztx_xdp_bytes_total", "bytes seen by the XDP program, by outcome", []string{"counter"}, nil)
)

// metricsCollector is the Service's part of /metrics.
type metricsCollector struct{ s *Service }

func (c metricsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descNetworks, descFrames, descMulticast, descVL2Drops, descConfigs, descXDPPkts, descXDPBytes} {
		ch <- d
	}
}

func (c metricsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	if s.sw != nil {
		byStatus := map[vl2.Status]int{}
		for _, id := range s.sw.Networks() {
			if in, ok := s.sw.Info(id); ok {
				byStatus[in.Status]++
			}
		}
		for st, n := range byStatus {
			ch <- prometheus.MustNewConstMetric(descNetworks, prometheus.GaugeValue, float64(n), st.String())
		}
		k := s.sw.Stats()
		counter := func(d *prometheus.Desc, v uint64, label string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), label)
		}
		counter(descFrames, k.FramesIn, "in")
		counter(descFrames, k.FramesOut, "out")
		counter(descMulticast, k.MulticastIn, "in")
		counter(descMulticast, k.MulticastOut, "out")
		for _, d := range []struct {
			reason string
			v      uint64
		}{
			{"gate", k.DroppedGate}, {"no_network", k.DroppedNoNetwork}, {"bridging", k.DroppedBridging},
			{"multicast", k.DroppedMulticast}, {"malformed", k.DroppedMalformed}, {"credential", k.DroppedCredential},
			{"too_big", k.DroppedTooBig}, {"rules", k.DroppedFilter},
		} {
			counter(descVL2Drops, d.v, d.reason)
		}
		counter(descConfigs, k.ConfigsApplied, "applied")
		counter(descConfigs, k.ConfigsRejected, "rejected")
	}
	if xc, ok := s.XDPCounters(); ok {
		for i, v := range xc {
			name := xdp.Counter(i).String()
			ch <- prometheus.MustNewConstMetric(descXDPPkts, prometheus.CounterValue, float64(v.Packets), name)
			ch <- prometheus.MustNewConstMetric(descXDPBytes, prometheus.CounterValue, float64(v.Bytes), name)
		}
	}
}
