package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ztctl runs the command in-process and returns its outputs and exit code.
func ztctl(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(append([]string{"ztctl"}, args...), &o, &e)
	return o.String(), e.String(), code
}

func testdata(name string) string { return filepath.Join("..", "..", "testdata", name) }

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(testdata(name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustContain(t *testing.T, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Fatalf("%s: %q does not contain %q", what, got, want)
	}
}

// origWD is the package directory, for tests that change directory.
var origWD, _ = os.Getwd()

func TestLeadingOptionsLast(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"ztctl -D /h -j peers", "ztctl peers -D /h -j"},
		{"ztctl -D/h -p 9994 info", "ztctl info -D /h -p 9994"},
		{"ztctl ping abc -c 3", "ztctl ping abc -c 3"},
		{"ztctl -j identity generate", "ztctl -j identity generate"},
		{"ztctl --version", "ztctl --version"},
		{"ztctl -j bpf status", "ztctl bpf status -j"},
		{"ztctl -j bpf dump trusted", "ztctl bpf dump -j trusted"},
		{"ztctl bpf dump trusted -j", "ztctl bpf dump trusted -j"},
		{"ztctl -j bpf", "ztctl -j bpf"},
	} {
		if got := strings.Join(leadingOptionsLast(strings.Fields(c.in)), " "); got != c.want {
			t.Errorf("%q -> %q, want %q", c.in, got, c.want)
		}
	}
}
