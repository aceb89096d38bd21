package controller

import (
	"encoding/json"

	"github.com/ztx/ztx/crypto/identity"
)

// Member is a member record. Field order is the sorted key order of the
// reference's JSON dump.
type Member struct {
	ActiveBridge             bool     `json:"activeBridge"`
	Address                  string   `json:"address"`
	AuthenticationExpiryTime int64    `json:"authenticationExpiryTime"`
	Authorized               bool     `json:"authorized"`
	Capabilities             []uint64 `json:"capabilities"`
	CreationTime             int64    `json:"creationTime"`
	ID                       string   `json:"id"`
	// Identity is the member's public identity, learned on its first
	// config request (absent until then).
	Identity                     string      `json:"identity,omitempty"`
	IPAssignments                []string    `json:"ipAssignments"`
	LastAuthorizedCredential     *string     `json:"lastAuthorizedCredential"`
	LastAuthorizedCredentialType *string     `json:"lastAuthorizedCredentialType"`
	LastAuthorizedTime           int64       `json:"lastAuthorizedTime"`
	LastDeauthorizedTime         int64       `json:"lastDeauthorizedTime"`
	Name                         *string     `json:"name,omitempty"`
	NoAutoAssignIPs              bool        `json:"noAutoAssignIps"`
	NWID                         string      `json:"nwid"`
	ObjType                      string      `json:"objtype"`
	RemoteTraceLevel             uint64      `json:"remoteTraceLevel"`
	RemoteTraceTarget            *string     `json:"remoteTraceTarget"`
	Revision                     uint64      `json:"revision"`
	SSOExempt                    bool        `json:"ssoExempt"`
	Tags                         [][2]uint64 `json:"tags"`
	VMajor                       int         `json:"vMajor"`
	VMinor                       int         `json:"vMinor"`
	VProto                       int         `json:"vProto"`
	VRev                         int         `json:"vRev"`
}

// NewMember returns a member record with the reference's defaults.
func NewMember(nwid NetworkID, addr identity.Address, now int64) *Member {
	m := &Member{
		CreationTime: now,
		VMajor:       -1, VMinor: -1, VProto: -1, VRev: -1,
	}
	m.setID(nwid, addr)
	m.normalize()
	return m
}

func (m *Member) setID(nwid NetworkID, addr identity.Address) {
	m.ID = addr.String()
	m.Address = m.ID
	m.NWID = nwid.String()
}

// NetworkID returns the member's network id (0 if bad).
func (m *Member) NetworkID() NetworkID {
	id, _ := ParseNetworkID(m.NWID)
	return id
}

// MemberAddress returns the member's address (0 if bad).
func (m *Member) MemberAddress() identity.Address {
	a, _ := parseMemberAddress(m.ID)
	return a
}

func (m *Member) normalize() {
	m.ObjType = "member"
	if m.Capabilities == nil {
		m.Capabilities = []uint64{}
	}
	if m.IPAssignments == nil {
		m.IPAssignments = []string{}
	}
	if m.Tags == nil {
		m.Tags = [][2]uint64{}
	}
}

// Clone returns a deep copy.
func (m *Member) Clone() *Member {
	b, err := marshal(m)
	if err != nil {
		panic(err)
	}
	c := new(Member)
	if err := json.Unmarshal(b, c); err != nil {
		panic(err)
	}
	return c
}
