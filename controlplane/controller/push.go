package controller

import (
	"cmp"
	"encoding/binary"
	"io"
	"net/netip"
	"slices"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/cred"
)

// Timing of the reference controller, in ms.
const (
	// MinRequestPeriod is the rate limit: a request arriving within this
	// time of the previous one from the same member for the same network
	// is dropped.
	MinRequestPeriod = 1000
	// OnlineWindow is how long after its last request a member counts as
	// online and gets pushes (2 × ZT_NETWORK_AUTOCONF_DELAY).
	OnlineWindow = 120000
	// AuthorizedWindow is how long after the controller last issued a
	// member a config RecentlyAuthorized reports it (3 × ZT_NETWORK_AUTOCONF_DELAY).
	AuthorizedWindow = 180000
	// pruneInterval spaces Background's clean-up of request state.
	pruneInterval = 60000
)

// Pusher delivers what the controller sends on its own, outside of answers
// to requests. The controller calls it without holding any of its locks,
// from whichever goroutine caused the push (a Request, an API update or
// Background), one call at a time and in the order the pushes arose.
type Pusher interface {
	// PushConfig sends c to member to as NETWORK_CONFIG (chunked and
	// signed by the caller with the node identity).
	PushConfig(nwid uint64, to identity.Address, c *netconf.Config)
	// PushRevocation sends r in NETWORK_CREDENTIALS to each of to.
	PushRevocation(nwid uint64, to []identity.Address, r cred.Revocation)
}

// statusKey names one member of one network.
type statusKey struct {
	nwid NetworkID
	addr identity.Address
}

// memberStatus is what the controller remembers, in memory only, about a
// member that sent requests (the reference's _MemberStatus).
type memberStatus struct {
	lastRequest int64          // ms of the last request not dropped by the rate limit
	from        netip.AddrPort // physical address of the last request that came with one
	// id and meta are the identity and metadata of the last request that
	// was answered with a config; pushes replay them. meta is nil before.
	id   *identity.Identity
	meta *netconf.Request
}

func (s *memberStatus) online(now int64) bool { return now-s.lastRequest < OnlineWindow }

// expiry is an SSO authentication expiry to check.
type expiry struct {
	when int64
	key  statusKey
}

// delivery is one queued push: a config (conf) for one member, or a
// revocation (rev) for several.
type delivery struct {
	nwid NetworkID
	to   []identity.Address
	conf *netconf.Config
	rev  *cred.Revocation
}

// SetPusher sets the Pusher (replacing Options.Pusher). Pushes that arise
// while there is none are dropped.
func (c *Controller) SetPusher(p Pusher) {
	c.mu.Lock()
	c.pusher = p
	c.mu.Unlock()
}

// unlockAndDeliver releases c.mu, then hands queued pushes to the Pusher
// with no lock held. One goroutine at a time delivers, so pushes leave in
// the order they were queued; a goroutine that finds another delivering
// leaves its pushes to it.
func (c *Controller) unlockAndDeliver() {
	if c.delivering {
		c.mu.Unlock()
		return
	}
	c.delivering = true
	locked := true
	defer func() {
		// Let a later call deliver again even if the Pusher panicked.
		if !locked {
			c.mu.Lock()
		}
		c.delivering = false
		c.mu.Unlock()
	}()
	for len(c.outbox) > 0 {
		batch, p := c.outbox, c.pusher
		c.outbox = nil
		c.mu.Unlock()
		locked = false
		if p != nil {
			for _, d := range batch {
				if d.conf != nil {
					p.PushConfig(uint64(d.nwid), d.to[0], d.conf)
				} else {
					p.PushRevocation(uint64(d.nwid), d.to, *d.rev)
				}
			}
		}
		c.mu.Lock()
		locked = true
	}
}

// onlineLocked returns the online members of a network in address order.
func (c *Controller) onlineLocked(now int64, id NetworkID) []identity.Address {
	var out []identity.Address
	for k, s := range c.status {
		if k.nwid == id && s.online(now) {
			out = append(out, k.addr)
		}
	}
	slices.Sort(out)
	return out
}

// pushConfigLocked queues a fresh config for member addr if it is online
// and was answered with a config before: the request is replayed with the
// identity and metadata it last sent, as the reference does, so a member
// that is no longer authorized gets nothing.
func (c *Controller) pushConfigLocked(now int64, id NetworkID, addr identity.Address) {
	s := c.status[statusKey{id, addr}]
	if s == nil || s.meta == nil || !s.online(now) {
		return
	}
	if a := c.serveLocked(now, id, s.id, s.meta, true); a.Config != nil {
		c.outbox = append(c.outbox, delivery{nwid: id, to: []identity.Address{addr}, conf: a.Config})
	}
}

