package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/internal/capture"
	"github.com/ztx/ztx/internal/wiredecode"
)

func wireCommand() *cli.Command {
	return &cli.Command{
		Name:  "wire",
		Usage: "inspect ZeroTier traffic",
		Subcommands: []*cli.Command{{
			Name:      "decode",
			Usage:     "decode the ZeroTier packets of a pcap or pcapng capture",
			ArgsUsage: "CAPTURE",
			Description: "For every UDP datagram: header fields, fragments (reassembled), cipher suite and,\n" +
				"when a secret identity of either end is given, the MAC check, the verb and the decoded\n" +
				"payload. Public identities are learned from HELLO and OK(WHOIS) as they pass.",
			Flags: []cli.Flag{
				&cli.StringSliceFlag{Name: "identity", Aliases: []string{"i"}, Usage: "identity file (secret or public), repeatable"},
				&cli.BoolFlag{Name: "json", Aliases: []string{"j"}, Usage: "JSON output"},
				&cli.BoolFlag{Name: "hex", Aliases: []string{"x"}, Usage: "also print each plaintext payload in hex"},
			},
			Action: wireDecode,
		}},
	}
}

func wireDecode(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError(c)
	}
	var ids []*identity.Identity
	for _, f := range c.StringSlice("identity") {
		id, err := identityFromArg(f)
		if err != nil {
			return fail("identity %s: %v", f, err)
		}
		ids = append(ids, id)
	}
	f, err := os.Open(c.Args().First())
	if err != nil {
		return fail("%v", err)
	}
	defer f.Close()
	rd, err := capture.Open(f)
	if err != nil {
		return fail("%s: %v", c.Args().First(), err)
	}
	dec := wiredecode.New(ids...)
	var records []wiredecode.Record
	for {
		dg, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail("%v", err)
		}
		// A capture taken on the sender may hold UDP GSO super-packets.
		for _, p := range wiredecode.SplitGSO(dg.Payload) {
			r := dec.Decode(wiredecode.Datagram{Frame: dg.Frame, Time: dg.Time, Src: dg.Src, Dst: dg.Dst, Payload: p})
			if c.Bool("json") {
				records = append(records, r)
			} else {
				printRecord(c.App.Writer, &r, c.Bool("hex"))
			}
		}
	}
	if c.Bool("json") {
		out := struct {
			Packets []wiredecode.Record `json:"packets"`
			Stats   wiredecode.Stats    `json:"stats"`
			Skipped int                 `json:"skippedFrames"`
		}{records, dec.Stats, rd.Skipped}
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", " ")
		return enc.Encode(out)
	}
	s := dec.Stats
	fmt.Fprintf(c.App.Writer, "%d ZeroTier packets: %d authenticated, %d failed, %d without keys; %d fragments; %d other datagrams; %d non-UDP frames\n",
		s.Packets, s.Authenticated, s.Failed, s.NoKey, s.Fragments, s.Other, rd.Skipped)
	return nil
}

// printRecord writes one record as a header line and an indented detail.
func printRecord(w io.Writer, r *wiredecode.Record, withHex bool) {
	fmt.Fprintf(w, "#%d %.4f %s -> %s len=%d ", r.Frame, r.Time, r.Src, r.Dst, r.Len)
	switch r.Kind {
	case "other":
		fmt.Fprintf(w, "not ZeroTier data=%s\n", r.Data)
		return
	case "beacon":
		fmt.Fprintf(w, "beacon from %s\n", r.Source)
		return
	case "fragment":
		fmt.Fprintf(w, "fragment %d/%d of %s to %s hops=%d", r.FragmentNumber, r.FragmentTotal, r.PacketID, r.Dest, r.Hops)
		if !r.Assembled {
			fmt.Fprintln(w)
			if r.Error != "" {
				fmt.Fprintf(w, "    error: %s\n", r.Error)
			}
			return
		}
		fmt.Fprintf(w, " -> assembled %d bytes\n    ", r.AssembledLen)
	}
	fmt.Fprintf(w, "%s -> %s id=%s cipher=%s hops=%d", r.Source, r.Dest, r.PacketID, r.Cipher, r.Hops)
	if r.Fragmented {
		fmt.Fprint(w, " fragmented")
	}
	if r.Auth != "" {
		fmt.Fprintf(w, " auth=%s", r.Auth)
	}
	if r.Verb != "" {
		fmt.Fprintf(w, " verb=%s", r.Verb)
		if r.Compressed {
			fmt.Fprint(w, " (lz4)")
		}
	}
	fmt.Fprintln(w)
	if r.Summary != "" {
		fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(r.Summary, "\n", "\n    "))
	}
	if det := r.Details; det != nil {
		for _, wd := range det.Worlds {
			fmt.Fprintf(w, "    world update: %s %016x timestamp %d, %d roots\n", wd.Type, wd.ID, wd.Timestamp, len(wd.Roots))
		}
		for _, cr := range det.Credentials {
			fmt.Fprintf(w, "    %s network=%s to=%s ts=%d id=%d %s signature=%s\n", cr.Kind, cr.NetworkID, cr.IssuedTo, cr.Timestamp, cr.ID, cr.Summary, cr.Signature)
		}
		if det.ConfigSignature != "" {
			fmt.Fprintf(w, "    controller signature: %s\n", det.ConfigSignature)
		}
		if len(det.Config) > 0 {
			parts := make([]string, 0, len(det.Config))
			for _, e := range det.Config {
				parts = append(parts, e.Key+"="+e.Value)
			}
			fmt.Fprintf(w, "    network config (%d keys): %s\n", len(det.Config), strings.Join(parts, " "))
		}
	}
	if withHex && r.Plaintext != "" {
		fmt.Fprintf(w, "    payload=%s\n", r.Plaintext)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "    error: %s\n", r.Error)
	}
}
