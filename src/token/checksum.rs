//! The six-character checksum at the end of every token.

/// CRC32 is 4 bytes; base64url without padding writes them as 6 characters.
pub(crate) const CHECKSUM_LEN: usize = 6;

/// The base64url alphabet (RFC 4648 §5).
pub(crate) const BASE64URL: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// CRC32 (IEEE) of `body` (`prefix_secret`), as base64url: the 32 bits,
/// big-endian, padded with four zero bits to six 6-bit characters. Written
/// out here rather than through a base64 engine because it runs on every
/// verification and the engine's setup costs more than the CRC.
pub(crate) fn checksum(body: &[u8]) -> [u8; CHECKSUM_LEN] {
    let bits = u64::from(crc32fast::hash(body)) << 4;
    std::array::from_fn(|index| {
        let shift = 6 * (CHECKSUM_LEN - 1 - index);
        BASE64URL[((bits >> shift) & 0x3f) as usize]
    })
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;
    use crate::byte_class::is_base64url;

    #[test]
    fn fixed_vectors() {
        // CRC32 of "123456789" is the standard check value 0xCBF43926.
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
        assert_eq!(&checksum(b"123456789"), b"y_Q5Jg");
        assert_eq!(&checksum(b""), b"AAAAAA");
    }

    #[test]
    fn matches_the_base64_crate() {
        for body in [&b"tk_abc"[..], b"myc_0123456789", b"x", b"\xff\xfe"] {
            let crc = crc32fast::hash(body).to_be_bytes();
            assert_eq!(checksum(body).as_slice(), URL_SAFE_NO_PAD.encode(crc).as_bytes());
        }
        let alphabet: Vec<u8> = (0..=255u8).filter(|&byte| is_base64url(byte)).collect();
        let mut expected = BASE64URL.to_vec();
        expected.sort_unstable();
        assert_eq!(alphabet, expected);
    }
}
