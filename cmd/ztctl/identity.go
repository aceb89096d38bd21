package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ztx/ztx/crypto/identity"
)

// The identity subcommands behave like the reference's zerotier-idtool:
// same arguments, same outputs (no trailing newline where it has none) and
// the same exit codes, so scripts written for one work with the other.
func identityCommand() *cli.Command {
	return &cli.Command{
		Name:  "identity",
		Usage: "generate, validate and use node identities (like zerotier-idtool)",
		// Without a known subcommand, print the help and fail, as idtool does.
		Action: func(c *cli.Context) error {
			cli.ShowSubcommandHelp(c)
			return &exitError{code: 1}
		},
		Subcommands: []*cli.Command{
			{
				Name:      "generate",
				Usage:     "make a new identity; print it or write identity.secret and identity.public",
				ArgsUsage: "[SECRET_FILE [PUBLIC_FILE [VANITY_HEX_PREFIX]]]",
				Action:    identityGenerate,
			},
			{
				Name:      "validate",
				Usage:     "check that an identity's address belongs to its key",
				ArgsUsage: "FILE|IDENTITY",
				Action:    identityValidate,
			},
			{
				Name:      "getpublic",
				Usage:     "print the public form of an identity",
				ArgsUsage: "FILE|IDENTITY",
				Action:    identityGetPublic,
			},
			{
				Name:      "sign",
				Usage:     "sign a file; prints the 96-byte signature in hex",
				ArgsUsage: "SECRET_FILE FILE",
				Action:    identitySign,
			},
			{
				Name:      "verify",
				Usage:     "verify a file's signature (hex, or a file holding the hex)",
				ArgsUsage: "PUBLIC_FILE FILE SIGNATURE_HEX|SIGNATURE_FILE",
				Action:    identityVerify,
			},
		},
	}
}

func usageError(c *cli.Context) error {
	cli.ShowSubcommandHelp(c)
	return &exitError{code: 1}
}

// identityFromArg reads an identity given literally (an address, then ':')
// or from a file, as the reference's tools do.
func identityFromArg(arg string) (*identity.Identity, error) {
	if len(arg) > 32 && arg[10] == ':' {
		return identity.Parse(arg)
	}
	b, err := os.ReadFile(arg)
	if err != nil {
		return nil, err
	}
	return identity.ParseFile(b)
}

func loadIdentityArg(arg string) (*identity.Identity, error) {
	id, err := identityFromArg(arg)
	if err != nil {
		return nil, fail("Identity argument invalid or file unreadable: %s", arg)
	}
	return id, nil
}

func identityGenerate(c *cli.Context) error {
	args := c.Args().Slice()
	var vanity uint64
	vanityBits := 0
	if len(args) >= 3 && args[2] != "" {
		v, err := strconv.ParseUint(args[2], 16, 64)
		if err != nil || len(args[2]) > 10 {
			return fail("vanity prefix %q: want up to 10 hex digits", args[2])
		}
		vanity, vanityBits = v, 4*len(args[2])
	}
	var id *identity.Identity
	for {
		var err error
		if id, err = identity.Generate(rand.Reader); err != nil {
			return fail("%v", err)
		}
		got := uint64(id.Address) >> (40 - vanityBits)
		if vanityBits == 0 {
			break
		}
		if got == vanity {
			fmt.Fprintf(c.App.ErrWriter, "vanity address: found %s !\n", id.Address)
			break
		}
		fmt.Fprintf(c.App.ErrWriter, "vanity address: tried %s looking for first %d bits of %010x\n",
			id.Address, vanityBits, vanity<<(40-vanityBits))
	}
	if len(args) == 0 {
		fmt.Fprint(c.App.Writer, id.SecretString())
		return nil
	}
	if err := writeFileAtomic(args[0], []byte(id.SecretString()), 0o600); err != nil {
		return fail("Error writing to %s", args[0])
	}
	fmt.Fprintf(c.App.Writer, "%s written\n", args[0])
	if len(args) >= 2 {
		if err := writeFileAtomic(args[1], []byte(id.String()), 0o644); err != nil {
			return fail("Error writing to %s", args[1])
		}
		fmt.Fprintf(c.App.Writer, "%s written\n", args[1])
	}
	return nil
}

func identityValidate(c *cli.Context) error {
	if c.NArg() < 1 {
		return usageError(c)
	}
	arg := c.Args().First()
	id, err := loadIdentityArg(arg)
	if err != nil {
		return err
	}
	if !id.LocallyValidate() {
		return fail("%s FAILED validation.", arg)
	}
	fmt.Fprintf(c.App.Writer, "%s is a valid identity\n", arg)
	return nil
}

func identityGetPublic(c *cli.Context) error {
	if c.NArg() < 1 {
		return usageError(c)
	}
	id, err := loadIdentityArg(c.Args().First())
	if err != nil {
		return err
	}
	fmt.Fprint(c.App.Writer, id.String())
	return nil
}

func identitySign(c *cli.Context) error {
	if c.NArg() < 2 {
		return usageError(c)
	}
	idArg, file := c.Args().Get(0), c.Args().Get(1)
	id, err := loadIdentityArg(idArg)
	if err != nil {
		return err
	}
	if !id.HasPrivate() {
		return fail("%s does not contain a private key (must use private to sign)", idArg)
	}
	msg, err := os.ReadFile(file)
	if err != nil {
		return fail("%s is not readable", file)
	}
	sig, err := id.Sign(msg)
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprint(c.App.Writer, hex.EncodeToString(sig[:]))
	return nil
}

func identityVerify(c *cli.Context) error {
	if c.NArg() < 3 {
		return usageError(c)
	}
	idArg, file, sigArg := c.Args().Get(0), c.Args().Get(1), c.Args().Get(2)
	id, err := loadIdentityArg(idArg)
	if err != nil {
		return err
	}
	msg, err := os.ReadFile(file)
	if err != nil {
		return fail("%s is not readable", file)
	}
	// The signature is hex on the command line, or else a file holding it.
	if sig, ok := decodeSignature(sigArg); ok && id.Verify(msg, sig) {
		fmt.Fprintf(c.App.Writer, "%s signature valid\n", file)
		return nil
	}
	if b, err := os.ReadFile(sigArg); err == nil {
		if sig, ok := decodeSignature(string(b)); ok && id.Verify(msg, sig) {
			fmt.Fprintf(c.App.Writer, "%s signature valid\n", file)
			return nil
		}
	}
	return fail("%s signature check FAILED", file)
}

func decodeSignature(s string) ([]byte, bool) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	return b, err == nil && len(b) > identity.AddressLength
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it into place, so a crash never leaves a half-written key file.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(dirOf(path), ".ztctl-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		if i == 0 {
			return "/"
		}
		return path[:i]
	}
	return "."
}
