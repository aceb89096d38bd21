package home

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/ztx/ztx/headers/world"
)

// Planet returns the planet stored in the planet file, or the default
// planet (world.Earth) when there is none. Bytes after the world are
// ignored, as the reference ignores them. A file that does not parse or
// holds something other than a planet is an error. The caller still offers
// world.Earth as an update to a stored planet (it replaces it only when it
// has the same ID, is newer and is correctly signed).
func (h *Home) Planet() (*world.World, error) {
	path := h.Path(PlanetFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return world.Earth(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("home: %w", err)
	}
	w, _, err := world.ParseN(b)
	if err != nil {
		return nil, fmt.Errorf("home: %s: %w", path, err)
	}
	if w.Type != world.TypePlanet {
		return nil, fmt.Errorf("home: %s holds a %s, not a planet", path, w.Type)
	}
	return w, nil
}

// Moons returns the moons stored in moons.d, sorted by ID: every file
// named <16 hex digits>.moon that holds a moon with that ID. Files that do
// not are reported in the error (errors.Join, one per file) and left out;
// the moons that did load are returned with it.
func (h *Home) Moons() ([]*world.World, error) {
	ents, err := os.ReadDir(h.Path(MoonsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("home: %w", err)
	}
	var (
		out  []*world.World
		errs []error
	)
	for _, e := range ents {
		id, ok := parseHexName(e.Name(), 16, ".moon")
		if !ok || e.IsDir() {
			continue
		}
		w, err := readMoon(h.Path(MoonsDir, e.Name()), id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b *world.World) int { return cmp.Compare(a.ID, b.ID) })
	return out, errors.Join(errs...)
}

// Moon reads moons.d/<id>.moon. A missing file is an error wrapping
// fs.ErrNotExist.
func (h *Home) Moon(id uint64) (*world.World, error) {
	return readMoon(h.Path(MoonsDir, world.FileName(id)), id)
}

func readMoon(path string, id uint64) (*world.World, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("home: %w", err)
	}
	w, _, err := world.ParseN(b)
	if err != nil {
		return nil, fmt.Errorf("home: %s: %w", path, err)
	}
	if w.Type != world.TypeMoon || w.ID != id {
		return nil, fmt.Errorf("home: %s holds %s %016x, not moon %016x", path, w.Type, w.ID, id)
	}
	return w, nil
}

// SaveWorld stores a planet in the planet file or a moon in
// moons.d/<16 hex ID>.moon, only if the stored bytes differ.
func (h *Home) SaveWorld(w *world.World) error {
	var path string
	switch w.Type {
	case world.TypePlanet:
		path = h.Path(PlanetFile)
	case world.TypeMoon:
		path = h.Path(MoonsDir, world.FileName(w.ID))
	default:
		return fmt.Errorf("home: cannot store a %s world", w.Type)
	}
	if err := w.Validate(); err != nil {
		return fmt.Errorf("home: %w", err)
	}
	_, err := writeFileAtomic(path, w.AppendMarshal(nil), 0o644)
	return err
}

// DeleteMoon removes a moon's file (deorbit). A missing file is not an
// error.
func (h *Home) DeleteMoon(id uint64) error {
	return removeFile(h.Path(MoonsDir, world.FileName(id)))
}

// parseHexName reads names of the form <digits hex digits><suffix>. Like
// the reference, upper-case hex digits are accepted.
func parseHexName(name string, digits int, suffix string) (uint64, bool) {
	stem, ok := strings.CutSuffix(name, suffix)
	if !ok || len(stem) != digits {
		return 0, false
	}
	v, err := strconv.ParseUint(stem, 16, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}
