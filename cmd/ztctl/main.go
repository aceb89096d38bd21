// Command ztctl is the ztx operator's tool: offline identity and world
// tools, a wire decoder for captures, (with a running ztnode) the local
// API client, and a reader of the XDP fast path's pinned maps.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"
)

// version is ztx's version, reported like the reference's CLI does.
const version = "0.1.0"

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run executes ztctl with args and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	return runApp(newApp(stdout, stderr), args, stderr)
}

// runApp runs app with args and returns the process exit code.
func runApp(app *cli.App, args []string, stderr io.Writer) int {
	err := app.Run(leadingOptionsLast(args))
	if err == nil {
		return 0
	}
	var ex *exitError
	if errors.As(err, &ex) {
		if ex.msg != "" {
			fmt.Fprintln(stderr, ex.msg)
		}
		return ex.code
	}
	fmt.Fprintln(stderr, "ztctl:", err)
	return 1
}

// exitError ends a command with a message on stderr and an exit code.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func fail(format string, args ...any) error {
	return &exitError{code: 1, msg: fmt.Sprintf(format, args...)}
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:                 "ztctl",
		Usage:                "control and inspect ztx (ZeroTier-compatible) nodes",
		Version:              version,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		// run() maps errors to exit codes; never exit from inside the library.
		ExitErrHandler: func(*cli.Context, error) {},
		Commands: append([]*cli.Command{
			identityCommand(),
			worldCommand(),
			wireCommand(),
			bpfCommand(),
		}, nodeCommands()...),
	}
}

// nodeCommandNames are the commands that talk to a running node; they take
// zerotier-cli's options, which zerotier-cli users write before the
// command ("ztctl -D /var/lib/zerotier-one -j peers").
var nodeCommandNames = map[string]bool{
	"info": true, "status": true, "listpeers": true, "peers": true,
	"listmoons": true, "orbit": true, "deorbit": true, "ping": true,
	"listnetworks": true, "join": true, "leave": true, "set": true, "get": true,
}

// leadingOptionsLast moves zerotier-cli-style options given before a node
// command (-D HOME, -DHOME, -p PORT, -H HOST, -T TOKEN, -j and their long
// forms) to after it, where the command's own flags are parsed; and -j
// before "bpf SUBCOMMAND" to after the subcommand.
func leadingOptionsLast(args []string) []string {
	if len(args) < 2 {
		return args
	}
	withValue := map[string]bool{"-D": true, "--home": true, "-p": true, "--port": true, "-H": true, "--host": true, "-T": true, "--token": true}
	var moved []string
	i := 1
	for ; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-j" || a == "--json":
			moved = append(moved, a)
		case withValue[a] && i+1 < len(args):
			moved = append(moved, a, args[i+1])
			i++
		case len(a) > 2 && a[0] == '-' && a[1] != '-' && withValue[a[:2]]:
			moved = append(moved, a[:2], a[2:]) // -D/var/lib/zerotier-one
		default:
			goto done
		}
	}
done:
	if len(moved) == 0 || i >= len(args) {
		return args
	}
	cmd := args[i : i+1]
	if args[i] == "bpf" && i+1 < len(args) {
		cmd = args[i : i+2] // "ztctl -j bpf status": the options are the subcommand's
	} else if !nodeCommandNames[args[i]] {
		return args
	}
	out := append(append([]string{args[0]}, cmd...), moved...)
	return append(out, args[i+len(cmd):]...)
}
