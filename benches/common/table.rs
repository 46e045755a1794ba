//! The ratio table a bench run ends with, from criterion's medians of this
//! run: the same shape as the tables of BENCHMARKS.md.

use std::path::PathBuf;

/// Where criterion keeps its estimates: `$CRITERION_HOME`, or `criterion`
/// in the target directory.
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    target.join("criterion")
}

/// The median of one benchmark, in nanoseconds, if it ran.
pub fn median(parts: &[&str]) -> Option<f64> {
    let mut path = criterion_home();
    path.extend(parts);
    let text = std::fs::read_to_string(path.join("new").join("estimates.json")).ok()?;
    let estimates: serde_json::Value = serde_json::from_str(&text).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

/// `547 ns`, `1.18 µs`, `61.2 ms`.
pub fn show(ns: Option<f64>) -> String {
    match ns {
        None => "—".to_owned(),
        Some(ns) if ns >= 1e6 => format!("{:.1} ms", ns / 1e6),
        Some(ns) if ns >= 1e3 => format!("{:.2} µs", ns / 1e3),
        Some(ns) => format!("{ns:.0} ns"),
    }
}

/// `a / b` as `3.50×`, or `157,537×` when it is large.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 && a / b >= 100.0 => {
            format!("{}×", thousands((a / b).round() as usize))
        }
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "—".to_owned(),
    }
}

/// `1,000,000`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
