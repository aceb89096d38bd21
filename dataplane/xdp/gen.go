package xdp

// The program is bpf/xdp.c; its Go bindings (ztx_bpfel.go, ztx_bpfeb.go) and
// objects (ztx_bpfel.o, ztx_bpfeb.o) are generated and committed, so that
// building needs no clang. `make generate` rebuilds them; TestGeneratedUpToDate
// fails when they are stale.
//
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -tags linux -target bpfel,bpfeb -type node_config -type port_key -type trusted_key -type trusted_path -type nwid_key -type network -type addr_key -type relay_path -type pair_key -type pair -type count -type counter -type instance_info ztx ../../bpf/xdp.c -- -I../../bpf/include -Wall -Werror
