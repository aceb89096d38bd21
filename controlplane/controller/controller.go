package controller

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"time"

	"github.com/ztx/ztx/crypto/identity"
)

// Options configures a Controller. Zero values mean the defaults.
type Options struct {
	// Now is the clock (default time.Now); records carry it in ms.
	Now func() time.Time
	// Rand supplies random network ids and IPv6 pool candidates
	// (default crypto/rand).
	Rand io.Reader
	// NetworkChanged is called, with the controller's lock held, after a
	// network record was saved or deleted (new is nil on delete). It is for
	// observers: the controller pushes configs and revocations itself.
	NetworkChanged func(old, new *Network)
	// MemberChanged is called likewise for members (old nil on create, new
	// nil on delete), including saves by the config request path.
	MemberChanged func(old, new *Member)

	// Signer is the controller node's identity with its private key. It
	// signs every credential and revocation the controller issues, and its
	// address must be the controller's. Without it Request drops every
	// request and nothing is pushed.
	Signer *identity.Identity
	// Pusher delivers configs and revocations the controller sends on its
	// own (see Pusher); it may also be set later with SetPusher.
	Pusher Pusher
}

// Controller applies the reference controller's update rules to a Store:
// defaults, revision counting and timestamps. It is safe for concurrent
// use; updates are serialised.
type Controller struct {
	addr  identity.Address
	store Store
	opts  Options

	mu         sync.Mutex                  // serialises updates and requests
	status     map[statusKey]*memberStatus // members that sent requests
	expiring   []expiry                    // SSO expiries to check, by time
	outbox     []delivery                  // pushes waiting for delivery
	delivering bool                        // some goroutine is draining outbox
	pusher     Pusher

	authMu     sync.Mutex // guards authorized only, so RecentlyAuthorized never waits on I/O
	authorized map[statusKey]int64
}

// New returns a controller for the node at addr, keeping records in store.
func New(addr identity.Address, store Store, opts Options) *Controller {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	return &Controller{
		addr:       addr,
		store:      store,
		opts:       opts,
		status:     map[statusKey]*memberStatus{},
		pusher:     opts.Pusher,
		authorized: map[statusKey]int64{},
	}
}

// Address is the controller's node address.
func (c *Controller) Address() identity.Address { return c.addr }

// Store is the controller's store.
func (c *Controller) Store() Store { return c.store }

func (c *Controller) nowMS() int64 { return c.opts.Now().UnixMilli() }

// NewNetworkID picks a random unused id under the controller's address
// (low 24 bits random, never 0).
func (c *Controller) NewNetworkID() (NetworkID, error) {
	ids, err := c.store.Networks()
	if err != nil {
		return 0, err
	}
	used := map[NetworkID]bool{}
	for _, id := range ids {
		used[id] = true
	}
	for range 100000 {
		var b [8]byte
		if _, err := io.ReadFull(c.opts.Rand, b[:]); err != nil {
			return 0, fmt.Errorf("controller: random network id: %w", err)
		}
		id := NetworkID(uint64(c.addr)<<24 | binary.LittleEndian.Uint64(b[:])&0xffffff)
		if id&0xffffff == 0 {
			id |= 1
		}
		if !used[id] {
			return id, nil
		}
	}
	return 0, errors.New("controller: no free network id")
}

