//! "Did you mean" suggestions for ids and names that are close to known ones.

/// The known string closest to `input`, when it is close enough to be a likely typo.
///
/// ```
/// let known = ["eni-0a1b2c3d", "eni-99999999"];
/// assert_eq!(vpcreach::suggest::closest("eni-0a1b2c3e", known.iter().copied()).as_deref(), Some("eni-0a1b2c3d"));
/// assert_eq!(vpcreach::suggest::closest("subnet-1", known.iter().copied()), None);
/// ```
pub fn closest<'a>(input: &str, known: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for k in known {
        let score = strsim::jaro_winkler(input, k);
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, k));
        }
    }
    best.filter(|(s, _)| *s >= 0.85).map(|(_, k)| k.to_string())
}
