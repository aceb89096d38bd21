package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// zerotier-cli's virtual network commands (PROTOCOL.md part 2 §11):
// listnetworks, join, leave, set and get, with its output and exit codes.
//
// Where ztctl differs: a surplus argument is a usage error (zerotier-cli
// ignores it or lets it replace the previous one); "set" with a setting
// other than the four exits 2 with a message (zerotier-cli does nothing
// and exits 0); "get" matches the network ID in either case; the JSON
// that join -j, leave -j and set print ends with a newline; and a node
// that cannot be reached gets the same message as for the other client
// commands (zerotier-cli prints "0 join connection failed" and the like).

// networkCommands are the virtual network commands.
func networkCommands(action func(string, clientAction) cli.ActionFunc) []*cli.Command {
	return []*cli.Command{
		{
			Name:   "listnetworks",
			Usage:  "list the networks joined, one line each: ID, name, MAC, status, type, device, addresses",
			Flags:  clientFlags(),
			Action: action("listnetworks", nodeListNetworks),
		},
		{
			Name:      "join",
			Usage:     "join a network",
			ArgsUsage: "NETWORK_ID",
			Flags:     clientFlags(),
			Action:    action("join", nodeJoin),
		},
		{
			Name:      "leave",
			Usage:     "leave a network",
			ArgsUsage: "NETWORK_ID",
			Flags:     clientFlags(),
			Action:    action("leave", nodeLeave),
		},
		{
			Name:      "set",
			Usage:     "change a network setting (allowManaged, allowGlobal, allowDefault, allowDNS; a value starting with t or 1 is true) and print the network",
			ArgsUsage: "NETWORK_ID SETTING=VALUE",
			Flags:     clientFlags(),
			Action:    action("set", nodeSet),
		},
		{
			Name: "get",
			Usage: "print a field of the network's JSON (as listnetworks -j shows it), or its assigned addresses: " +
				"ip, ip4, ip6, ip6plane, ip6prefix",
			ArgsUsage: "NETWORK_ID FIELD",
			Flags:     clientFlags(),
			Action:    action("get", nodeGet),
		},
	}
}

// networkArgs returns up to n positional arguments ("" for those
// missing); more than n is a usage error.
func networkArgs(cmd, usage string, args []string, n int) ([]string, error) {
	if len(args) > n {
		return nil, argError(cmd, fmt.Errorf("usage: %s %s", cmd, usage))
	}
	return append(args, make([]string, n-len(args))...), nil
}

func nodeListNetworks(c *cli.Context, a *apiClient, _ []string) error {
	v, err := a.getJSON(c.Context, "/network")
	if err != nil {
		return err
	}
	if a.json {
		fmt.Fprintln(a.out, prettyJSON(v))
		return nil
	}
	fmt.Fprintln(a.out, "200 listnetworks <nwid> <name> <mac> <status> <type> <dev> <ZT assigned ips>")
	for _, nv := range jarr(v) {
		n := jobj(nv)
		if n == nil {
			continue
		}
		var ips []string
		for _, av := range jarr(n["assignedAddresses"]) {
			if s, ok := av.(string); ok {
				ips = append(ips, s)
			}
		}
		aa := strings.Join(ips, ",")
		if aa == "" {
			aa = "-"
		}
		status := cliString(n["status"], "-")
		fmt.Fprintf(a.out, "200 listnetworks %s %s %s %s %s %s %s\n",
			cliString(n["nwid"], "-"), cliString(n["name"], "-"), cliString(n["mac"], "-"), status,
			cliString(n["type"], "-"), cliString(n["portDeviceName"], "-"), aa)
		if !jbool(n["ssoEnabled"]) {
			continue
		}
		switch status {
		case "AUTHENTICATION_REQUIRED":
			fmt.Fprintf(a.out, "    AUTH EXPIRED, URL: %s\n", cliString(n["authenticationURL"], "(null)"))
		case "OK":
			if in := (jint(n["authenticationExpiryTime"], 0) - a.env.now()) / 1000; in >= 0 {
				fmt.Fprintf(a.out, "    AUTH OK, expires in: %d seconds\n", in)
			}
		}
	}
	return nil
}

