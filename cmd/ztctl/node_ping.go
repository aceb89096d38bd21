package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ztx/ztx/crypto/identity"
)

// clientAction is a client command's body.
type clientAction func(c *cli.Context, a *apiClient, args []string) error

// pingCommand is ztx's ping: VL1 ECHOs sent by the local node (the
// /ztx/ping extension of the local API), one line per reply.
func pingCommand(env clientEnv, action func(string, clientAction) cli.ActionFunc) *cli.Command {
	return &cli.Command{
		Name:      "ping",
		Usage:     "send VL1 ECHOs through the local node and print the round trips (ztx nodes only)",
		ArgsUsage: "ADDRESS",
		Flags: append(clientFlags(),
			&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Value: 4, Usage: "stop after N pings; 0: until interrupted"},
			&cli.Float64Flag{Name: "interval", Aliases: []string{"i"}, Value: 1, Usage: "seconds between pings"},
			&cli.IntFlag{Name: "size", Aliases: []string{"s"}, Value: 56, Usage: "ECHO payload bytes"},
			&cli.Float64Flag{Name: "timeout", Aliases: []string{"W"}, Value: 5, Usage: "seconds to wait for each reply (at most 60)"},
		),
		Action: action("ping", nodePing),
	}
}

// pingReply is /ztx/ping's answer.
type pingReply struct {
	Address string `json:"address"`
	From    string `json:"from"`
	Relayed bool   `json:"relayed"`
	RTT     int64  `json:"rtt"`
}

func nodePing(c *cli.Context, a *apiClient, args []string) error {
	if len(args) != 1 {
		return argError("ping", fmt.Errorf("usage: ping ADDRESS [-c N] [-i SECONDS] [-s BYTES] [-W SECONDS]"))
	}
	addr, err := identity.ParseAddress(args[0])
	if err != nil {
		return argError("ping", err)
	}
	count, size := c.Int("count"), c.Int("size")
	interval := time.Duration(c.Float64("interval") * float64(time.Second))
	timeout := time.Duration(c.Float64("timeout") * float64(time.Second))
	switch {
	case count < 0:
		return argError("ping", fmt.Errorf("count must not be negative"))
	case size < 0:
		return argError("ping", fmt.Errorf("size must not be negative"))
	case interval < 0:
		return argError("ping", fmt.Errorf("interval must not be negative"))
	case timeout < time.Millisecond || timeout > time.Minute:
		return argError("ping", fmt.Errorf("timeout must be from 0.001 to 60 seconds"))
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
	defer stop()

	path := fmt.Sprintf("/ztx/ping/%s?size=%d&timeout=%d", addr, size, timeout.Milliseconds())
	if !a.json {
		fmt.Fprintf(a.out, "PING %s: %d bytes of ECHO payload\n", addr, size)
	}
	var replies []pingReply
	sent := 0
	for seq := 1; count == 0 || seq <= count; seq++ {
		start := time.Now()
		code, body, err := a.do(ctx, http.MethodPost, path, nil, timeout+10*time.Second)
		if ctx.Err() != nil {
			break // interrupted: this one does not count
		}
		if err != nil {
			return a.connectFailed(err)
		}
		sent++
		switch code {
		case http.StatusOK:
			var r pingReply
			if err := json.Unmarshal(body, &r); err != nil {
				fmt.Fprintf(a.out, "%d %s invalid JSON response (%v)\n", code, a.cmd, err)
				return &exitError{code: 1}
			}
			replies = append(replies, r)
			if !a.json {
				how := "direct via"
				if r.Relayed {
					how = "relayed via"
				}
				fmt.Fprintf(a.out, "reply from %s: rtt=%d ms %s %s\n", r.Address, r.RTT, how, r.From)
			}
		case http.StatusGatewayTimeout:
			if !a.json {
				fmt.Fprintf(a.out, "no reply from %s within %d ms\n", addr, timeout.Milliseconds())
			}
		case http.StatusNotFound:
			err := a.failed(code, body)
			fmt.Fprintln(c.App.ErrWriter, "ztctl ping: the node has no /ztx/ping (ZeroTier One does not offer it)")
			return err
		default:
			return a.failed(code, body)
		}
		if count != 0 && seq == count {
			break
		}
		if !sleep(ctx, interval-time.Since(start)) {
			break
		}
	}

	if a.json {
		if replies == nil {
			replies = []pingReply{}
		}
		out, _ := json.Marshal(struct {
			Address  string      `json:"address"`
			Received int         `json:"received"`
			Replies  []pingReply `json:"replies"`
			Sent     int         `json:"sent"`
		}{addr.String(), len(replies), replies, sent})
		v, _ := parseJSON(out)
		fmt.Fprintln(a.out, prettyJSON(v))
	} else {
		fmt.Fprintf(a.out, "--- %s ping statistics ---\n", addr)
		loss := 0
		if sent > 0 {
			loss = (sent - len(replies)) * 100 / sent
		}
		fmt.Fprintf(a.out, "%d sent, %d received, %d%% loss", sent, len(replies), loss)
		if len(replies) > 0 {
			lo, hi, sum := replies[0].RTT, replies[0].RTT, int64(0)
			for _, r := range replies {
				lo, hi, sum = min(lo, r.RTT), max(hi, r.RTT), sum+r.RTT
			}
			fmt.Fprintf(a.out, ", rtt min/avg/max = %d/%d/%d ms", lo, sum/int64(len(replies)), hi)
		}
		fmt.Fprintln(a.out)
	}
	if len(replies) == 0 {
		return &exitError{code: 1}
	}
	return nil
}

// sleep waits d unless ctx ends first; it reports whether to go on.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
