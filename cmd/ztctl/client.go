package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// The local API client: what zerotier-cli does (PROTOCOL.md part 1
// §12.6), against ztnode or a ZeroTier One node.

const (
	defaultHome    = "/var/lib/zerotier-one"
	defaultAPIPort = 9993
	// apiTimeout is the reference CLI's request timeout.
	apiTimeout = 60 * time.Second
	// maxResponse bounds what the client reads, as the reference does.
	maxResponse = 16 << 20
)

// clientEnv is what the client commands take from the outside world;
// tests replace it.
type clientEnv struct {
	now    func() int64 // wall clock, ms: path ages are computed against it
	getenv func(string) string
	client *http.Client
}

func defaultClientEnv() clientEnv {
	return clientEnv{
		now:    func() int64 { return time.Now().UnixMilli() },
		getenv: os.Getenv,
		client: &http.Client{},
	}
}

// clientFlags are the options every client command takes, named as
// zerotier-cli's (written -D HOME rather than -DHOME).
func clientFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "home", Aliases: []string{"D"}, Usage: "home directory", DefaultText: "$ZEROTIER_HOME, else " + defaultHome},
		&cli.IntFlag{Name: "port", Aliases: []string{"p"}, Usage: "local API port", DefaultText: "HOME/zerotier-one.port, else 9993"},
		&cli.StringFlag{Name: "host", Aliases: []string{"H"}, Value: "127.0.0.1", Usage: "local API address"},
		&cli.StringFlag{Name: "token", Aliases: []string{"T"}, Usage: "auth token", DefaultText: "HOME/authtoken.secret, else ~/.zeroTierOneAuthToken"},
		&cli.BoolFlag{Name: "json", Aliases: []string{"j"}, Usage: "JSON output"},
	}
}

// apiClient talks to one node's local API.
type apiClient struct {
	env   clientEnv
	out   io.Writer
	cmd   string // the command name, for "<code> <command> <body>" lines
	base  string // http://host:port
	host  string
	port  int
	token string
	json  bool
}

// newAPIClient resolves the options: the port from -p, else the home's
// zerotier-one.port, else 9993; the token from -T, else the home's
// authtoken.secret, else $HOME/.zeroTierOneAuthToken. Problems exit 2,
// as zerotier-cli's do.
func newAPIClient(c *cli.Context, env clientEnv, cmd string) (*apiClient, error) {
	home := c.String("home")
	if home == "" {
		home = env.getenv("ZEROTIER_HOME")
	}
	if home == "" {
		home = defaultHome
	}
	port := c.Int("port")
	if c.IsSet("port") {
		if port <= 0 || port > 0xffff {
			return nil, &exitError{code: 2, msg: fmt.Sprintf("ztctl: invalid port %d", port)}
		}
	} else {
		port = defaultAPIPort
		if b, err := os.ReadFile(filepath.Join(home, "zerotier-one.port")); err == nil {
			if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p > 0 && p <= 0xffff {
				port = p
			}
		}
	}
	token := c.String("token")
	if token == "" {
		token = readToken(filepath.Join(home, "authtoken.secret"))
	}
	if token == "" {
		if h := env.getenv("HOME"); h != "" {
			token = readToken(filepath.Join(h, ".zeroTierOneAuthToken"))
		}
	}
	if token == "" {
		return nil, &exitError{code: 2, msg: fmt.Sprintf("ztctl: authtoken.secret not found or readable in %s (try again as root)", home)}
	}
	host := c.String("host")
	return &apiClient{
		env: env, out: c.App.Writer, cmd: cmd,
		base: "http://" + net.JoinHostPort(host, strconv.Itoa(port)),
		host: host, port: port, token: token, json: c.Bool("json"),
	}, nil
}

func readToken(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// errConnect marks a request that never got an answer.
type errConnect struct{ err error }

func (e *errConnect) Error() string { return e.err.Error() }

// do sends one request; an error means the service was not reached.
func (a *apiClient) do(ctx context.Context, method, path string, body []byte, timeout time.Duration) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, &errConnect{err}
	}
	req.Header.Set("X-ZT1-Auth", a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.env.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, &errConnect{err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return 0, nil, &errConnect{err}
	}
	return res.StatusCode, b, nil
}

