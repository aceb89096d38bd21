package api

import (
	"net/http"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/headers/packet"
)

// /metrics: the reference's metric names where ztx has the data
// (node/Metrics.cpp, node/Peer.cpp), ztx_* names for the rest.
//
//	zt_peer_latency{node_id}              histogram, the reference's buckets
//	zt_peer_path_count{node_id,status}    gauge, status alive|dead
//	ztx_node_online                       gauge 0/1
//	ztx_peers{role}                       gauge, LEAF|MOON|PLANET
//	ztx_peer_direct{node_id}              gauge 0/1: a live direct path
//	ztx_vl1_packets_total{direction}      counter, rx|tx
//	ztx_vl1_relayed_packets_total         counter
//	ztx_vl1_dropped_packets_total{reason} counter
//
// The reference observes each peer's latency on every ping pass (5 s);
// ztx observes it when scraped, at most once per latencySamplePeriod.
// The reference's zt_packet, zt_packet_error, zt_data and zt_peer_packets
// need per-verb, per-peer and byte counts that the VL1 core does not keep.

const latencySamplePeriod = 5000 // ms

// latencyBuckets are the reference's zt_peer_latency buckets (ms).
var latencyBuckets = []float64{1, 3, 6, 10, 30, 60, 100, 300, 600, 1000}

var (
	descPathCount = prometheus.NewDesc("zt_peer_path_count", "number of paths to peer", []string{"node_id", "status"}, nil)
	descOnline    = prometheus.NewDesc("ztx_node_online", "1 when an upstream (root) was heard from recently", nil, nil)
	descPeers     = prometheus.NewDesc("ztx_peers", "number of peers held in memory, by role", []string{"role"}, nil)
	descDirect    = prometheus.NewDesc("ztx_peer_direct", "1 when the peer has a live direct path, 0 when it is relayed", []string{"node_id"}, nil)
	descPackets   = prometheus.NewDesc("ztx_vl1_packets_total", "VL1 datagrams received and sent", []string{"direction"}, nil)
	descRelayed   = prometheus.NewDesc("ztx_vl1_relayed_packets_total", "VL1 packets relayed for other nodes", nil, nil)
	descDropped   = prometheus.NewDesc("ztx_vl1_dropped_packets_total", "VL1 packets dropped, by reason", []string{"reason"}, nil)
	descPacket    = prometheus.NewDesc("zt_packet", "ZeroTier packet type counts", []string{"packet_type", "direction"}, nil)
)

type metrics struct {
	s       *Service
	handler http.Handler
	latency *prometheus.HistogramVec

	mu         sync.Mutex
	sampled    bool
	lastSample int64
	series     map[string]bool // node_ids with a latency histogram
}

func newMetrics(s *Service) *metrics {
	m := &metrics{
		s: s,
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "zt_peer_latency", Help: "peer latency (ms)", Buckets: latencyBuckets,
		}, []string{"node_id"}),
		series: map[string]bool{},
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.latency, collector{s})
	for _, c := range s.Collectors {
		if c != nil {
			reg.MustRegister(c)
		}
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return m
}

func (m *metrics) serve(w http.ResponseWriter, r *http.Request) {
	m.sample(m.s.now())
	m.handler.ServeHTTP(w, r)
}

// sample observes every peer's latency, and forgets the histograms of
// peers that are gone.
func (m *metrics) sample(now int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sampled && now-m.lastSample < latencySamplePeriod && now >= m.lastSample {
		return
	}
	m.sampled, m.lastSample = true, now
	present := map[string]bool{}
	for _, p := range m.s.Node.Peers(now) {
		id := p.Address.String()
		present[id] = true
		if p.Latency >= 0 && p.Latency < 0xffff {
			m.latency.WithLabelValues(id).Observe(float64(p.Latency))
			m.series[id] = true
		}
	}
	for id := range m.series {
		if !present[id] {
			m.latency.DeleteLabelValues(id)
			delete(m.series, id)
		}
	}
}

// collector reads the node's state at scrape time.
type collector struct{ s *Service }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPathCount, descOnline, descPeers, descDirect, descPackets, descRelayed, descDropped} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	now := s.now()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(descOnline, b2f(s.Node.Status(now).Online))
	roles := map[vl1.Role]int{vl1.RoleLeaf: 0, vl1.RoleMoon: 0, vl1.RolePlanet: 0}
	for _, p := range s.Node.Peers(now) {
		id := p.Address.String()
		roles[p.Role]++
		alive, dead := 0, 0
		for _, pp := range p.Paths {
			if pathAlive(now, pp) {
				alive++
			} else {
				dead++
			}
		}
		gauge(descPathCount, float64(alive), id, "alive")
		gauge(descPathCount, float64(dead), id, "dead")
		gauge(descDirect, b2f(p.Direct), id)
	}
	for role, n := range roles {
		gauge(descPeers, float64(n), string(role))
	}
	if s.Counters == nil {
		return
	}
	k := s.Counters()
	counter(descPackets, k.Received, "rx")
	counter(descPackets, k.Sent, "tx")
	counter(descRelayed, k.Relayed)
	for v := range 32 {
		name := packetType(packet.Verb(v))
		if name == "" {
			continue
		}
		counter(descPacket, k.RxVerbs[v], name, "rx")
		counter(descPacket, k.TxVerbs[v], name, "tx")
	}
	for _, d := range []struct {
		reason string
		n      uint64
	}{
		{"malformed", k.DroppedMalformed},
		{"mac", k.DroppedMAC},
		{"unknown_suite", k.DroppedUnknownSuite},
		{"untrusted_path", k.DroppedUntrust},
		{"rate_limited", k.DroppedRateLimited},
		{"hops", k.DroppedHops},
		{"unexpected_reply", k.DroppedUnexpectedReply},
		{"queue_full", k.DroppedQueueFull},
		{"queue_timeout", k.DroppedQueueTimeout},
		{"bad_identity", k.DroppedBadIdentity},
		{"duplicate", k.DroppedDuplicate},
	} {
		counter(descDropped, d.n, d.reason)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// packetType is the reference's packet_type label of a verb ("" for verbs
// it has none for).
func packetType(v packet.Verb) string {
	if !v.Known() {
		return ""
	}
	if v == packet.VerbQoSMeasurement {
		return "qos"
	}
	return strings.ToLower(v.String())
}