// UpdateNetwork creates or updates network id from a POST body and saves
// it if anything changed; it returns the stored record.
func (c *Controller) UpdateNetwork(id NetworkID, body map[string]any) (*Network, error) {
	if id == 0 {
		return nil, fmt.Errorf("%w: network id 0", ErrBadRequest)
	}
	c.mu.Lock()
	defer c.unlockAndDeliver()
	old, err := c.store.Network(id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	var n *Network
	if old != nil {
		n = old.Clone()
	} else {
		n = NewNetwork(id, c.nowMS())
	}
	ApplyNetworkPost(n, body)
	n.setID(id)
	if err := c.saveNetwork(old, n); err != nil {
		return nil, err
	}
	return n, nil
}

// saveNetwork stores n if it differs from old apart from its revision,
// incrementing the revision, as the reference's save does, and queues a
// fresh config for every online member.
func (c *Controller) saveNetwork(old, n *Network) error {
	n.normalize()
	if old != nil && sameIgnoringRevision(old, n, func(x *Network) *uint64 { return &x.Revision }) {
		return nil
	}
	n.Revision++
	if err := c.store.PutNetwork(n); err != nil {
		return err
	}
	if c.opts.NetworkChanged != nil {
		c.opts.NetworkChanged(old, n)
	}
	c.networkSavedLocked(c.nowMS(), n.NetworkID())
	return nil
}

// DeleteNetwork removes a network and its members, returning the removed
// network record. Every member's COM is revoked.
func (c *Controller) DeleteNetwork(id NetworkID) (*Network, error) {
	c.mu.Lock()
	defer c.unlockAndDeliver()
	n, err := c.store.Network(id)
	if err != nil {
		return nil, err
	}
	members, err := c.store.Members(id)
	if err != nil {
		return nil, err
	}
	if err := c.store.DeleteNetwork(id); err != nil {
		return nil, err
	}
	if c.opts.MemberChanged != nil {
		for _, m := range members {
			c.opts.MemberChanged(m, nil)
		}
	}
	if c.opts.NetworkChanged != nil {
		c.opts.NetworkChanged(n, nil)
	}
	now := c.nowMS()
	for _, m := range members {
		c.revokeLocked(now, id, m.MemberAddress())
	}
	return n, nil
}

// UpdateMember creates or updates a member from a POST body; the network
// must exist.
func (c *Controller) UpdateMember(id NetworkID, addr identity.Address, body map[string]any) (*Member, error) {
	if addr.IsReserved() {
		return nil, fmt.Errorf("%w: reserved member address %v", ErrBadRequest, addr)
	}
	c.mu.Lock()
	defer c.unlockAndDeliver()
	if _, err := c.store.Network(id); err != nil {
		return nil, err
	}
	old, err := c.store.Member(id, addr)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	var m *Member
	if old != nil {
		m = old.Clone()
	} else {
		m = NewMember(id, addr, c.nowMS())
	}
	if err := ApplyMemberPost(m, body, c.nowMS()); err != nil {
		return nil, err
	}
	m.setID(id, addr)
	if err := c.saveMember(old, m, true); err != nil {
		return nil, err
	}
	return m, nil
}

// SaveMember stores a member changed by the caller, counting a revision if
// it changed; like an API update it pushes and revokes as needed.
func (c *Controller) SaveMember(m *Member) error {
	id, addr := m.NetworkID(), m.MemberAddress()
	c.mu.Lock()
	defer c.unlockAndDeliver()
	old, err := c.store.Member(id, addr)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return c.saveMember(old, m, true)
}

// saveMember stores m if it differs from old apart from its revision. With
// notify, a member that lost its authorization is revoked and an online
// member is pushed a fresh config; the request path saves without notify,
// since the member is getting a fresh config anyway.
func (c *Controller) saveMember(old, m *Member, notify bool) error {
	m.normalize()
	if old != nil && sameIgnoringRevision(old, m, func(x *Member) *uint64 { return &x.Revision }) {
		return nil
	}
	m.Revision++
	if err := c.store.PutMember(m); err != nil {
		return err
	}
	if c.opts.MemberChanged != nil {
		c.opts.MemberChanged(old, m)
	}
	if notify {
		now := c.nowMS()
		id, addr := m.NetworkID(), m.MemberAddress()
		c.pushConfigLocked(now, id, addr)
		if old != nil && old.Authorized && !m.Authorized {
			c.revokeLocked(now, id, addr)
		}
	}
	return nil
}

// DeleteMember removes a member, returning the removed record. An
// authorized member's COM is revoked.
func (c *Controller) DeleteMember(id NetworkID, addr identity.Address) (*Member, error) {
	c.mu.Lock()
	defer c.unlockAndDeliver()
	m, err := c.store.Member(id, addr)
	if err != nil {
		return nil, err
	}
	if err := c.store.DeleteMember(id, addr); err != nil {
		return nil, err
	}
	if c.opts.MemberChanged != nil {
		c.opts.MemberChanged(m, nil)
	}
	if m.Authorized {
		c.revokeLocked(c.nowMS(), id, addr)
	}
	return m, nil
}

// AssignIPs runs Assign for a member against the addresses every other
// member of the network holds, saves the member if addresses were
// allocated, and returns the assignment.
func (c *Controller) AssignIPs(id NetworkID, addr identity.Address) (Assignment, error) {
	c.mu.Lock()
	defer c.unlockAndDeliver()
	n, err := c.store.Network(id)
	if err != nil {
		return Assignment{}, err
	}
	members, err := c.store.Members(id)
	if err != nil {
		return Assignment{}, err
	}
	old, err := c.store.Member(id, addr)
	if err != nil {
		return Assignment{}, err
	}
	m := old.Clone()
	used := allocatedIPs(members, addr)
	as := Assign(n, m, func(a netip.Addr) bool { return used[a] }, c.opts.Rand)
	if as.Changed {
		if err := c.saveMember(old, m, true); err != nil {
			return Assignment{}, err
		}
	}
	return as, nil
}
