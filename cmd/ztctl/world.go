package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ztx/ztx/crypto/c25519"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/inet"
	"github.com/ztx/ztx/headers/world"
)

func worldCommand() *cli.Command {
	return &cli.Command{
		Name:  "world",
		Usage: "make and inspect planets and moons",
		Subcommands: []*cli.Command{
			{
				Name:      "initmoon",
				Usage:     "print a moon definition (JSON) with a new signing key and one root",
				ArgsUsage: "PUBLIC_FILE",
				Action:    worldInitMoon,
			},
			{
				Name:      "genmoon",
				Usage:     "sign a moon (or planet) definition; writes <16-hex-id>.moon",
				ArgsUsage: "MOON.json",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output file (default: the world ID as 16 hex digits + .moon, in the current directory)"}},
				Action:    worldGenMoon,
			},
			{
				Name:      "mkplanet",
				Usage:     "sign a private planet from a definition (same JSON as genmoon, worldType planet)",
				ArgsUsage: "SPEC.json",
				Description: "SPEC.json: {\"id\": \"<hex world id>\", \"timestamp\": <ms, default now>, \"signingKey\", \"signingKey_SECRET\",\n" +
					"\"updatesMustBeSignedBy\": <hex C25519 keys>, \"roots\": [{\"identity\": \"<public identity>\",\n" +
					"\"stableEndpoints\": [\"IP/port\", ...]}]}. Missing signing keys are generated and written back\n" +
					"into SPEC.json, so that the next revision can be signed with them.",
				Flags:  []cli.Flag{&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "planet", Usage: "output file"}},
				Action: worldMkPlanet,
			},
			{
				Name:      "show",
				Usage:     "print a planet or moon file",
				ArgsUsage: "FILE",
				Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Aliases: []string{"j"}, Usage: "JSON output"}},
				Action:    worldShow,
			},
		},
	}
}

// worldSpec is the JSON the reference's idtool initmoon prints and genmoon
// reads. Keys are printed sorted, as its JSON library does.
type worldSpec struct {
	ID                    string     `json:"id"`
	Objtype               string     `json:"objtype"`
	Roots                 []specRoot `json:"roots"`
	SigningKey            string     `json:"signingKey"`
	SigningKeySecret      string     `json:"signingKey_SECRET"`
	Timestamp             *uint64    `json:"timestamp,omitempty"`
	UpdatesMustBeSignedBy string     `json:"updatesMustBeSignedBy"`
	WorldType             string     `json:"worldType"`
}

type specRoot struct {
	Identity        string   `json:"identity"`
	StableEndpoints []string `json:"stableEndpoints"`
}

// printJSON writes v indented by one space, as the reference's tools do.
func printJSON(c *cli.Context, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%s\n", b)
	return nil
}

func worldInitMoon(c *cli.Context) error {
	if c.NArg() < 1 {
		return usageError(c)
	}
	id, err := identityFromArg(c.Args().First())
	if err != nil {
		return fail("%s is not a valid identity", c.Args().First())
	}
	pub, priv, err := c25519.Generate(rand.Reader)
	if err != nil {
		return fail("%v", err)
	}
	return printJSON(c, worldSpec{
		ID:                    id.Address.String(),
		Objtype:               "world",
		Roots:                 []specRoot{{Identity: id.String(), StableEndpoints: []string{}}},
		SigningKey:            hex.EncodeToString(pub[:]),
		SigningKeySecret:      hex.EncodeToString(priv[:]),
		UpdatesMustBeSignedBy: hex.EncodeToString(pub[:]),
		WorldType:             "moon",
	})
}

func readSpec(path string) (*worldSpec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fail("cannot read %s", path)
	}
	var s worldSpec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fail("%s: %v", path, err)
	}
	return &s, nil
}

func decodeKeyHex(name, s string) (*[64]byte, error) {
	var k [64]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 64 {
		return nil, fail("%s: want 128 hex digits", name)
	}
	copy(k[:], b)
	return &k, nil
}

// build makes and signs the world a spec describes; file names the spec
// in messages.
func (s *worldSpec) build(file string, t world.Type, now uint64) (*world.World, error) {
	id, err := strconv.ParseUint(strings.TrimPrefix(s.ID, "0x"), 16, 64)
	if err != nil || id == 0 {
		return nil, fail("ID in %s is invalid", file)
	}
	pub, err := decodeKeyHex("signingKey", s.SigningKey)
	if err != nil {
		return nil, err
	}
	priv, err := decodeKeyHex("signingKey_SECRET", s.SigningKeySecret)
	if err != nil {
		return nil, err
	}
	if c25519.PublicFromPrivate(priv) != *pub {
		return nil, fail("signingKey_SECRET is not the secret half of signingKey")
	}
	next, err := decodeKeyHex("updatesMustBeSignedBy", s.UpdatesMustBeSignedBy)
	if err != nil {
		return nil, err
	}
	var roots []world.Root
	for i, r := range s.Roots {
		rid, err := identity.Parse(r.Identity)
		if err != nil {
			return nil, fail("root %d: %v", i, err)
		}
		if !rid.LocallyValidate() {
			return nil, fail("root %d: identity %s FAILED validation", i, rid.Address)
		}
		root := world.Root{Identity: rid.PublicOnly()}
		for _, e := range r.StableEndpoints {
			ap, err := inet.ParseText(e)
			if err != nil {
				return nil, fail("root %s: %v", rid.Address, err)
			}
			root.StableEndpoints = append(root.StableEndpoints, ap)
		}
		roots = append(roots, root)
	}
	ts := now
	if s.Timestamp != nil {
		ts = *s.Timestamp
	}
	w, err := world.Make(t, id, ts, next, roots, priv)
	if err != nil {
		return nil, fail("%v", err)
	}
	return w, nil
}

