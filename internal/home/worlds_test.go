package home

import (
	"bytes"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/world"
	"github.com/ztx/ztx/internal/testvec"
)

func testIdentity(t testing.TB, name string) *identity.Identity {
	t.Helper()
	b, err := os.ReadFile(testvec.MustPath(t, "session1", name))
	if err != nil {
		t.Fatal(err)
	}
	id, err := identity.ParseFile(b)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func makeMoon(t *testing.T, signer *identity.Identity, id, ts uint64) *world.World {
	t.Helper()
	roots := []world.Root{{
		Identity:        signer.PublicOnly(),
		StableEndpoints: []netip.AddrPort{ap("203.0.113.1:9993"), ap("[2001:db8::1]:9993")},
	}}
	w, err := world.Make(world.TypeMoon, id, ts, &signer.Public, roots, signer.Private)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestPlanet(t *testing.T) {
	h, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.Planet()
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != world.IDEarth || !bytes.Equal(p.AppendMarshal(nil), world.EarthBytes()) {
		t.Errorf("no planet file: got world %d, want Earth", p.ID)
	}

	bin, err := os.ReadFile(testvec.MustPath(t, "session1", "planet.bin"))
	if err != nil {
		t.Fatal(err)
	}
	writeString(t, h.Path(PlanetFile), string(bin))
	p, err = h.Planet()
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != world.TypePlanet || p.ID != 2054815745 || !bytes.Equal(p.AppendMarshal(nil), bin) {
		t.Errorf("planet.bin: %s %d", p.Type, p.ID)
	}
	if !p.Verify(&p.UpdatesMustBeSignedBy) {
		t.Error("planet.bin signature does not verify")
	}

	// Trailing bytes are ignored, like the reference.
	writeString(t, h.Path(PlanetFile), string(bin)+"trailing junk")
	if q, err := h.Planet(); err != nil || q.ID != p.ID {
		t.Errorf("planet with trailing bytes: %v", err)
	}

	// SaveWorld writes it back byte for byte, and only when it changed.
	if err := h.SaveWorld(p); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, h.Path(PlanetFile)); got != string(bin) {
		t.Error("SaveWorld(planet) changed the bytes")
	}

	for name, content := range map[string]string{
		"truncated": string(bin[:100]),
		"badType":   "\x05" + string(bin[1:]),
		"empty":     "",
		"moon":      string(makeMoon(t, testIdentity(t, "id1.secret"), 0x1234, 1).AppendMarshal(nil)),
	} {
		writeString(t, h.Path(PlanetFile), content)
		if w, err := h.Planet(); err == nil {
			t.Errorf("%s planet file loaded: %v", name, w.ID)
		}
	}
}

func TestMoons(t *testing.T) {
	h, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if ms, err := h.Moons(); err != nil || len(ms) != 0 {
		t.Fatalf("no moons.d: %v %v", ms, err)
	}
	id1, id2 := testIdentity(t, "id1.secret"), testIdentity(t, "id2.secret")
	m1 := makeMoon(t, id1, uint64(id1.Address), 1000)
	m2 := makeMoon(t, id2, 0xdeadbeef00, 2000)
	for _, m := range []*world.World{m2, m1} {
		if err := h.SaveWorld(m); err != nil {
			t.Fatal(err)
		}
	}
	name := h.Path(MoonsDir, "000000"+id1.Address.String()+".moon")
	if _, err := os.Stat(name); err != nil {
		t.Fatalf("moon file name: %v", err)
	}
	ms, err := h.Moons()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].ID > ms[1].ID {
		t.Fatalf("Moons = %d moons", len(ms))
	}
	for _, m := range ms {
		want := m1
		if m.ID == m2.ID {
			want = m2
		}
		if !bytes.Equal(m.AppendMarshal(nil), want.AppendMarshal(nil)) || !m.Verify(&want.UpdatesMustBeSignedBy) {
			t.Errorf("moon %016x did not round-trip", m.ID)
		}
	}
	if m, err := h.Moon(m2.ID); err != nil || m.Timestamp != 2000 {
		t.Errorf("Moon: %v", err)
	}

	// Bad files are reported; the good moons still load; other names are
	// not looked at.
	writeString(t, h.Path(MoonsDir, "0000000000000bad.moon"), "garbage")
	writeString(t, h.Path(MoonsDir, "00000000000000aa.moon"), string(m1.AppendMarshal(nil))) // wrong ID
	writeString(t, h.Path(MoonsDir, "notamoon.moon"), "x")
	writeString(t, h.Path(MoonsDir, "00000000000000ab.moon~"), "x")
	ms, err = h.Moons()
	if len(ms) != 2 {
		t.Errorf("%d moons with bad files present", len(ms))
	}
	if err == nil || !strings.Contains(err.Error(), "0000000000000bad.moon") || !strings.Contains(err.Error(), "00000000000000aa.moon") {
		t.Errorf("Moons error: %v", err)
	}

	if err := h.DeleteMoon(m1.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.DeleteMoon(m1.ID); err != nil {
		t.Errorf("deleting a missing moon: %v", err)
	}
	if _, err := h.Moon(m1.ID); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Moon after delete: %v", err)
	}
	if err := h.SaveWorld(&world.World{Type: world.TypeNull}); err == nil {
		t.Error("saved a null world")
	}
	noTempFiles(t, h.Dir())
}