// checkNetworkID applies zerotier-cli's only check of a join or leave
// argument: its length.
func (a *apiClient) checkNetworkID(id string) error {
	if len(id) != 16 {
		fmt.Fprintln(a.out, "invalid network id")
		return &exitError{code: 2}
	}
	return nil
}

// networkPath is /network/<id as typed>, escaped so that any 16
// characters make a request (which the node then refuses).
func networkPath(id string) string { return "/network/" + url.PathEscape(id) }

// send makes one request and handles failures as zerotier-cli does: it
// returns the body of a 200 answer.
func (a *apiClient) send(c *cli.Context, method, path string, body []byte) ([]byte, error) {
	code, resp, err := a.do(c.Context, method, path, body, apiTimeout)
	if err != nil {
		return nil, a.connectFailed(err)
	}
	if code != http.StatusOK {
		return nil, a.failed(code, resp)
	}
	return resp, nil
}

// printBody prints an answer's JSON as received, ending the line.
func (a *apiClient) printBody(b []byte) {
	fmt.Fprintln(a.out, strings.TrimRight(string(b), "\r\n"))
}

func nodeJoin(c *cli.Context, a *apiClient, args []string) error {
	return joinOrLeave(c, a, args, "join", http.MethodPost, []byte("{}"))
}

func nodeLeave(c *cli.Context, a *apiClient, args []string) error {
	return joinOrLeave(c, a, args, "leave", http.MethodDelete, nil)
}

func joinOrLeave(c *cli.Context, a *apiClient, args []string, cmd, method string, body []byte) error {
	args, err := networkArgs(cmd, "NETWORK_ID", args, 1)
	if err != nil {
		return err
	}
	if err := a.checkNetworkID(args[0]); err != nil {
		return err
	}
	resp, err := a.send(c, method, networkPath(args[0]), body)
	if err != nil {
		return err
	}
	if a.json {
		a.printBody(resp)
	} else {
		fmt.Fprintf(a.out, "200 %s OK\n", cmd)
	}
	return nil
}

// networkSettingKeys are what set changes.
var networkSettingKeys = []string{"allowManaged", "allowGlobal", "allowDefault", "allowDNS"}

func nodeSet(c *cli.Context, a *apiClient, args []string) error {
	const usage = "NETWORK_ID allowManaged|allowGlobal|allowDefault|allowDNS=VALUE"
	args, err := networkArgs("set", usage, args, 2)
	if err != nil {
		return err
	}
	id, kv := args[0], args[1]
	switch {
	case len(id) != 16:
		return &exitError{code: 2, msg: "invalid format: must be a 16-digit (network) ID"}
	case kv == "":
		return &exitError{code: 2, msg: "invalid format: include a property name to set"}
	}
	key, value, ok := strings.Cut(kv, "=")
	if !ok {
		return argError("set", fmt.Errorf("usage: set %s", usage))
	}
	known := false
	for _, k := range networkSettingKeys {
		known = known || k == key
	}
	if !known {
		return argError("set", fmt.Errorf("unknown setting %q: use %s", key, strings.Join(networkSettingKeys, ", ")))
	}
	// zerotier-cli's test: only a value starting with a lower-case t or a 1.
	on := strings.HasPrefix(value, "t") || strings.HasPrefix(value, "1")
	resp, err := a.send(c, http.MethodPost, networkPath(id), fmt.Appendf(nil, `{"%s":%t}`, key, on))
	if err != nil {
		return err
	}
	a.printBody(resp)
	return nil
}

// ipFields are get's address fields, derived from assignedAddresses.
var ipFields = map[string]bool{"ip": true, "ip4": true, "ip6": true, "ip6plane": true, "ip6prefix": true}

