package controller

import (
	"errors"

	"github.com/ztx/ztx/crypto/identity"
)

// ErrNotFound is returned (wrapped) by a Store for a missing record.
var ErrNotFound = errors.New("controller: not found")

// Store keeps network and member records. Implementations must be safe
// for concurrent use; a Put returns only once the record is durable.
// Records passed in and returned are owned by the caller.
type Store interface {
	// Networks lists the ids of all networks, in ascending order.
	Networks() ([]NetworkID, error)
	// Network returns one network or an error wrapping ErrNotFound.
	Network(id NetworkID) (*Network, error)
	// PutNetwork creates or replaces the network n.ID names.
	PutNetwork(n *Network) error
	// DeleteNetwork removes a network and all its members.
	DeleteNetwork(id NetworkID) error

	// Members returns all members of a network, ordered by address.
	// A network without members (or without a record) has none.
	Members(id NetworkID) ([]*Member, error)
	// Member returns one member or an error wrapping ErrNotFound.
	Member(id NetworkID, addr identity.Address) (*Member, error)
	// PutMember creates or replaces the member m.NWID and m.ID name.
	PutMember(m *Member) error
	// DeleteMember removes a member.
	DeleteMember(id NetworkID, addr identity.Address) error
}
