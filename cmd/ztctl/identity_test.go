package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ztx/ztx/crypto/identity"
)

func TestIdentityGenerateFiles(t *testing.T) {
	dir := t.TempDir()
	sec, pub := filepath.Join(dir, "identity.secret"), filepath.Join(dir, "identity.public")
	out, _, code := ztctl(t, "identity", "generate", sec, pub)
	if code != 0 || out != sec+" written\n"+pub+" written\n" {
		t.Fatalf("generate: code %d, output %q", code, out)
	}
	st, err := os.Stat(sec)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("identity.secret mode %v (%v)", st.Mode(), err)
	}
	secB, _ := os.ReadFile(sec)
	pubB, _ := os.ReadFile(pub)
	id, err := identity.Parse(string(secB))
	if err != nil || !id.HasPrivate() || !id.LocallyValidate() || id.String() != string(pubB) {
		t.Fatalf("generated files inconsistent: %v", err)
	}
	if strings.HasSuffix(string(secB), "\n") {
		t.Fatal("identity.secret has a trailing newline; the reference writes none")
	}
	got, _, code := ztctl(t, "identity", "getpublic", sec)
	if code != 0 || got != string(pubB) {
		t.Fatalf("getpublic: %d %q", code, got)
	}
}

func TestIdentityGenerateStdout(t *testing.T) {
	out, _, code := ztctl(t, "identity", "generate")
	id, err := identity.Parse(out)
	if code != 0 || err != nil || !id.HasPrivate() || strings.HasSuffix(out, "\n") {
		t.Fatalf("generate to stdout: %d %q %v", code, out, err)
	}
}

func TestIdentityValidate(t *testing.T) {
	for _, n := range []string{"id1.secret", "id2.public", "id3.secret"} {
		p := testdata("session1/" + n)
		out, _, code := ztctl(t, "identity", "validate", p)
		if code != 0 || out != p+" is a valid identity\n" {
			t.Errorf("validate %s: %d %q", n, code, out)
		}
	}
	// Literal identity on the command line, as the reference allows.
	lit := readTestdata(t, "session1/id1.public")
	if _, _, code := ztctl(t, "identity", "validate", lit); code != 0 {
		t.Error("literal identity rejected")
	}
	// Tampered: the address changed (the known-bad vector's trick).
	bad := "9" + lit[1:]
	_, errOut, code := ztctl(t, "identity", "validate", bad)
	if code != 1 || errOut != bad+" FAILED validation.\n" {
		t.Errorf("tampered identity: %d %q", code, errOut)
	}
	_, errOut, code = ztctl(t, "identity", "validate", "/nonexistent/identity")
	if code != 1 || !strings.HasPrefix(errOut, "Identity argument invalid or file unreadable") {
		t.Errorf("missing file: %d %q", code, errOut)
	}
	if _, _, code := ztctl(t, "identity", "validate"); code != 1 {
		t.Error("validate without arguments should fail")
	}
}

func TestIdentitySignVerify(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "msg.txt")
	os.WriteFile(file, []byte("a file to sign\n"), 0o644)
	sec, pub := testdata("session1/id2.secret"), testdata("session1/id2.public")

	sig, _, code := ztctl(t, "identity", "sign", sec, file)
	if code != 0 || len(sig) != 192 {
		t.Fatalf("sign: %d %q", code, sig)
	}
	out, _, code := ztctl(t, "identity", "verify", pub, file, sig)
	if code != 0 || out != file+" signature valid\n" {
		t.Fatalf("verify: %d %q", code, out)
	}
	// The signature may also come from a file.
	sigFile := filepath.Join(dir, "msg.sig")
	os.WriteFile(sigFile, []byte(sig+"\n"), 0o644)
	if _, _, code := ztctl(t, "identity", "verify", pub, file, sigFile); code != 0 {
		t.Fatal("verify with signature file failed")
	}
	// Wrong signer, changed file, changed signature.
	if _, e, code := ztctl(t, "identity", "verify", testdata("session1/id3.public"), file, sig); code != 1 || e != file+" signature check FAILED\n" {
		t.Fatalf("wrong signer: %d %q", code, e)
	}
	os.WriteFile(file, []byte("a file to sign!\n"), 0o644)
	if _, _, code := ztctl(t, "identity", "verify", pub, file, sig); code != 1 {
		t.Fatal("changed file verified")
	}
	// Signing needs the private key.
	if _, e, code := ztctl(t, "identity", "sign", pub, file); code != 1 || !strings.Contains(e, "does not contain a private key") {
		t.Fatalf("sign with public: %d %q", code, e)
	}
}

func TestIdentityUsage(t *testing.T) {
	for _, args := range [][]string{{"identity"}, {"identity", "frobnicate"}} {
		out, _, code := ztctl(t, args...)
		if code != 1 || !strings.Contains(out, "generate") {
			t.Errorf("%v: exit %d, output %q; want help on stdout and exit 1", args, code, out)
		}
	}
}