// maxAssignedAddresses is the most addresses get looks at
// (ZT_MAX_ZT_ASSIGNED_ADDRESSES).
const maxAssignedAddresses = 32

func nodeGet(c *cli.Context, a *apiClient, args []string) error {
	args, err := networkArgs("get", "NETWORK_ID FIELD", args, 2)
	if err != nil {
		return err
	}
	id, field := args[0], args[1]
	switch {
	case len(id) != 16:
		return &exitError{code: 2, msg: "invalid format: must be a 16-digit (network) ID"}
	case field == "":
		return &exitError{code: 2, msg: "invalid format: include a property name to get"}
	}
	code, body, err := a.do(c.Context, http.MethodGet, "/network", nil, apiTimeout)
	if err != nil {
		return a.connectFailed(err)
	}
	v, err := parseJSON(body)
	if err != nil {
		fmt.Fprintf(a.out, "%d %s invalid JSON response (%v)\n", code, a.cmd, err)
		return &exitError{code: 1}
	}
	found := false
	for _, nv := range jarr(v) {
		n := jobj(nv)
		if nid, ok := n["id"].(string); n == nil || !ok || !strings.EqualFold(nid, id) {
			continue
		}
		found = true
		if !ipFields[field] {
			if s := cliString(n[field], "-"); s != "-" {
				fmt.Fprintln(a.out, s)
			} else {
				fmt.Fprintln(a.out, "error, unknown property name")
			}
			break
		}
		fmt.Fprintln(a.out, assignedIPs(n["assignedAddresses"], field))
	}
	if !found {
		fmt.Fprintln(c.App.ErrWriter, "unknown network ID, check that you are a member of the network")
	}
	// Like zerotier-cli, the answer's status decides, not what was found.
	if code != http.StatusOK {
		return a.failed(code, body)
	}
	return nil
}

// assignedIPs is get's answer for an address field: the matching
// assigned addresses without their prefix lengths, one a line, with
// zerotier-cli's quirks kept (a line break follows every match but the
// last, even one that ip6plane or ip6prefix then leaves out).
func assignedIPs(v any, field string) string {
	addrs := jarr(v)
	addrs = addrs[:min(len(addrs), maxAssignedAddresses)]
	var match []any
	for _, av := range addrs {
		s, isString := av.(string)
		switch {
		case field == "ip",
			field == "ip4" && isString && strings.Contains(s, "."),
			strings.HasPrefix(field, "ip6") && isString && strings.Contains(s, ":"):
			match = append(match, av)
		}
	}
	var out strings.Builder
	for k, av := range match {
		s, ok := av.(string)
		if !ok {
			continue
		}
		ip, _, _ := strings.Cut(s, "/")
		sep := k < len(match)-1
		switch field {
		case "ip6plane", "ip6prefix":
			if !strings.HasPrefix(s, "fc") {
				continue
			}
			if field == "ip6prefix" {
				ip = ip[:min(len(ip), 24)]
			}
		}
		out.WriteString(ip)
		if sep {
			out.WriteByte('\n')
		}
	}
	return out.String()
}

// cliString is zerotier-cli's jsonString: strings as they are, numbers as
// unsigned 64-bit integers (negative ones wrap, fractions are cut),
// booleans as 1 or 0, anything else dfl.
func cliString(v any, dfl string) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "1"
		}
		return "0"
	case json.Number:
		if u, err := strconv.ParseUint(x.String(), 10, 64); err == nil {
			return strconv.FormatUint(u, 10)
		}
		if i, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return strconv.FormatUint(uint64(i), 10)
		}
		if f, err := x.Float64(); err == nil {
			switch {
			case f <= 0 || math.IsNaN(f):
				return "0"
			case f >= math.MaxUint64:
				return strconv.FormatUint(math.MaxUint64, 10)
			}
			return strconv.FormatUint(uint64(f), 10)
		}
	}
	return dfl
}
