package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ztx/ztx/headers/inet"
	"github.com/ztx/ztx/headers/world"
)

func TestWorldMoon(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if _, e, code := ztctl(t, "world", "initmoon", "nonexistent.public"); code != 1 || e != "nonexistent.public is not a valid identity\n" {
		t.Fatalf("initmoon with a bad path: exit %d %q", code, e)
	}
	out, _, code := ztctl(t, "world", "initmoon", filepath.Join(origWD, "..", "..", "testdata", "session1", "id1.public"))
	if code != 0 {
		t.Fatalf("initmoon: %d", code)
	}
	// The reference prints its JSON with sorted keys and one-space indents.
	if !strings.HasPrefix(out, "{\n \"id\": \"f737c19395\",\n \"objtype\": \"world\",\n \"roots\": [\n  {\n") ||
		!strings.HasSuffix(out, "\"worldType\": \"moon\"\n}\n") {
		t.Fatalf("initmoon output:\n%s", out)
	}
	var spec map[string]any
	if err := json.Unmarshal([]byte(out), &spec); err != nil {
		t.Fatal(err)
	}
	spec["roots"].([]any)[0].(map[string]any)["stableEndpoints"] = []string{"10.77.0.1/9993", "fd00::1/9993"}
	b, _ := json.Marshal(spec)
	os.WriteFile("moon.json", b, 0o600)

	out, _, code = ztctl(t, "world", "genmoon", "moon.json")
	if code != 0 || !strings.HasPrefix(out, "wrote 000000f737c19395.moon (signed world with timestamp ") {
		t.Fatalf("genmoon: %d %q", code, out)
	}
	raw, err := os.ReadFile("000000f737c19395.moon")
	if err != nil {
		t.Fatal(err)
	}
	w, err := world.Parse(raw)
	if err != nil || w.Type != world.TypeMoon || w.ID != 0xf737c19395 || len(w.Roots) != 1 || len(w.Roots[0].StableEndpoints) != 2 {
		t.Fatalf("moon file: %v %+v", err, w)
	}
	if !w.Verify(&w.UpdatesMustBeSignedBy) {
		t.Fatal("moon not signed by its key")
	}
	out, _, code = ztctl(t, "world", "show", "000000f737c19395.moon")
	if code != 0 || !strings.Contains(out, "moon 000000f737c19395") || !strings.Contains(out, "f737c19395  10.77.0.1/9993 fd00::1/9993") ||
		!strings.Contains(out, "signed by its own update key") {
		t.Fatalf("show:\n%s", out)
	}
	// A signing secret that does not match the public key is refused.
	spec["signingKey_SECRET"] = strings.Repeat("00", 64)
	b, _ = json.Marshal(spec)
	os.WriteFile("bad.json", b, 0o600)
	if _, e, code := ztctl(t, "world", "genmoon", "bad.json"); code != 1 || !strings.Contains(e, "signingKey_SECRET") {
		t.Fatalf("mismatched key: %d %q", code, e)
	}
	spec["worldType"] = "galaxy"
	b, _ = json.Marshal(spec)
	os.WriteFile("bad.json", b, 0o600)
	if _, e, code := ztctl(t, "world", "genmoon", "bad.json"); code != 1 || e != "invalid worldType\n" {
		t.Fatalf("bad worldType: %d %q", code, e)
	}
}

func TestWorldMkPlanet(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	id1, _ := os.ReadFile(filepath.Join(origWD, "..", "..", "testdata", "session1", "id1.public"))
	spec := `{"id": "7a7a0002", "timestamp": 1700000000000, "roots": [{"identity": "` + string(id1) +
		`", "stableEndpoints": ["10.77.0.1/9993"]}]}`
	os.WriteFile("spec.json", []byte(spec), 0o600)
	out, errOut, code := ztctl(t, "world", "mkplanet", "spec.json")
	if code != 0 || out != "wrote planet (planet 000000007a7a0002, timestamp 1700000000000, 1 roots)\n" ||
		!strings.Contains(errOut, "generated a signing key") {
		t.Fatalf("mkplanet: %d %q %q", code, out, errOut)
	}
	p1, _ := os.ReadFile("planet")
	w, err := world.Parse(p1)
	if err != nil || w.Type != world.TypePlanet || w.Timestamp != 1700000000000 || inet.Format(w.Roots[0].StableEndpoints[0]) != "10.77.0.1/9993" {
		t.Fatalf("planet: %v %+v", err, w)
	}
	// The key was saved: a second revision is signed by it and passes the
	// update rule against the first.
	var saved map[string]any
	sb, _ := os.ReadFile("spec.json")
	if err := json.Unmarshal(sb, &saved); err != nil || saved["signingKey_SECRET"] == "" {
		t.Fatalf("spec not updated: %v", err)
	}
	saved["timestamp"] = 1700000001000
	sb, _ = json.Marshal(saved)
	os.WriteFile("spec.json", sb, 0o600)
	if _, _, code := ztctl(t, "world", "mkplanet", "-o", "planet2", "spec.json"); code != 0 {
		t.Fatal("second revision failed")
	}
	p2, _ := os.ReadFile("planet2")
	w2, _ := world.Parse(p2)
	if !world.ShouldReplace(w, w2) {
		t.Fatal("second planet revision does not replace the first")
	}
	// JSON view.
	js, _, code := ztctl(t, "world", "show", "-j", "planet2")
	var m map[string]any
	if code != 0 || json.Unmarshal([]byte(js), &m) != nil || m["id"] != "000000007a7a0002" || m["selfSigned"] != true {
		t.Fatalf("show -j: %s", js)
	}
	// Garbage is an error, not a crash.
	os.WriteFile("junk", bytes.Repeat([]byte{1}, 300), 0o644)
	if _, _, code := ztctl(t, "world", "show", "junk"); code != 1 {
		t.Fatal("junk world accepted")
	}
	os.WriteFile("spec.json", []byte(`{"id":"0","roots":[]}`), 0o600)
	if _, _, code := ztctl(t, "world", "mkplanet", "spec.json"); code != 1 {
		t.Fatal("world ID 0 accepted")
	}
}
