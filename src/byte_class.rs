//! Byte-class tests the verification path runs over every byte of a
//! token, written so the compiler checks sixteen bytes per instruction.

/// Whether `byte` is base64url (RFC 4648 §5): arithmetic rather than a
/// table lookup, so that a loop over many bytes vectorises. `byte | 0x20`
/// folds upper case onto lower case and maps no other byte into `a..=z`.
pub(crate) const fn is_base64url(byte: u8) -> bool {
    ((byte | 0x20).wrapping_sub(b'a') < 26)
        | (byte.wrapping_sub(b'0') < 10)
        | (byte == b'-')
        | (byte == b'_')
}

/// Whether `test` holds for every byte. Sixteen bytes at a time without
/// an early exit, then the last sixteen again (overlapping) instead of a
/// byte-by-byte tail: a 44-byte token is three vector steps.
#[inline]
pub(crate) fn all(bytes: &[u8], test: impl Fn(u8) -> bool + Copy) -> bool {
    let block = |block: &[u8]| block.iter().fold(true, |all, &byte| all & test(byte));
    if bytes.len() < 16 {
        return block(bytes);
    }
    let mut chunks = bytes.chunks_exact(16);
    let whole = chunks.by_ref().fold(true, |all, chunk| all & sixteen(chunk, test));
    whole & sixteen(&bytes[bytes.len() - 16..], test)
}

/// One vector step: a fixed-size block the compiler unrolls completely.
#[inline]
fn sixteen(bytes: &[u8], test: impl Fn(u8) -> bool) -> bool {
    let block: &[u8; 16] = bytes.try_into().unwrap_or(&[0; 16]);
    block.iter().fold(true, |all, &byte| all & test(byte))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_and_every_position_is_checked() {
        for len in 0..70 {
            let good = vec![b'a'; len];
            assert!(all(&good, is_base64url), "{len}");
            for at in 0..len {
                let mut bad = good.clone();
                bad[at] = b'=';
                assert!(!all(&bad, is_base64url), "{len} {at}");
            }
        }
    }
}
