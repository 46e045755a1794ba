//! Mint a token, parse it back, and hash it: the whole life of a token
//! before it meets a store.
//!
//! ```sh
//! cargo run --example quickstart
//! ```

use tokenkeep::{Prefix, TokenFormat, TokenHasher, parse_authorization};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let format = TokenFormat::new(Prefix::new("tk")?);
    let hasher = TokenHasher::sha256();

    let minted = format.mint(&hasher)?;
    println!("minted:   {}  (shown once)", minted.secret.expose_secret());
    println!("stored:   {}", minted.hash.to_hex());

    let header = format!("Bearer {}", minted.secret.expose_secret());
    let presented = parse_authorization(Some(&header))?;
    let parsed = format.parse(presented)?;
    println!("shown in lists as {}…", parsed.display_prefix());

    let matches = hasher.hash(parsed.expose_secret()) == minted.hash;
    println!("header verifies: {matches}");

    let typo = presented.replacen('A', "B", 1).replacen('a', "b", 1);
    println!(
        "a typo is caught before any lookup: {:?}",
        format.parse(&typo).err()
    );
    Ok(())
}
