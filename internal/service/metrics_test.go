package service

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ztx/ztx/controlplane/vl2"
	"github.com/ztx/ztx/internal/testvec"
)

type nopHost struct{}

func (nopHost) WriteFrame(uint64, vl2.MAC, vl2.MAC, uint16, []byte) {}
func (nopHost) NetworkChanged(uint64)                               {}

func TestMetricsCollector(t *testing.T) {
	sw, err := vl2.New(vl2.Config{Identity: testvec.Identity(t, "id2.secret"), Host: nopHost{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Join(0, 0x8056c2e21c000001, nil); err != nil {
		t.Fatal(err)
	}
	s := &Service{sw: sw}
	want := `
# HELP ztx_networks joined virtual networks, by status
# TYPE ztx_networks gauge
ztx_networks{status="REQUESTING_CONFIGURATION"} 1
# HELP ztx_vl2_configs_total network configs received
# TYPE ztx_vl2_configs_total counter
ztx_vl2_configs_total{result="applied"} 0
ztx_vl2_configs_total{result="rejected"} 0
`
	if err := testutil.CollectAndCompare(metricsCollector{s}, strings.NewReader(want), "ztx_networks", "ztx_vl2_configs_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(metricsCollector{s}, "ztx_vl2_dropped_frames_total"); n != 8 {
		t.Fatalf("%d drop reasons, want 8", n)
	}
}
