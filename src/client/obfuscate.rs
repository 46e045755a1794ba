//! Optional obfuscation of the stored token with a key built into the
//! client. Not encryption: the key ships with the binary. It only
//! keeps the value from being copied out of the file and used elsewhere.
//!
//! Stored form: `obf1:` + base64url(16-byte nonce ‖ token XOR keystream),
//! the keystream being HMAC-SHA256(key, nonce ‖ block counter).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit as _, Mac as _};
use rand::TryRng as _;
use sha2::Sha256;

const TAG: &str = "obf1:";
const NONCE_LEN: usize = 16;

pub(crate) fn is_obfuscated(stored: &str) -> bool {
    stored.starts_with(TAG)
}

fn apply_keystream(key: &[u8], nonce: &[u8], data: &mut [u8]) -> Option<()> {
    for (counter, chunk) in data.chunks_mut(32).enumerate() {
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).ok()?;
        mac.update(nonce);
        mac.update(&u32::try_from(counter).ok()?.to_be_bytes());
        let block = mac.finalize().into_bytes();
        for (byte, mask) in chunk.iter_mut().zip(block.iter()) {
            *byte ^= mask;
        }
    }
    Some(())
}

pub(crate) fn hide(key: &[u8], token: &str) -> std::io::Result<String> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::SysRng.try_fill_bytes(&mut nonce).map_err(std::io::Error::other)?;
    let mut bytes = zeroize::Zeroizing::new(nonce.to_vec());
    bytes.extend_from_slice(token.as_bytes());
    apply_keystream(key, &nonce, &mut bytes[NONCE_LEN..])
        .ok_or_else(|| std::io::Error::other("unusable obfuscation key"))?;
    Ok(format!("{TAG}{}", URL_SAFE_NO_PAD.encode(&*bytes)))
}

/// The token, or `None` if the text is damaged or the key is not the one
/// that hid it (the result would not be text a token can be).
pub(crate) fn reveal(key: &[u8], stored: &str) -> Option<String> {
    let encoded = stored.strip_prefix(TAG)?;
    let mut bytes = zeroize::Zeroizing::new(URL_SAFE_NO_PAD.decode(encoded).ok()?);
    if bytes.len() <= NONCE_LEN {
        return None;
    }
    let (nonce, token) = bytes.split_at_mut(NONCE_LEN);
    apply_keystream(key, nonce, token)?;
    let text = std::str::from_utf8(token).ok()?;
    crate::bearer::is_b64token(text).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_hides_the_text() {
        let token = "tk_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_ab12Cd";
        let stored = hide(b"build-time key", token).unwrap();
        assert!(is_obfuscated(&stored) && !stored.contains(&token[3..]));
        assert_ne!(stored, hide(b"build-time key", token).unwrap(), "a fresh nonce each time");
        assert_eq!(reveal(b"build-time key", &stored).as_deref(), Some(token));
        assert_eq!(reveal(b"another key", &stored), None);
        assert_eq!(reveal(b"build-time key", "obf1:!!!"), None);
        assert_eq!(reveal(b"build-time key", "plain"), None);
    }
}
