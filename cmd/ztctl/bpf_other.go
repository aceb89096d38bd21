//go:build !linux

package main

import "github.com/urfave/cli/v2"

// bpfCommand stands in for ztctl bpf, which reads Linux's BPF file system.
func bpfCommand() *cli.Command {
	return &cli.Command{
		Name:  "bpf",
		Usage: "inspect the XDP fast path (Linux only)",
		Action: func(*cli.Context) error {
			return fail("ztctl bpf: the XDP fast path exists on Linux only")
		},
	}
}
