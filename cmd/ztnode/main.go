// Command ztnode is the ztx daemon: a ZeroTier-compatible node (protocol
// version 12) that keeps its state in a home directory laid out like
// zerotier-one's (identity.secret, planet, moons.d, local.conf, ...).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/ztx/ztx/internal/service"
)

func main() {
	app := &cli.App{
		Name:  "ztnode",
		Usage: "run a ztx (ZeroTier-compatible) node in the foreground",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "home", Aliases: []string{"D"}, Usage: "home directory", EnvVars: []string{"ZEROTIER_HOME"}, Value: "/var/lib/zerotier-one"},
			&cli.IntFlag{Name: "port", Aliases: []string{"p"}, Usage: "primary UDP and local API port, unless local.conf sets primaryPort (0: random)", Value: 9993},
			&cli.StringFlag{Name: "dataplane", Value: "userspace", Usage: "userspace, xdp (XDP on the physical interfaces: kernel relaying for roots, trusted paths) or auto (xdp where it loads)"},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "text or json"},
		},
		Action: run,
	}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "ztnode:", err)
		os.Exit(1)
	}
}

func run(c *cli.Context) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	switch c.String("log-format") {
	case "json":
		h = slog.NewJSONHandler(os.Stderr, opts)
	case "text":
	default:
		return errors.New("--log-format: want text or json")
	}
	log := slog.New(h)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	d, err := startDaemon(c.String("home"), c.Int("port"), c.String("dataplane"), log)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down", "signal", "SIGTERM/SIGINT")
		return d.Close()
	case err := <-d.svc.Fatal():
		d.Close()
		return err
	}
}

// daemon is the node plus its local API server.
type daemon struct {
	svc *service.Service
}

func startDaemon(homeDir string, port int, dataplane string, log *slog.Logger) (*daemon, error) {
	svc, err := service.Start(service.Options{Home: homeDir, Port: port, Logger: log, Dataplane: dataplane})
	if err != nil {
		return nil, err
	}
	return &daemon{svc: svc}, nil
}

func (d *daemon) Close() error { return d.svc.Close() }
