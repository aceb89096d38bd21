package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// nodeCommands are the local API client commands, zerotier-cli's: info,
// listpeers, peers, listmoons, orbit, deorbit, listnetworks, join, leave,
// set, get; and ping (ztx).
func nodeCommands() []*cli.Command { return newNodeCommands(defaultClientEnv()) }

func newNodeCommands(env clientEnv) []*cli.Command {
	// action wraps a command body with its client and positional args.
	action := func(name string, body clientAction) cli.ActionFunc {
		return func(c *cli.Context) error {
			args, err := interspersed(c)
			if err != nil {
				return err
			}
			a, err := newAPIClient(c, env, name)
			if err != nil {
				return err
			}
			return body(c, a, args)
		}
	}
	return append([]*cli.Command{
		{
			Name:    "info",
			Aliases: []string{"status"},
			Usage:   "print the node's address, version and state (ONLINE, OFFLINE or TUNNELED)",
			Flags:   clientFlags(),
			Action:  action("info", nodeInfo),
		},
		{
			Name:   "listpeers",
			Usage:  "list peers, one line each: address, preferred path, latency, version, role",
			Flags:  clientFlags(),
			Action: action("listpeers", nodeListPeers),
		},
		{
			Name:   "peers",
			Usage:  "list peers as a table",
			Flags:  clientFlags(),
			Action: action("peers", nodePeers),
		},
		{
			Name:   "listmoons",
			Usage:  "list the moons orbited (JSON)",
			Flags:  clientFlags(),
			Action: action("listmoons", nodeListMoons),
		},
		{
			Name:      "orbit",
			Usage:     "orbit a moon, asking the seed node for it",
			ArgsUsage: "WORLD_ID SEED",
			Flags:     clientFlags(),
			Action:    action("orbit", nodeOrbit),
		},
		{
			Name:      "deorbit",
			Usage:     "leave a moon",
			ArgsUsage: "WORLD_ID",
			Flags:     clientFlags(),
			Action:    action("deorbit", nodeDeorbit),
		},
		pingCommand(env, action),
	}, networkCommands(action)...)
}

func nodeInfo(c *cli.Context, a *apiClient, _ []string) error {
	v, err := a.getJSON(c.Context, "/status")
	if err != nil {
		return err
	}
	if a.json {
		fmt.Fprintln(a.out, prettyJSON(v))
		return nil
	}
	if j := jobj(v); j != nil {
		state := "OFFLINE"
		switch {
		case jbool(j["tcpFallbackActive"]):
			state = "TUNNELED"
		case jbool(j["online"]):
			state = "ONLINE"
		}
		fmt.Fprintf(a.out, "200 info %s %s %s\n", jstr(j["address"], "-"), jstr(j["version"], "-"), state)
	}
	return nil
}

// peerRow is what listpeers and peers show of a peer.
type peerRow struct {
	address, version, role string
	latency                int64
	tunneled               bool
	// The preferred path, if any: address and ages (-1: never).
	path           string
	lastTX, lastRX int64
}

func peerRows(v any, now int64) []peerRow {
	var rows []peerRow
	for _, pv := range jarr(v) {
		p := jobj(pv)
		r := peerRow{
			address:  jstr(p["address"], "-"),
			version:  "-",
			role:     jstr(p["role"], "-"),
			latency:  jint(p["latency"], 0),
			tunneled: jbool(p["tunneled"]),
		}
		if maj := jint(p["versionMajor"], -1); maj >= 0 {
			r.version = fmt.Sprintf("%d.%d.%d", maj, jint(p["versionMinor"], -1), jint(p["versionRev"], -1))
		}
		for _, pp := range jarr(p["paths"]) {
			path := jobj(pp)
			if !jbool(path["preferred"]) {
				continue
			}
			age := func(t int64) int64 {
				if t == 0 {
					return -1
				}
				return now - t
			}
			r.path = jstr(path["address"], "")
			r.lastTX, r.lastRX = age(jint(path["lastSend"], 0)), age(jint(path["lastReceive"], 0))
			break
		}
		rows = append(rows, r)
	}
	return rows
}

func nodeListPeers(c *cli.Context, a *apiClient, _ []string) error {
	v, err := a.getJSON(c.Context, "/peer")
	if err != nil {
		return err
	}
	if a.json {
		fmt.Fprintln(a.out, prettyJSON(v))
		return nil
	}
	fmt.Fprintln(a.out, "200 listpeers <ztaddr> <path> <latency> <version> <role>")
	for _, r := range peerRows(v, a.env.now()) {
		path := "-"
		if r.path != "" {
			path = fmt.Sprintf("%s;%d;%d", r.path, r.lastTX, r.lastRX)
		}
		fmt.Fprintf(a.out, "200 listpeers %s %s %d %s %s\n", r.address, path, r.latency, r.version, r.role)
	}
	return nil
}

