package controller

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/ztx/ztx/crypto/identity"
)

// FileStore is the embedded file database, laid out like the reference's
// controller.d (see the package doc). It reads records from disk on every
// call, so what it returns is exactly what a restart would load.
type FileStore struct {
	dir string
	mu  sync.Mutex // serialises writers, so temp files and directory syncs do not interleave
}

var _ Store = (*FileStore)(nil)

// OpenFileStore opens (creating if needed) a controller database in dir.
func OpenFileStore(dir string) (*FileStore, error) {
	for _, d := range []string{dir, filepath.Join(dir, "network"), filepath.Join(dir, "trace")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("controller: open database: %w", err)
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("controller: open database: %w", err)
	}
	s := &FileStore{dir: dir}
	s.removeTemps()
	return s, nil
}

// removeTemps deletes temporary files a crash left behind (best effort).
func (s *FileStore) removeTemps() {
	dirs, _ := filepath.Glob(filepath.Join(s.networksDir(), "*", "member"))
	for _, d := range append(dirs, s.networksDir()) {
		tmps, _ := filepath.Glob(filepath.Join(d, ".tmp-*"))
		for _, f := range tmps {
			os.Remove(f)
		}
	}
}

func (s *FileStore) networksDir() string { return filepath.Join(s.dir, "network") }

func (s *FileStore) networkFile(id NetworkID) string {
	return filepath.Join(s.networksDir(), id.String()+".json")
}

func (s *FileStore) membersDir(id NetworkID) string {
	return filepath.Join(s.networksDir(), id.String(), "member")
}

func (s *FileStore) memberFile(id NetworkID, a identity.Address) string {
	return filepath.Join(s.membersDir(id), a.String()+".json")
}

// Networks implements Store. Like the reference, it only considers files
// named <16 hex>.json.
func (s *FileStore) Networks() ([]NetworkID, error) {
	ents, err := os.ReadDir(s.networksDir())
	if err != nil {
		return nil, fmt.Errorf("controller: list networks: %w", err)
	}
	var ids []NetworkID
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() || len(e.Name()) != 21 {
			continue
		}
		if id, err := ParseNetworkID(name); err == nil && name == id.String() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// Network implements Store.
func (s *FileStore) Network(id NetworkID) (*Network, error) {
	// Fields missing from the file take the defaults, as the reference's
	// initNetwork gives them on the next update; the id is the file's name.
	n := NewNetwork(id, 0)
	if err := readJSON(s.networkFile(id), n); err != nil {
		return nil, err
	}
	n.setID(id)
	n.normalize()
	return n, nil
}

// PutNetwork implements Store.
func (s *FileStore) PutNetwork(n *Network) error {
	id, err := ParseNetworkID(n.ID)
	if err != nil {
		return err
	}
	n.normalize()
	b, err := marshal(n)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return writeFileAtomic(s.networkFile(id), b)
}

// DeleteNetwork implements Store: the network file goes first, so a crash
// half-way leaves only member files, which are not loaded without it.
func (s *FileStore) DeleteNetwork(id NetworkID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := os.Remove(s.networkFile(id))
	if errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("controller: network %v: %w", id, ErrNotFound)
	}
	if err := os.RemoveAll(filepath.Join(s.networksDir(), id.String())); err != nil {
		return fmt.Errorf("controller: delete network %v: %w", id, err)
	}
	if serr := syncDir(s.networksDir()); serr != nil {
		return serr
	}
	return err
}

// Members implements Store. Like the reference, it only considers files
// named <10 hex>.json.
func (s *FileStore) Members(id NetworkID) ([]*Member, error) {
	ents, err := os.ReadDir(s.membersDir(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("controller: list members: %w", err)
	}
	var out []*Member
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() || len(e.Name()) != 15 {
			continue
		}
		a, err := parseMemberAddress(name)
		if err != nil || name != a.String() {
			continue
		}
		m, err := s.Member(id, a)
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Member implements Store.
func (s *FileStore) Member(id NetworkID, a identity.Address) (*Member, error) {
	m := NewMember(id, a, 0)
	if err := readJSON(s.memberFile(id, a), m); err != nil {
		return nil, err
	}
	m.setID(id, a)
	m.normalize()
	return m, nil
}

// PutMember implements Store.
func (s *FileStore) PutMember(m *Member) error {
	id, err := ParseNetworkID(m.NWID)
	if err != nil {
		return err
	}
	a, err := parseMemberAddress(m.ID)
	if err != nil {
		return err
	}
	m.normalize()
	b, err := marshal(m)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := mkdirDurable(s.networksDir(), id.String(), "member"); err != nil {
		return err
	}
	return writeFileAtomic(s.memberFile(id, a), b)
}

// DeleteMember implements Store.
func (s *FileStore) DeleteMember(id NetworkID, a identity.Address) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := os.Remove(s.memberFile(id, a))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("controller: member %v/%v: %w", id, a, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("controller: delete member: %w", err)
	}
	return syncDir(s.membersDir(id))
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("controller: %s: %w", filepath.Base(path), ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("controller: read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("controller: decode %s: %w", path, err)
	}
	return nil
}

// mkdirDurable creates base/elems... one level at a time, syncing each
// parent after creating a child so the new directory entries survive a crash.
func mkdirDurable(base string, elems ...string) error {
	dir := base
	for _, e := range elems {
		child := filepath.Join(dir, e)
		err := os.Mkdir(child, 0o700)
		if err == nil {
			if err := syncDir(dir); err != nil {
				return err
			}
		} else if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("controller: mkdir: %w", err)
		}
		dir = child
	}
	return nil
}

// writeFileAtomic replaces path with b so that after a crash path holds
// either the old or the new contents, and the new ones once it returns:
// write a temporary file in the same directory, fsync it, rename it over
// path, fsync the directory.
func writeFileAtomic(path string, b []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("controller: write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("controller: write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("controller: write %s: %w", path, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("controller: sync %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("controller: sync %s: %w", dir, err)
	}
	return nil
}