func worldGenMoon(c *cli.Context) error {
	if c.NArg() < 1 {
		return usageError(c)
	}
	s, err := readSpec(c.Args().First())
	if err != nil {
		return err
	}
	var t world.Type
	switch s.WorldType {
	case "moon":
		t = world.TypeMoon
	case "planet":
		t = world.TypePlanet
	default:
		return fail("invalid worldType")
	}
	w, err := s.build(c.Args().First(), t, uint64(time.Now().UnixMilli()))
	if err != nil {
		return err
	}
	out := c.String("out")
	if out == "" {
		out = world.FileName(w.ID)
	}
	if err := writeFileAtomic(out, w.AppendMarshal(nil), 0o644); err != nil {
		return fail("cannot write %s: %v", out, err)
	}
	fmt.Fprintf(c.App.Writer, "wrote %s (signed world with timestamp %d)\n", out, w.Timestamp)
	return nil
}

func worldMkPlanet(c *cli.Context) error {
	if c.NArg() < 1 {
		return usageError(c)
	}
	path := c.Args().First()
	s, err := readSpec(path)
	if err != nil {
		return err
	}
	if s.WorldType != "" && s.WorldType != "planet" {
		return fail("%s: worldType is %q; mkplanet makes planets", path, s.WorldType)
	}
	if s.SigningKey == "" && s.SigningKeySecret == "" {
		pub, priv, err := c25519.Generate(rand.Reader)
		if err != nil {
			return fail("%v", err)
		}
		s.SigningKey, s.SigningKeySecret = hex.EncodeToString(pub[:]), hex.EncodeToString(priv[:])
		if s.UpdatesMustBeSignedBy == "" {
			s.UpdatesMustBeSignedBy = s.SigningKey
		}
		s.Objtype, s.WorldType = "world", "planet"
		b, _ := json.MarshalIndent(s, "", " ")
		if err := writeFileAtomic(path, append(b, '\n'), 0o600); err != nil {
			return fail("cannot update %s: %v", path, err)
		}
		fmt.Fprintf(c.App.ErrWriter, "generated a signing key; saved it in %s (keep it secret: it signs planet updates)\n", path)
	}
	w, err := s.build(path, world.TypePlanet, uint64(time.Now().UnixMilli()))
	if err != nil {
		return err
	}
	out := c.String("out")
	if err := writeFileAtomic(out, w.AppendMarshal(nil), 0o644); err != nil {
		return fail("cannot write %s: %v", out, err)
	}
	fmt.Fprintf(c.App.Writer, "wrote %s (planet %016x, timestamp %d, %d roots)\n", out, w.ID, w.Timestamp, len(w.Roots))
	return nil
}

func worldShow(c *cli.Context) error {
	if c.NArg() < 1 {
		return usageError(c)
	}
	b, err := os.ReadFile(c.Args().First())
	if err != nil {
		return fail("cannot read %s", c.Args().First())
	}
	// Like the reference node, accept bytes after the world (and say so).
	w, n, err := world.ParseN(b)
	if err != nil {
		return fail("%s: %v", c.Args().First(), err)
	}
	if n < len(b) {
		fmt.Fprintf(c.App.ErrWriter, "note: %d bytes after the world in %s are ignored\n", len(b)-n, c.Args().First())
	}
	selfSigned := w.Verify(&w.UpdatesMustBeSignedBy)
	if c.Bool("json") {
		js, err := w.MarshalJSON()
		if err != nil {
			return err
		}
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return err
		}
		m["selfSigned"] = selfSigned
		m["file"] = filepath.Base(c.Args().First())
		m["size"] = len(b)
		return printJSON(c, m)
	}
	o := c.App.Writer
	fmt.Fprintf(o, "%s %016x\n", w.Type, w.ID)
	fmt.Fprintf(o, "  timestamp:             %d (%s)\n", w.Timestamp, time.UnixMilli(int64(w.Timestamp)).UTC().Format(time.RFC3339))
	fmt.Fprintf(o, "  updatesMustBeSignedBy: %x\n", w.UpdatesMustBeSignedBy[:])
	sig := "signed by its own update key"
	if !selfSigned {
		sig = "not signed by its own update key (an update signed by the previous revision's key, or forged)"
	}
	fmt.Fprintf(o, "  signature:             %x\n                         %s\n", w.Signature[:], sig)
	fmt.Fprintf(o, "  roots:                 %d\n", len(w.Roots))
	for _, r := range w.Roots {
		eps := make([]string, 0, len(r.StableEndpoints))
		for _, ep := range r.StableEndpoints {
			if ep == (netip.AddrPort{}) {
				eps = append(eps, "(unknown)")
				continue
			}
			eps = append(eps, inet.Format(ep))
		}
		fmt.Fprintf(o, "    %s  %s\n", r.Identity.Address, strings.Join(eps, " "))
		fmt.Fprintf(o, "      identity: %s\n", r.Identity)
	}
	return nil
}
