package netns

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Time limits for processes: StopGrace between SIGTERM and SIGKILL, and
// RunTimeout for NS.Run.
var (
	StopGrace  = 2 * time.Second
	RunTimeout = 2 * time.Minute
)

// Command returns a command that runs the program name inside the namespace,
// through `ip netns exec` (which execs the program, so the command's process
// is the program itself). The child gets SIGKILL if the thread that started
// it dies (Pdeathsig), so a crashed test leaves no processes behind; when ctx
// ends the child gets SIGTERM, then SIGKILL after StopGrace.
func (n *NS) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = StopGrace
	return cmd
}

// Run runs a program inside the namespace to completion (at most RunTimeout)
// and returns its combined output; it fails the test, showing the output,
// when the program fails.
func (n *NS) Run(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	RequireCommands(tb, "ip")
	out, err := n.run(name, args...)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// run is Run that returns the error, with the output in it.
func (n *NS) run(name string, args ...string) (string, error) {
	return n.runInput("", name, args...)
}

func (n *NS) runInput(stdin, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), RunTimeout)
	defer cancel()
	cmd := n.Command(ctx, name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("netns %s: %s %s: %w\n%s", n.Name, name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Process is a program running in the background inside a namespace, started
// by NS.Start. Its stdout and stderr go to one buffer.
type Process struct {
	Cmd *exec.Cmd

	ns   string
	out  syncBuffer
	done chan struct{}
	err  error // from Wait; read after done is closed

	stopOnce sync.Once
	stopped  bool
}

// Start starts a program in the background inside the namespace. At the end
// of the test it is stopped (by its PID: SIGTERM, then SIGKILL after
// StopGrace) and reaped, and if the test failed its output is logged.
func (n *NS) Start(tb testing.TB, name string, args ...string) *Process {
	tb.Helper()
	RequireCommands(tb, "ip")
	p := &Process{ns: n.Name, done: make(chan struct{})}
	p.Cmd = n.Command(context.Background(), name, args...)
	p.Cmd.Stdout = &p.out
	p.Cmd.Stderr = &p.out
	if err := p.Cmd.Start(); err != nil {
		tb.Fatalf("netns %s: starting %s: %v", n.Name, name, err)
	}
	go func() { // owned by p: ends when the process has been reaped
		p.err = p.Cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(func() {
		dumpOnFailure(tb, n)
		p.Stop()
		if tb.Failed() {
			tb.Logf("netns %s: output of %s (pid %d, %v):\n%s", p.ns, p, p.PID(), p.err, p.Output())
		}
	})
	return p
}

// String is the process's command line (without the `ip netns exec` part).
func (p *Process) String() string {
	if len(p.Cmd.Args) > 4 {
		return strings.Join(p.Cmd.Args[4:], " ")
	}
	return p.Cmd.String()
}

// PID is the process id.
func (p *Process) PID() int { return p.Cmd.Process.Pid }

// Output is everything the process wrote to stdout and stderr so far.
func (p *Process) Output() string { return p.out.String() }

// Done is closed when the process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the process's exit error (nil for status 0); valid once Done is
// closed.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// Signal sends sig to the process, unless it has already been reaped.
func (p *Process) Signal(sig os.Signal) error {
	select {
	case <-p.done:
		return os.ErrProcessDone
	default:
		return p.Cmd.Process.Signal(sig)
	}
}

// Stop ends the process (SIGTERM, then SIGKILL after StopGrace) and waits
// until it is reaped. It returns the exit error of a process that ended on
// its own before Stop, and nil for one that Stop ended.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		select {
		case <-p.done:
			return
		default:
		}
		p.stopped = true
		_ = p.Cmd.Process.Signal(syscall.SIGTERM)
		t := time.NewTimer(StopGrace)
		defer t.Stop()
		select {
		case <-p.done:
		case <-t.C:
			_ = p.Cmd.Process.Kill()
		}
	})
	<-p.done
	if p.stopped {
		return nil
	}
	return p.err
}

// WaitOutput waits until the process's output contains s, and fails when the
// process exits first or timeout passes.
func (p *Process) WaitOutput(s string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if strings.Contains(p.Output(), s) {
			return nil
		}
		select {
		case <-p.done:
			if strings.Contains(p.Output(), s) {
				return nil
			}
			return fmt.Errorf("netns %s: %s exited (%v) before printing %q; output:\n%s", p.ns, p, p.err, s, p.Output())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("netns %s: %s did not print %q within %v; output:\n%s", p.ns, p, s, timeout, p.Output())
		}
	}
}

// syncBuffer is a bytes.Buffer that the process's output copier writes while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