func nodePeers(c *cli.Context, a *apiClient, _ []string) error {
	v, err := a.getJSON(c.Context, "/peer")
	if err != nil {
		return err
	}
	if a.json {
		fmt.Fprintln(a.out, prettyJSON(v))
		return nil
	}
	fmt.Fprintln(a.out, "200 peers\n<ztaddr>   <ver>  <role> <lat> <link>   <lastTX> <lastRX> <path>")
	anyTunneled := false
	var relayed []string
	for _, r := range peerRows(v, a.env.now()) {
		anyTunneled = anyTunneled || r.tunneled
		link := "RELAY"
		switch {
		case r.path == "":
			relayed = append(relayed, r.address)
		case r.tunneled:
			link = fmt.Sprintf("RELAY %-8d %-8d %s", r.lastTX, r.lastRX, r.path)
		default:
			link = fmt.Sprintf("DIRECT   %-8d %-8d %s", r.lastTX, r.lastRX, r.path)
		}
		fmt.Fprintf(a.out, "%s %-6s %-6s %5d %s\n", r.address, r.version, r.role, r.latency, link)
	}
	if anyTunneled {
		fmt.Fprintln(a.out, "NOTE: Currently tunneling through a TCP relay. Ensure that UDP is not blocked.")
	}
	if len(relayed) > 0 {
		fmt.Fprintf(a.out, "NOTE: No direct path to %s: traffic is relayed through a root.\n", strings.Join(relayed, ", "))
	}
	return nil
}

func nodeListMoons(c *cli.Context, a *apiClient, _ []string) error {
	v, err := a.getJSON(c.Context, "/moon")
	if err != nil {
		return err
	}
	fmt.Fprintln(a.out, prettyJSON(v))
	return nil
}

// moonPathID is the /moon/<id> component for a world ID typed in hex:
// the API addresses world IDs as 10 hex digits, so 000000deadbeef00 (as
// listmoons prints it) and deadbeef00 both become deadbeef00.
func moonPathID(s string) (string, error) {
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil || v == 0 {
		return "", fmt.Errorf("world ID %q is not a non-zero hex number", s)
	}
	if v >= 1<<40 {
		return "", fmt.Errorf("world ID %s is beyond the 10 hex digits the local API addresses", s)
	}
	return fmt.Sprintf("%010x", v), nil
}

func argError(cmd string, err error) error {
	return &exitError{code: 2, msg: fmt.Sprintf("ztctl %s: %v", cmd, err)}
}

func nodeOrbit(c *cli.Context, a *apiClient, args []string) error {
	if len(args) != 2 {
		return argError("orbit", fmt.Errorf("usage: orbit WORLD_ID SEED"))
	}
	id, err := moonPathID(args[0])
	if err != nil {
		return argError("orbit", err)
	}
	if seed, err := strconv.ParseUint(args[1], 16, 64); err != nil || seed == 0 {
		return argError("orbit", fmt.Errorf("seed %q is not a non-zero hex address", args[1]))
	}
	body := fmt.Appendf(nil, `{"seed":%q}`, args[1])
	code, resp, err := a.do(c.Context, http.MethodPost, "/moon/"+id, body, apiTimeout)
	if err != nil {
		return a.connectFailed(err)
	}
	if code != http.StatusOK {
		return a.failed(code, resp)
	}
	fmt.Fprintln(a.out, "200 orbit OK")
	return nil
}

func nodeDeorbit(c *cli.Context, a *apiClient, args []string) error {
	if len(args) != 1 {
		return argError("deorbit", fmt.Errorf("usage: deorbit WORLD_ID"))
	}
	id, err := moonPathID(args[0])
	if err != nil {
		return argError("deorbit", err)
	}
	code, resp, err := a.do(c.Context, http.MethodDelete, "/moon/"+id, nil, apiTimeout)
	if err != nil {
		return a.connectFailed(err)
	}
	if code != http.StatusOK {
		return a.failed(code, resp)
	}
	if a.json {
		fmt.Fprintln(a.out, strings.TrimRight(string(resp), "\n"))
	} else {
		fmt.Fprintln(a.out, "200 deorbit OK")
	}
	return nil
}
