package vl1

import (
	"net/netip"
	"slices"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/world"
)

// Role is a peer's place in the topology.
type Role string

// Roles, as the local API names them.
const (
	RoleLeaf   Role = "LEAF"
	RoleMoon   Role = "MOON"
	RolePlanet Role = "PLANET"
)

// root is an upstream: a root server of the planet or of a moon.
type root struct {
	id        *identity.Identity
	endpoints []netip.AddrPort
	role      Role
}

// topology holds the worlds and what follows from them.
type topology struct {
	self   identity.Address
	planet *world.World
	moons  []*world.World              // sorted by ID
	seeds  map[uint64]identity.Address // pending orbits: moon ID -> seed
	roots  map[identity.Address]*root  // derived
	order  []identity.Address          // roots sorted by address
	amRoot bool                        // derived
}

func newTopology(self identity.Address, planet *world.World, moons []*world.World) *topology {
	t := &topology{self: self, planet: planet, seeds: map[uint64]identity.Address{}}
	for _, m := range moons {
		if m != nil && m.Type == world.TypeMoon {
			t.putMoon(m)
		}
	}
	t.recompute()
	return t
}

func (t *topology) putMoon(m *world.World) {
	i, found := slices.BinarySearchFunc(t.moons, m.ID, func(w *world.World, id uint64) int {
		switch {
		case w.ID < id:
			return -1
		case w.ID > id:
			return 1
		}
		return 0
	})
	if found {
		t.moons[i] = m
	} else {
		t.moons = slices.Insert(t.moons, i, m)
	}
}

func (t *topology) recompute() {
	t.roots = map[identity.Address]*root{}
	t.amRoot = false
	add := func(w *world.World, role Role) {
		for _, r := range w.Roots {
			if r.Identity == nil {
				continue
			}
			if r.Identity.Address == t.self {
				t.amRoot = true
				continue
			}
			if old, ok := t.roots[r.Identity.Address]; ok {
				old.endpoints = append(old.endpoints, r.StableEndpoints...)
				continue
			}
			t.roots[r.Identity.Address] = &root{id: r.Identity, endpoints: slices.Clone(r.StableEndpoints), role: role}
		}
	}
	if t.planet != nil {
		add(t.planet, RolePlanet)
	}
	for _, m := range t.moons {
		add(m, RoleMoon)
	}
	t.order = t.order[:0]
	for a := range t.roots {
		t.order = append(t.order, a)
	}
	slices.Sort(t.order)
}

// role of an address.
func (t *topology) role(a identity.Address) Role {
	if r, ok := t.roots[a]; ok {
		return r.role
	}
	return RoleLeaf
}

// isUpstream: a root of the planet or a moon.
func (t *topology) isUpstream(a identity.Address) bool {
	_, ok := t.roots[a]
	return ok
}

// isSeed: the seed of a pending orbit.
func (t *topology) isSeed(a identity.Address) bool {
	for _, s := range t.seeds {
		if s == a {
			return true
		}
	}
	return false
}

// endpointAllowed applies the rule that an upstream is reached only at its
// stable endpoints' IPs (when it has any).
func (t *topology) endpointAllowed(a identity.Address, ip netip.Addr) bool {
	r, ok := t.roots[a]
	if !ok || len(r.endpoints) == 0 {
		return true
	}
	for _, ep := range r.endpoints {
		if ep.Addr().Unmap() == ip.Unmap() {
			return true
		}
	}
	return false
}

// moon returns the moon with that ID.
func (t *topology) moon(id uint64) *world.World {
	for _, m := range t.moons {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// offer applies the update rules to a world received from sender and
// reports whether it was taken.
func (t *topology) offer(w *world.World, sender identity.Address) bool {
	switch w.Type {
	case world.TypePlanet:
		if t.planet == nil || !world.ShouldReplace(t.planet, w) {
			return false
		}
		t.planet = w
	case world.TypeMoon:
		if old := t.moon(w.ID); old != nil {
			if !world.ShouldReplace(old, w) {
				return false
			}
		} else {
			seed, pending := t.seeds[w.ID]
			if !pending || seed != sender || !slices.ContainsFunc(w.Roots, func(r world.Root) bool {
				return r.Identity != nil && r.Identity.Address == seed
			}) {
				return false
			}
			delete(t.seeds, w.ID)
		}
		t.putMoon(w)
	default:
		return false
	}
	t.recompute()
	return true
}

// removeMoon deorbits a moon and forgets pending seeds for it.
func (t *topology) removeMoon(id uint64) bool {
	delete(t.seeds, id)
	i := slices.IndexFunc(t.moons, func(w *world.World) bool { return w.ID == id })
	if i < 0 {
		return false
	}
	t.moons = slices.Delete(t.moons, i, i+1)
	t.recompute()
	return true
}
