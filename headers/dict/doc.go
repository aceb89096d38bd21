// Package dict reads and writes the ZeroTier Dictionary: the text container
// of network configs (NETWORK_CONFIG, networks.d/*.conf), of the metadata in
// NETWORK_CONFIG_REQUEST and of the auth info in ERROR(NETWORK_AUTHENTICATION_REQUIRED).
//
// A dictionary is a sequence of entries, one per line, with no trailing LF:
//
//	key '=' escaped-value  LF  key '=' escaped-value  ...  [NUL]
//	|--------entry 0------|    |--------entry 1------|
//
//	key            any bytes except NUL, CR, LF and '=' (plain text, not escaped)
//	escaped-value  the value bytes with 5 escapes:
//	               0x00 -> `\0`   CR -> `\r`   LF -> `\n`   `\` -> `\\`   '=' -> `\e`
//
// Reading follows the reference reader: the data ends at the first NUL; CR
// as well as LF ends an entry; empty lines and lines without '=' are not
// entries; the key is everything before the first '='; a backslash followed
// by any byte other than 0, r, n, e yields that byte, and a backslash at the
// end of a line is dropped. When a key occurs more than once the first entry
// wins. Binary values ("blobs": COM, rules, routes...) use the same escaping.
//
// Typed values as the reference writes them:
//
//	unsigned   16 lowercase hex digits, zero padded        ("0000000000000af0")
//	signed     as unsigned, or '-' + 16 hex of magnitude   ("-0000000000000005")
//	bool       "1" or "0"; read as true if it starts with 1, t or T
//	address    10 lowercase hex digits                     ("afee230b1a")
//
// Integer readers accept whatever C's strtoull/strtoll accept in base 16
// (leading blanks, a sign, an optional 0x, any number of digits; overflow
// saturates), reading at most the first 127 value bytes.
//
// Capacity: the reference keeps a dictionary in a fixed buffer of C bytes
// including the terminating NUL, so its serialized size must stay below C.
// A Dictionary made with New or ParseLimit carries such a limit.
package dict
