package apitest

import (
	"cmp"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ztx/ztx/controlplane/api"
	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/crypto/identity"
)

// Networks is an in-memory api.Networks for tests of the API and its
// clients. Joining makes a network that waits for its config forever
// (REQUESTING_CONFIGURATION, as a real node shows before the controller
// answers); Set puts any state in place, as a config would.
type Networks struct {
	// Address is the node's, for the MAC of a joined network.
	Address identity.Address
	// FailJoin, if set, is returned by Join (nothing changes).
	FailJoin error

	mu   sync.Mutex
	nets map[uint64]api.NetworkState
	log  []string
}

var _ api.Networks = (*Networks)(nil)

// ErrJoin is a convenient FailJoin.
var ErrJoin = errors.New("apitest: join refused")

// NewNetworks returns an empty set of networks for node address a.
func NewNetworks(a identity.Address) *Networks {
	return &Networks{Address: a, nets: map[uint64]api.NetworkState{}}
}

// Joined is the state of a network just joined by node a.
func Joined(a identity.Address, nwid uint64) api.NetworkState {
	return api.NetworkState{
		ID:             nwid,
		MAC:            netconf.MACOf(a, nwid),
		Status:         api.NetworkRequestingConfiguration,
		Type:           api.NetworkPrivate,
		MTU:            netconf.DefaultMTU,
		PortDeviceName: DeviceName(nwid),
		Settings:       api.NetworkSettings{AllowManaged: true},
	}
}

// Set adds or replaces a network's state.
func (n *Networks) Set(st api.NetworkState) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.nets[st.ID] = st
}

// Log lists the calls that changed something: "join <nwid>" and
// "leave <nwid>" (16 hex digits), in order.
func (n *Networks) Log() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.log)
}

// Networks implements api.Networks (in ID order).
func (n *Networks) Networks(now int64) []api.NetworkState {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]api.NetworkState, 0, len(n.nets))
	for _, st := range n.nets {
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b api.NetworkState) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Network implements api.Networks.
func (n *Networks) Network(now int64, nwid uint64) (api.NetworkState, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	st, ok := n.nets[nwid]
	return st, ok
}

// Join implements api.Networks.
func (n *Networks) Join(now int64, nwid uint64, set api.NetworkSettingsUpdate) (api.NetworkState, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.FailJoin != nil {
		return api.NetworkState{}, n.FailJoin
	}
	st, ok := n.nets[nwid]
	if !ok {
		st = Joined(n.Address, nwid)
		n.log = append(n.log, "join "+hex16(nwid))
	}
	st.Settings = set.Apply(st.Settings)
	n.nets[nwid] = st
	return st, nil
}

// Leave implements api.Networks.
func (n *Networks) Leave(now int64, nwid uint64) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.nets[nwid]; !ok {
		return false
	}
	delete(n.nets, nwid)
	n.log = append(n.log, "leave "+hex16(nwid))
	return true
}

func hex16(v uint64) string { return fmt.Sprintf("%016x", v) }

var base32Lower = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// DeviceName is the name a Linux node gives network nwid's tap when no
// other interface has it (PROTOCOL.md part 2 §11): "zt" and the base32
// of the low 40 bits of nwid ^ nwid>>24.
func DeviceName(nwid uint64) string {
	v := nwid ^ nwid>>24
	return "zt" + base32Lower.EncodeToString([]byte{byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