// connectFailed prints zerotier-cli's message and exits 1.
func (a *apiClient) connectFailed(err error) error {
	fmt.Fprintf(a.out, "Error connecting to the ZeroTier service: %v\n\nPlease check that the service is running and that TCP port %d can be contacted via %s.\n", err, a.port, a.host)
	return &exitError{code: 1}
}

// failed prints "<code> <command> <body>" and exits 1.
func (a *apiClient) failed(code int, body []byte) error {
	fmt.Fprintf(a.out, "%d %s %s\n", code, a.cmd, body)
	return &exitError{code: 1}
}

// getJSON GETs path and parses the answer, handling failures as
// zerotier-cli does: no connection, then unreadable JSON, then a status
// other than 200.
func (a *apiClient) getJSON(ctx context.Context, path string) (any, error) {
	code, body, err := a.do(ctx, http.MethodGet, path, nil, apiTimeout)
	if err != nil {
		return nil, a.connectFailed(err)
	}
	v, err := parseJSON(body)
	if err != nil {
		fmt.Fprintf(a.out, "%d %s invalid JSON response (%v)\n", code, a.cmd, err)
		return nil, &exitError{code: 1}
	}
	if code != http.StatusOK {
		return nil, a.failed(code, body)
	}
	return v, nil
}

// parseJSON reads one JSON value, keeping numbers as written.
func parseJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

// prettyJSON prints v as the reference's CLI does: keys sorted, one-space
// indent, no HTML escaping.
func prettyJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// Loose readers of decoded JSON, with defaults for missing or mistyped
// values (the reference's jsonString and jsonInt).

func jstr(v any, dfl string) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	return dfl
}

func jint(v any, dfl int64) int64 {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if f, err := x.Float64(); err == nil {
			return int64(f)
		}
	case string:
		if i, err := strconv.ParseInt(x, 10, 64); err == nil {
			return i
		}
	case bool:
		if x {
			return 1
		}
		return 0
	}
	return dfl
}

func jbool(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case json.Number:
		return x.String() != "0"
	case string:
		return x != ""
	}
	return false
}

func jobj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func jarr(v any) []any {
	a, _ := v.([]any)
	return a
}

// interspersed returns a command's positional arguments, applying any
// flags written after them (ztctl ping ADDR -c 3): urfave/cli stops
// parsing flags at the first argument.
func interspersed(c *cli.Context) ([]string, error) {
	var args []string
	rest := c.Args().Slice()
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			args = append(args, rest[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' || isNumber(a) {
			args = append(args, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := lookupFlag(c.Command.Flags, name)
		if f == nil {
			return nil, &exitError{code: 2, msg: fmt.Sprintf("ztctl %s: unknown option %s", commandPath(c), a)}
		}
		if _, isBool := f.(*cli.BoolFlag); isBool && !hasValue {
			value = "true"
		} else if !hasValue {
			if i+1 >= len(rest) {
				return nil, &exitError{code: 2, msg: fmt.Sprintf("ztctl %s: option %s needs a value", commandPath(c), a)}
			}
			i++
			value = rest[i]
		}
		if err := c.Set(f.Names()[0], value); err != nil {
			return nil, &exitError{code: 2, msg: fmt.Sprintf("ztctl %s: %s: %v", commandPath(c), a, err)}
		}
	}
	return args, nil
}

// commandPath is the command's name with its parents' ("bpf dump").
func commandPath(c *cli.Context) string {
	var names []string
	for _, ctx := range c.Lineage() {
		if ctx.Command != nil && ctx.Command.Name != "" && ctx.Command.Name != c.App.Name {
			names = append([]string{ctx.Command.Name}, names...)
		}
	}
	return strings.Join(names, " ")
}

func lookupFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}
