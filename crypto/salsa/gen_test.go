//go:build amd64 && !purego

package salsa

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedAsm checks that salsa_amd64.s is what asm_gen.go produces.
func TestGeneratedAsm(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	out := filepath.Join(t.TempDir(), "salsa_amd64.s")
	cmd := exec.Command("go", "run", "asm_gen.go", "-out", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("asm_gen: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("salsa_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("salsa_amd64.s is stale: run go generate in crypto/salsa")
	}
}
