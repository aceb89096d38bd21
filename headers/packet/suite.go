package packet

// Suite is a cipher suite number, bits 0x38 of the flags byte (§2.2, §4).
type Suite uint8

// Cipher suites. 4 to 7 are undefined: such packets fail to dearmor.
const (
	SuitePoly1305None      Suite = 0 // MAC only (HELLO)
	SuitePoly1305Salsa2012 Suite = 1 // Salsa20/12 + Poly1305
	SuiteTrustedPath       Suite = 2 // no crypto, trusted path ID in the MAC field
	SuiteAESGMACSIV        Suite = 3 // AES-256-GMAC-SIV
)

var suiteNames = [...]string{
	SuitePoly1305None:      "C25519_POLY1305_NONE",
	SuitePoly1305Salsa2012: "C25519_POLY1305_SALSA2012",
	SuiteTrustedPath:       "NO_CRYPTO_TRUSTED_PATH",
	SuiteAESGMACSIV:        "AES_GMAC_SIV",
}

// String is the reference's name of the suite, or "SUITE_n" for 4 to 7.
func (s Suite) String() string {
	if int(s) < len(suiteNames) {
		return suiteNames[s]
	}
	return "SUITE_" + string(rune('0'+s&7))
}

// Known reports whether s is one of the four defined suites.
func (s Suite) Known() bool { return s <= SuiteAESGMACSIV }
