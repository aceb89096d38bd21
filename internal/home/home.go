package home

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ztx/ztx/crypto/identity"
)

// File and directory names in the home directory.
const (
	IdentitySecretFile = "identity.secret"
	IdentityPublicFile = "identity.public"
	AuthTokenFile      = "authtoken.secret"
	MetricsTokenFile   = "metricstoken.secret"
	PortFile           = "zerotier-one.port"
	LocalConfFile      = "local.conf"
	TrustedPathsFile   = "trustedpaths"
	PlanetFile         = "planet"
	MoonsDir           = "moons.d"
	PeersDir           = "peers.d"
	NetworksDir        = "networks.d"
	ControllerDir      = "controller.d"
	legacyIDDBDir      = "iddb.d"
)

// Home is a node's home directory. Its methods may be called from several
// goroutines; each write replaces one file atomically.
type Home struct {
	dir string
}

// Open opens the home directory dir, creating it (mode 0700) if needed.
func Open(dir string) (*Home, error) {
	if dir == "" {
		return nil, errors.New("home: no directory given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("home: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("home: %w", err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("home: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("home: %s is not a directory", abs)
	}
	return &Home{dir: abs}, nil
}

// Dir is the home directory's absolute path.
func (h *Home) Dir() string { return h.dir }

// Path joins names onto the home directory.
func (h *Home) Path(names ...string) string {
	return filepath.Join(append([]string{h.dir}, names...)...)
}

// ControllerDBPath is where the embedded controller keeps its database:
// settings.controllerDbPath, or controller.d in the home directory.
func (h *Home) ControllerDBPath(s *Settings) string {
	if s != nil && s.ControllerDBPath != "" {
		return s.ControllerDBPath
	}
	return h.Path(ControllerDir)
}

// RemoveLegacy deletes what older versions left that the reference
// deletes at start-up (iddb.d).
func (h *Home) RemoveLegacy() error {
	return os.RemoveAll(h.Path(legacyIDDBDir))
}

// LoadOrCreateIdentity returns the node's identity from identity.secret.
// A missing or empty file is replaced by a newly generated identity
// (mode 0600); a file that does not parse, has no private key or fails
// LocallyValidate is an error, and the node must not start. identity.public
// is (re)written when it is missing or differs from the secret's public
// part.
func (h *Home) LoadOrCreateIdentity() (*identity.Identity, error) {
	path := h.Path(IdentitySecretFile)
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("home: %w", err)
	}
	var id *identity.Identity
	if len(b) == 0 {
		id, err = identity.Generate(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("home: generating an identity: %w", err)
		}
		if _, err := writeFileAtomic(path, []byte(id.SecretString()), 0o600); err != nil {
			return nil, err
		}
	} else {
		id, err = identity.ParseFile(b)
		switch {
		case err != nil:
			return nil, fmt.Errorf("home: %s: %w (remove identity.secret and identity.public to make a new identity)", path, err)
		case !id.HasPrivate():
			return nil, fmt.Errorf("home: %s holds no private key", path)
		case !id.LocallyValidate():
			return nil, fmt.Errorf("home: %s: invalid identity (remove identity.secret and identity.public to make a new identity)", path)
		}
	}
	if _, err := writeFileAtomic(h.Path(IdentityPublicFile), []byte(id.String()), 0o644); err != nil {
		return nil, err
	}
	return id, nil
}

// AuthToken returns the local API token from authtoken.secret, creating
// the file (24 random characters from a-z0-9, mode 0600) when it is
// missing or holds only white space.
func (h *Home) AuthToken() (string, error) { return h.token(AuthTokenFile) }

// MetricsToken is AuthToken for metricstoken.secret (the /metrics token).
func (h *Home) MetricsToken() (string, error) { return h.token(MetricsTokenFile) }

const tokenAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

func (h *Home) token(name string) (string, error) {
	path := h.Path(name)
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("home: %w", err)
	}
	if t := trimToken(string(b)); t != "" {
		return t, nil
	}
	tok := make([]byte, 24)
	for i := range tok {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(tokenAlphabet))))
		if err != nil {
			return "", fmt.Errorf("home: %w", err)
		}
		tok[i] = tokenAlphabet[n.Int64()]
	}
	if _, err := writeFileAtomic(path, tok, 0o600); err != nil {
		return "", err
	}
	return string(tok), nil
}

// trimToken trims what the reference trims around a token: spaces, tabs,
// CR, LF and NUL.
func trimToken(s string) string {
	return strings.Trim(s, " \t\r\n\x00")
}

// WritePort records the bound primary port in zerotier-one.port (decimal,
// no newline) for CLIs and GUIs.
func (h *Home) WritePort(port uint16) error {
	_, err := writeFileAtomic(h.Path(PortFile), []byte(strconv.Itoa(int(port))), 0o644)
	return err
}

// LoadLocalConf reads local.conf (absent = defaults) and the legacy
// trustedpaths file, if any, into one configuration.
func (h *Home) LoadLocalConf() (*LocalConf, error) {
	var legacy []PathConfig
	tp, err := os.ReadFile(h.Path(TrustedPathsFile))
	switch {
	case err == nil:
		legacy = ParseTrustedPaths(tp)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("home: %w", err)
	}
	path := h.Path(LocalConfFile)
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("home: %w", err)
	}
	c, err := parseLocalConf(path, b, legacy)
	if err != nil {
		return nil, err
	}
	if tp != nil {
		c.Warnings = append([]string{"the trustedpaths file is deprecated in favour of physical entries in local.conf"}, c.Warnings...)
	}
	return c, nil
}

// writeFileAtomic replaces path with data unless it already holds exactly
// that: a temporary file in the same directory (created with mode perm
// from the start, so secrets are never readable by others), synced, then
// renamed over path, and the directory synced. Missing directories are
// created with mode 0700. It reports whether it wrote.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("home: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return false, fmt.Errorf("home: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) (bool, error) {
		f.Close()
		os.Remove(tmp)
		return false, fmt.Errorf("home: writing %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return false, fmt.Errorf("home: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return false, fmt.Errorf("home: writing %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: the rename is done either way
		d.Close()
	}
	return true, nil
}

// removeFile deletes path; a missing file is not an error.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("home: %w", err)
	}
	return nil
}
