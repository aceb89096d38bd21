package wiredecode

import (
	"fmt"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/cred"
	"github.com/ztx/ztx/headers/verbs"
)

// CredentialInfo describes one credential of a NETWORK_CREDENTIALS packet.
type CredentialInfo struct {
	Kind      string `json:"kind"` // com, capability, tag, revocation, coo
	NetworkID string `json:"networkId"`
	IssuedTo  string `json:"issuedTo,omitempty"`
	Timestamp int64  `json:"timestamp"`
	ID        uint32 `json:"id"`
	Summary   string `json:"summary,omitempty"`
	// Signature is "ok", "unknown-signer" (the controller's identity is
	// not known here) or the verification error.
	Signature string `json:"signature"`
}

func (d *Decoder) credentials(r *Record, nc verbs.NetworkCredentials) {
	c, _, err := cred.ParseCredentials(nc.Data)
	if err != nil {
		r.Error = fmt.Sprintf("NETWORK_CREDENTIALS: %v", err)
		return
	}
	var out []CredentialInfo
	controller := func(nwid uint64) *identity.Identity { return d.ids[cred.Controller(nwid)] }
	check := func(nwid uint64, verify func(*identity.Identity) error) string {
		ctl := controller(nwid)
		if ctl == nil {
			return "unknown-signer"
		}
		if err := verify(ctl); err != nil {
			return err.Error()
		}
		return "ok"
	}
	for i := range c.COMs {
		m := &c.COMs[i]
		out = append(out, CredentialInfo{
			Kind: "com", NetworkID: fmt.Sprintf("%016x", m.NetworkID()), IssuedTo: m.IssuedTo().String(),
			Timestamp: m.Timestamp(), Signature: check(m.NetworkID(), m.Verify),
		})
	}
	resolve := func(a identity.Address) *identity.Identity { return d.ids[a] }
	for i := range c.Capabilities {
		m := &c.Capabilities[i]
		sig := "ok"
		if err := m.Verify(resolve); err != nil {
			sig = err.Error()
			if _, unknown := cred.IsUnknownSigner(err); unknown {
				sig = "unknown-signer"
			}
		}
		out = append(out, CredentialInfo{
			Kind: "capability", NetworkID: fmt.Sprintf("%016x", m.NetworkID), IssuedTo: m.IssuedTo().String(),
			Timestamp: m.Timestamp, ID: m.ID, Summary: fmt.Sprintf("%d rules", len(m.Rules)), Signature: sig,
		})
	}
	for i := range c.Tags {
		m := &c.Tags[i]
		out = append(out, CredentialInfo{
			Kind: "tag", NetworkID: fmt.Sprintf("%016x", m.NetworkID), IssuedTo: m.IssuedTo.String(),
			Timestamp: m.Timestamp, ID: m.ID, Summary: fmt.Sprintf("value %d", m.Value), Signature: check(m.NetworkID, m.Verify),
		})
	}
	for i := range c.Revocations {
		m := &c.Revocations[i]
		out = append(out, CredentialInfo{
			Kind: "revocation", NetworkID: fmt.Sprintf("%016x", m.NetworkID), IssuedTo: m.Target.String(),
			Timestamp: m.Threshold, ID: m.CredentialID,
			Summary:   fmt.Sprintf("revokes credential type %d id %d at or before %d", m.CredentialType, m.CredentialID, m.Threshold),
			Signature: check(m.NetworkID, m.Verify),
		})
	}
	for i := range c.COOs {
		m := &c.COOs[i]
		out = append(out, CredentialInfo{
			Kind: "coo", NetworkID: fmt.Sprintf("%016x", m.NetworkID), IssuedTo: m.IssuedTo.String(),
			Timestamp: m.Timestamp, ID: m.ID, Summary: fmt.Sprintf("%d things", len(m.Things)), Signature: check(m.NetworkID, m.Verify),
		})
	}
	if r.Details == nil {
		r.Details = &Details{}
	}
	r.Details.Credentials = out
}
