// Command ztctl is the ztx operator's tool: offline identity and world
// tools, a wire decoder for captures, and (with a running ztnode) the
// local API client.
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
	app := newApp(stdout, stderr)
	err := app.Run(args)
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
		Commands: []*cli.Command{
			identityCommand(),
			worldCommand(),
			wireCommand(),
		},
	}
}
