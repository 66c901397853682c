//! Spawn-site patterns for ignore lists: `*` matches any run of characters (`/` included), `?`
//! one character; everything else matches itself. A site is `file:line`, so
//! `hyper-util-*/src/rt/tokio.rs:*` ignores hyper-util's connection tasks in every version and
//! at every line.

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SitePattern {
    pattern: Vec<char>,
    text: String,
}

impl SitePattern {
    pub(crate) fn new(pattern: &str) -> Self {
        Self {
            pattern: pattern.chars().collect(),
            text: pattern.to_owned(),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `site` matches, as a whole.
    pub(crate) fn matches(&self, site: &str) -> bool {
        let site: Vec<char> = site.chars().collect();
        let pattern = &self.pattern;
        // Iterative wildcard match with backtracking to the last `*`: linear in practice.
        let (mut p, mut s) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while s < site.len() {
            match pattern.get(p) {
                Some('*') => {
                    star = Some((p, s));
                    p += 1;
                }
                Some(&c) if c == '?' || c == site[s] => {
                    p += 1;
                    s += 1;
                }
                _ => match star {
                    Some((star_p, star_s)) => {
                        p = star_p + 1;
                        s = star_s + 1;
                        star = Some((star_p, star_s + 1));
                    }
                    None => return false,
                },
            }
        }
        pattern[p..].iter().all(|&c| c == '*')
    }
}

#[cfg(test)]
mod tests {
    use super::SitePattern;

    #[test]
    fn matches_sites_by_glob() {
        let hyper = SitePattern::new("hyper-util-*/src/rt/tokio.rs:*");
        assert!(hyper.matches("hyper-util-0.1.17/src/rt/tokio.rs:127"));
        assert!(!hyper.matches("hyper-util-0.1.17/src/client/legacy/pool.rs:127"));
        assert!(!hyper.matches("services/risk/src/deep_scoring.rs:107"));

        let exact = SitePattern::new("services/risk/src/deep_scoring.rs:107");
        assert!(exact.matches("services/risk/src/deep_scoring.rs:107"));
        assert!(!exact.matches("services/risk/src/deep_scoring.rs:1070"));

        let line = SitePattern::new("src/main.rs:1?");
        assert!(line.matches("src/main.rs:12"));
        assert!(!line.matches("src/main.rs:123"));

        assert!(SitePattern::new("*").matches(""));
        assert!(SitePattern::new("*pool*").matches("sqlx-core-0.8.6/src/pool/inner.rs:533"));
        assert!(!SitePattern::new("").matches("x"));
    }
}
