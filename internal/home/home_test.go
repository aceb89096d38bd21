package home

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/internal/testvec"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeString(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// noTempFiles fails if an atomic write left a temporary file behind.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", path)
		}
		return nil
	})
}

func TestFreshHome(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "zt", "home")
	h, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("home mode %o, want 700", m)
	}
	if h.Dir() != dir {
		t.Errorf("Dir() = %s", h.Dir())
	}

	id, err := h.LoadOrCreateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if !id.HasPrivate() || !id.LocallyValidate() {
		t.Fatal("generated identity is not a valid secret identity")
	}
	if m := mode(t, h.Path(IdentitySecretFile)); m != 0o600 {
		t.Errorf("identity.secret mode %o, want 600", m)
	}
	if got := readString(t, h.Path(IdentitySecretFile)); got != id.SecretString() {
		t.Errorf("identity.secret = %q", got)
	}
	if got := readString(t, h.Path(IdentityPublicFile)); got != id.String() {
		t.Errorf("identity.public = %q, want %q", got, id.String())
	}
	again, err := h.LoadOrCreateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if !again.Equal(id) || *again.Private != *id.Private {
		t.Error("second load gave another identity")
	}

	tokRE := regexp.MustCompile(`^[a-z0-9]{24}$`)
	for _, f := range []struct {
		name string
		get  func() (string, error)
	}{{AuthTokenFile, h.AuthToken}, {MetricsTokenFile, h.MetricsToken}} {
		tok, err := f.get()
		if err != nil {
			t.Fatal(err)
		}
		if !tokRE.MatchString(tok) {
			t.Errorf("%s token %q", f.name, tok)
		}
		if m := mode(t, h.Path(f.name)); m != 0o600 {
			t.Errorf("%s mode %o, want 600", f.name, m)
		}
		if got := readString(t, h.Path(f.name)); got != tok {
			t.Errorf("%s holds %q, token %q", f.name, got, tok)
		}
		if again, _ := f.get(); again != tok {
			t.Errorf("%s: second read %q, first %q", f.name, again, tok)
		}
	}
	if a, _ := h.AuthToken(); a == func() string { m, _ := h.MetricsToken(); return m }() {
		t.Error("auth and metrics tokens are equal")
	}

	if err := h.WritePort(9993); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, h.Path(PortFile)); got != "9993" {
		t.Errorf("port file %q", got)
	}
	if err := h.WritePort(41234); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, h.Path(PortFile)); got != "41234" {
		t.Errorf("port file %q", got)
	}
	noTempFiles(t, dir)
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	writeString(t, file, "x")
	if _, err := Open(file); err == nil {
		t.Error("Open of a regular file succeeded")
	}
}

func TestExistingIdentity(t *testing.T) {
	h, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	secret := readString(t, testvec.MustPath(t, "session1", "id1.secret"))
	public := strings.TrimSpace(readString(t, testvec.MustPath(t, "session1", "id1.public")))
	writeString(t, h.Path(IdentitySecretFile), secret+"\n")
	writeString(t, h.Path(IdentityPublicFile), "stale\n")
	id, err := h.LoadOrCreateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if id.String() != public {
		t.Errorf("identity %s, want %s", id, public)
	}
	if got := readString(t, h.Path(IdentityPublicFile)); got != public {
		t.Errorf("identity.public = %q, want rewritten to %q", got, public)
	}
	// The secret file is left as it was.
	if got := readString(t, h.Path(IdentitySecretFile)); got != secret+"\n" {
		t.Errorf("identity.secret rewritten: %q", got)
	}

	// identity.public already right: not rewritten.
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	os.Chtimes(h.Path(IdentityPublicFile), old, old)
	if _, err := h.LoadOrCreateIdentity(); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(h.Path(IdentityPublicFile)); !st.ModTime().Equal(old) {
		t.Error("unchanged identity.public was rewritten")
	}
}