// networkSavedLocked queues a fresh config for every online member.
func (c *Controller) networkSavedLocked(now int64, id NetworkID) {
	for _, a := range c.onlineLocked(now, id) {
		c.pushConfigLocked(now, id, a)
	}
}

// revokeLocked queues a revocation of target's COM, threshold now, for
// every online member of the network (the target included).
func (c *Controller) revokeLocked(now int64, id NetworkID, target identity.Address) {
	to := c.onlineLocked(now, id)
	if len(to) == 0 || !c.canSign(id) {
		return
	}
	var b [4]byte
	if _, err := io.ReadFull(c.opts.Rand, b[:]); err != nil {
		return
	}
	r := cred.Revocation{
		ID:             binary.BigEndian.Uint32(b[:]),
		NetworkID:      uint64(id),
		CredentialID:   0,
		Threshold:      now,
		Flags:          cred.RevocationFastPropagate,
		Target:         target,
		CredentialType: cred.CredentialCOM,
	}
	if r.Sign(c.opts.Signer) != nil {
		return
	}
	c.outbox = append(c.outbox, delivery{nwid: id, to: to, rev: &r})
}

// canSign reports whether the controller can issue credentials for
// network id: it has a signer with a private key whose address is the
// network's controller.
func (c *Controller) canSign(id NetworkID) bool {
	s := c.opts.Signer
	return s != nil && s.HasPrivate() && s.Address == id.Controller()
}

// noteAuthorized records that member addr was issued a config at now.
func (c *Controller) noteAuthorized(now int64, k statusKey) {
	c.authMu.Lock()
	c.authorized[k] = now
	c.authMu.Unlock()
}

// RecentlyAuthorized reports whether the controller issued member a a
// config for network nwid (as an answer or a push) within the last
// AuthorizedWindow ms, which lets the controller's node accept the
// member's MULTICAST_LIKE and MULTICAST_GATHER before it holds its COM. It
// takes no lock that is held during I/O or while calling the Pusher.
func (c *Controller) RecentlyAuthorized(now int64, nwid uint64, a identity.Address) bool {
	c.authMu.Lock()
	t, ok := c.authorized[statusKey{NetworkID(nwid), a}]
	c.authMu.Unlock()
	return ok && now-t < AuthorizedWindow
}

// LastRequest returns the time of member a's last request for network
// nwid that the rate limit let through, and the physical address of the
// last one that came with a valid one. The reference keeps this in memory
// only, and so does this controller.
func (c *Controller) LastRequest(nwid uint64, a identity.Address) (at int64, from netip.AddrPort, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.status[statusKey{NetworkID(nwid), a}]
	if s == nil {
		return 0, netip.AddrPort{}, false
	}
	return s.lastRequest, s.from, true
}

// addExpiryLocked schedules an SSO expiry check (once per time and member).
func (c *Controller) addExpiryLocked(e expiry) {
	i, found := slices.BinarySearchFunc(c.expiring, e, cmpExpiry)
	if !found {
		c.expiring = slices.Insert(c.expiring, i, e)
	}
}

func cmpExpiry(a, b expiry) int {
	return cmp.Or(cmp.Compare(a.when, b.when), cmp.Compare(a.key.nwid, b.key.nwid), cmp.Compare(a.key.addr, b.key.addr))
}

// Background does the controller's periodic work and returns when it
// wants to be called next (ms). It revokes the COM of members whose SSO
// authentication expired (the reference checks every 500 ms; this
// controller asks to be called at the earliest expiry instead), and
// forgets request state older than the windows that use it.
func (c *Controller) Background(now int64) (next int64) {
	c.mu.Lock()
	defer c.unlockAndDeliver()
	for len(c.expiring) > 0 && c.expiring[0].when <= now {
		k := c.expiring[0].key
		c.expiring = c.expiring[1:]
		// The member may have authenticated again since: check its record.
		if _, err := c.store.Network(k.nwid); err != nil {
			continue
		}
		m, err := c.store.Member(k.nwid, k.addr)
		if err == nil && m.AuthenticationExpiryTime <= now {
			c.revokeLocked(now, k.nwid, k.addr)
		}
	}
	for k, s := range c.status {
		if now-s.lastRequest >= AuthorizedWindow {
			delete(c.status, k)
		}
	}
	c.authMu.Lock()
	for k, t := range c.authorized {
		if now-t >= AuthorizedWindow {
			delete(c.authorized, k)
		}
	}
	c.authMu.Unlock()
	next = now + pruneInterval
	if len(c.expiring) > 0 {
		next = min(next, c.expiring[0].when)
	}
	return next
}
