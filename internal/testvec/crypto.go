package testvec

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
)

// Hex is a byte string written as hex in JSON.
type Hex []byte

// UnmarshalText decodes hex.
func (h *Hex) UnmarshalText(b []byte) error {
	out := make([]byte, hex.DecodedLen(len(b)))
	if _, err := hex.Decode(out, b); err != nil {
		return err
	}
	*h = out
	return nil
}

// MarshalText encodes as lowercase hex.
func (h Hex) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h)), nil }

// SalsaVector is the first keystream bytes for a key and 8-byte IV.
type SalsaVector struct {
	Key       Hex `json:"key"`
	IV        Hex `json:"iv"`
	Keystream Hex `json:"keystream"` // first 64 bytes (block 0)
}

// Poly1305Vector is one Poly1305 known answer.
type Poly1305Vector struct {
	Input Hex `json:"input"`
	Key   Hex `json:"key"`
	Tag   Hex `json:"tag"`
}

// SHA512Vector is one SHA-512 known answer.
type SHA512Vector struct {
	Input  string `json:"input_ascii"`
	Digest Hex    `json:"digest"`
}

// C25519Vector is one key agreement between two key pairs, signed by both.
// Keys are 64 bytes: the Curve25519 half then the Ed25519 half.
type C25519Vector struct {
	Pub1, Priv1, Pub2, Priv2 Hex
	// Agreement is the 64-byte SHA-512 of the X25519 shared secret.
	Agreement Hex
	// SignedBy1/2 are 96-byte ZeroTier signatures over Agreement.
	SignedBy1 Hex `json:"agreement_signed_by_1"`
	SignedBy2 Hex `json:"agreement_signed_by_2"`
}

// Crypto is testdata/crypto.json.
type Crypto struct {
	KnownGoodIdentity string           `json:"known_good_identity"`
	KnownBadIdentity  string           `json:"known_bad_identity"`
	Salsa20_12        SalsaVector      `json:"salsa20_12"`
	Salsa20_20        SalsaVector      `json:"salsa20_20"`
	Poly1305          []Poly1305Vector `json:"poly1305"`
	SHA512            SHA512Vector     `json:"sha512"`
	C25519            struct {
		Note    string         `json:"note"`
		Vectors []C25519Vector `json:"vectors"`
	} `json:"c25519"`
}

// LoadCrypto reads a crypto.json file.
func LoadCrypto(path string) (*Crypto, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("testvec: %w", err)
	}
	var c Crypto
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("testvec: %s: %w", path, err)
	}
	if len(c.C25519.Vectors) == 0 || len(c.Poly1305) == 0 || len(c.Salsa20_12.Key) != 32 {
		return nil, fmt.Errorf("testvec: %s: vectors missing", path)
	}
	return &c, nil
}
