package testvec

import (
	"errors"
	"fmt"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/world"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Standard files, relative to the testdata directory.
const (
	SessionFile = "session1/zt-session-decrypted.txt"
	CryptoFile  = "crypto.json"
)

// Root returns the repository root: the nearest directory at or above the
// working directory that holds go.mod. Go runs a package's tests in the
// package directory, so this works from any package.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("testvec: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testvec: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Path joins elem under the repository's testdata directory, e.g.
// Path("session1", "zt-session.pcap").
func Path(elem ...string) (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(append([]string{root, "testdata"}, elem...)...), nil
}

// MustPath is Path for tests: it fails tb on error.
func MustPath(tb testing.TB, elem ...string) string {
	tb.Helper()
	p, err := Path(elem...)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

var (
	sessionOnce sync.Once
	session     *Session
	sessionErr  error

	cryptoOnce sync.Once
	cryptoVecs *Crypto
	cryptoErr  error
)

// MustSession loads testdata/session1/zt-session-decrypted.txt once per
// test binary and fails tb on error. Callers must not modify the result.
func MustSession(tb testing.TB) *Session {
	tb.Helper()
	sessionOnce.Do(func() {
		var p string
		if p, sessionErr = Path(SessionFile); sessionErr == nil {
			session, sessionErr = ParseSession(p)
		}
	})
	if sessionErr != nil {
		tb.Fatal(sessionErr)
	}
	return session
}

// MustCrypto loads testdata/crypto.json once per test binary and fails tb
// on error. Callers must not modify the result.
func MustCrypto(tb testing.TB) *Crypto {
	tb.Helper()
	cryptoOnce.Do(func() {
		var p string
		if p, cryptoErr = Path(CryptoFile); cryptoErr == nil {
			cryptoVecs, cryptoErr = LoadCrypto(p)
		}
	})
	if cryptoErr != nil {
		tb.Fatal(cryptoErr)
	}
	return cryptoVecs
}

// Identity reads the identity file testdata/session1/<name> (id1.secret is
// the session's root, id2 and id3 its nodes A and B).
func Identity(tb testing.TB, name string) *identity.Identity {
	tb.Helper()
	b, err := os.ReadFile(MustPath(tb, "session1", name))
	if err != nil {
		tb.Fatal(err)
	}
	id, err := identity.ParseFile(b)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// Planet reads the session's private planet (one root, f737c19395 at
// 10.77.0.1/9993).
func Planet(tb testing.TB) *world.World {
	tb.Helper()
	b, err := os.ReadFile(MustPath(tb, "session1", "planet.bin"))
	if err != nil {
		tb.Fatal(err)
	}
	w, err := world.Parse(b)
	if err != nil {
		tb.Fatal(err)
	}
	return w
}
