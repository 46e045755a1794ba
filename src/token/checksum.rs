//! The six-character checksum at the end of every token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// CRC32 is 4 bytes; base64url without padding writes them as 6 characters.
pub(crate) const CHECKSUM_LEN: usize = 6;

/// CRC32 (IEEE) of `body` (`prefix_secret`), as base64url.
pub(crate) fn checksum(body: &[u8]) -> [u8; CHECKSUM_LEN] {
    let crc = crc32fast::hash(body).to_be_bytes();
    let mut out = [0u8; CHECKSUM_LEN];
    // Four bytes always encode to exactly six characters.
    let written = URL_SAFE_NO_PAD.encode_slice(crc, &mut out);
    debug_assert_eq!(written, Ok(CHECKSUM_LEN));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_vectors() {
        // CRC32 of "123456789" is the standard check value 0xCBF43926.
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
        assert_eq!(&checksum(b"123456789"), b"y_Q5Jg");
        assert_eq!(&checksum(b""), b"AAAAAA");
    }
}