func TestInvalidIdentity(t *testing.T) {
	secret := strings.TrimSpace(readString(t, testvec.MustPath(t, "session1", "id1.secret")))
	public := strings.TrimSpace(readString(t, testvec.MustPath(t, "session1", "id1.public")))
	// Same keys under another address: parses, fails the hash check.
	wrongAddr := "0123456789" + secret[10:]
	// A different private key for the same public key.
	i := strings.LastIndexByte(secret, ':')
	wrongPriv := secret[:i+1] + strings.Repeat("ab", 64)
	for name, content := range map[string]string{
		"garbage":     "not an identity",
		"whitespace":  " \n\t",
		"wrongAddr":   wrongAddr,
		"wrongPriv":   wrongPriv,
		"publicOnly":  public,
		"badType":     strings.Replace(secret, ":0:", ":1:", 1),
		"truncatedPK": secret[:40],
	} {
		t.Run(name, func(t *testing.T) {
			h, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			writeString(t, h.Path(IdentitySecretFile), content)
			if id, err := h.LoadOrCreateIdentity(); err == nil {
				t.Fatalf("loaded %v", id)
			} else if !strings.Contains(err.Error(), IdentitySecretFile) {
				t.Errorf("error does not name the file: %v", err)
			}
			if got := readString(t, h.Path(IdentitySecretFile)); got != content {
				t.Error("invalid identity.secret was overwritten")
			}
		})
	}
}

func TestEmptyIdentityIsReplaced(t *testing.T) {
	h, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	writeString(t, h.Path(IdentitySecretFile), "")
	id, err := h.LoadOrCreateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	got, err := identity.ParseFile([]byte(readString(t, h.Path(IdentitySecretFile))))
	if err != nil || !got.Equal(id) {
		t.Fatalf("identity.secret not written: %v", err)
	}
	if m := mode(t, h.Path(IdentitySecretFile)); m != 0o600 {
		t.Errorf("mode %o", m)
	}
}

func TestTokenTrimmedAndRegenerated(t *testing.T) {
	h, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	writeString(t, h.Path(AuthTokenFile), " \tsecret-token\r\n\x00")
	if tok, err := h.AuthToken(); err != nil || tok != "secret-token" {
		t.Errorf("AuthToken = %q, %v", tok, err)
	}
	// Only white space: a new token is made.
	writeString(t, h.Path(MetricsTokenFile), "\n")
	tok, err := h.MetricsToken()
	if err != nil || len(tok) != 24 {
		t.Errorf("MetricsToken = %q, %v", tok, err)
	}
	if m := mode(t, h.Path(MetricsTokenFile)); m != 0o600 {
		t.Errorf("mode %o", m)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "f")
	wrote, err := writeFileAtomic(path, []byte("one"), 0o644)
	if err != nil || !wrote {
		t.Fatalf("first write: %v %v", wrote, err)
	}
	if m := mode(t, path); m != 0o644 {
		t.Errorf("mode %o", m)
	}
	if m := mode(t, filepath.Dir(path)); m != 0o700 {
		t.Errorf("directory mode %o", m)
	}
	if wrote, err := writeFileAtomic(path, []byte("one"), 0o644); err != nil || wrote {
		t.Errorf("same content rewritten: %v %v", wrote, err)
	}
	if wrote, err := writeFileAtomic(path, []byte("two"), 0o600); err != nil || !wrote {
		t.Errorf("changed content: %v %v", wrote, err)
	}
	if got := readString(t, path); got != "two" {
		t.Errorf("content %q", got)
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("mode %o", m)
	}
	noTempFiles(t, dir)
	// A directory in the way fails without leaving anything behind.
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := writeFileAtomic(filepath.Join(dir, "d"), []byte("x"), 0o644); err == nil {
		t.Error("rename over a directory succeeded")
	}
	noTempFiles(t, dir)
}

func TestRemoveLegacyAndControllerPath(t *testing.T) {
	h, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	writeString(t, h.Path("iddb.d", "x"), "x")
	if err := h.RemoveLegacy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(h.Path("iddb.d")); !os.IsNotExist(err) {
		t.Error("iddb.d not removed")
	}
	if got := h.ControllerDBPath(&Settings{}); got != h.Path("controller.d") {
		t.Errorf("ControllerDBPath = %s", got)
	}
	if got := h.ControllerDBPath(&Settings{ControllerDBPath: "/srv/db"}); got != "/srv/db" {
		t.Errorf("ControllerDBPath = %s", got)
	}
}
