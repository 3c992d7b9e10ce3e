//! Source path rules (`srcpath`, config `[source]`): how a DWARF source
//! path becomes a file the UI can read (config.md §3.10).
//!
//! Order: the DWARF path itself; then prefix substitutions (runtime rules
//! first, then config); then the basename in the search directories
//! (runtime first, then config).

use std::path::{Path, PathBuf};

/// Prefix rewrites and search directories, from the config and `srcpath`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourcePaths {
    runtime_maps: Vec<(String, String)>,
    runtime_dirs: Vec<String>,
    config_maps: Vec<(String, String)>,
    config_dirs: Vec<String>,
}

/// What a `srcpath` change did, for the response line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleChange {
    /// A new rule.
    Added,
    /// An existing mapping got a new target.
    Replaced,
}

impl SourcePaths {
    /// Rules from the config file.
    pub fn new(config_maps: Vec<(String, String)>, config_dirs: Vec<PathBuf>) -> SourcePaths {
        SourcePaths {
            runtime_maps: Vec::new(),
            runtime_dirs: Vec::new(),
            config_maps,
            config_dirs: config_dirs
                .into_iter()
                .map(|d| d.display().to_string())
                .collect(),
        }
    }

    /// `srcpath map <from> <to>`.
    pub fn map(&mut self, from: &str, to: &str) -> RuleChange {
        let from = trim_slash(from);
        let to = trim_slash(to);
        if let Some(rule) = self.runtime_maps.iter_mut().find(|(f, _)| f == &from) {
            rule.1 = to;
            return RuleChange::Replaced;
        }
        self.runtime_maps.push((from, to));
        RuleChange::Added
    }

    /// `srcpath add <dir>`; adding a directory twice keeps one.
    pub fn add_dir(&mut self, dir: &str) -> RuleChange {
        let dir = trim_slash(dir);
        if !self.runtime_dirs.contains(&dir) {
            self.runtime_dirs.push(dir);
        }
        RuleChange::Added
    }

    /// `srcpath remove <path>`: a runtime mapping (by `from`) or search
    /// directory. Returns false if no runtime rule matched.
    pub fn remove(&mut self, path: &str) -> bool {
        let path = trim_slash(path);
        let before = self.runtime_maps.len() + self.runtime_dirs.len();
        self.runtime_maps.retain(|(f, _)| f != &path);
        self.runtime_dirs.retain(|d| d != &path);
        before != self.runtime_maps.len() + self.runtime_dirs.len()
    }

    /// Whether `path` names a config rule (which cannot be removed).
    pub fn is_config_rule(&self, path: &str) -> bool {
        let path = trim_slash(path);
        self.config_maps.iter().any(|(f, _)| f == &path) || self.config_dirs.contains(&path)
    }

    /// `srcpath clear` / `reset`.
    pub fn clear(&mut self) {
        self.runtime_maps.clear();
        self.runtime_dirs.clear();
    }

    fn maps(&self) -> impl Iterator<Item = &(String, String)> {
        self.runtime_maps.iter().chain(self.config_maps.iter())
    }

    fn dirs(&self) -> impl Iterator<Item = &String> {
        self.runtime_dirs.iter().chain(self.config_dirs.iter())
    }

    /// The path after the first matching prefix rewrite (or unchanged); this
    /// is how file lists show DWARF paths.
    pub fn rewrite(&self, dwarf_path: &str) -> String {
        self.maps()
            .find_map(|(from, to)| replace_prefix(dwarf_path, from, to))
            .unwrap_or_else(|| dwarf_path.to_string())
    }

    /// The file to read for a DWARF path, if any rule finds one that exists.
    pub fn resolve(&self, dwarf_path: &str) -> Option<PathBuf> {
        let direct = Path::new(dwarf_path);
        if direct.is_file() {
            return Some(direct.to_path_buf());
        }
        for (from, to) in self.maps() {
            if let Some(p) = replace_prefix(dwarf_path, from, to) {
                if Path::new(&p).is_file() {
                    return Some(PathBuf::from(p));
                }
            }
        }
        let base = Path::new(dwarf_path).file_name()?;
        self.dirs()
            .map(|d| Path::new(d).join(base))
            .find(|p| p.is_file())
    }

    /// The `srcpath` listing.
    pub fn describe(&self) -> Vec<String> {
        let mut out = vec!["📂 Source path rules:".to_string()];
        let section = |out: &mut Vec<String>, title: &str, items: Vec<String>| {
            out.push(format!("  {title}:"));
            if items.is_empty() {
                out.push("    (none)".to_string());
            }
            out.extend(items.into_iter().map(|i| format!("    {i}")));
        };
        let maps = |m: &[(String, String)]| m.iter().map(|(f, t)| format!("{f} → {t}")).collect();
        section(&mut out, "Runtime mappings", maps(&self.runtime_maps));
        section(&mut out, "Runtime search dirs", self.runtime_dirs.clone());
        section(&mut out, "Config mappings", maps(&self.config_maps));
        section(&mut out, "Config search dirs", self.config_dirs.clone());
        out
    }
}

fn trim_slash(p: &str) -> String {
    if p.len() > 1 {
        p.trim_end_matches('/').to_string()
    } else {
        p.to_string()
    }
}

/// `path` with `from` replaced by `to`, if `from` is a whole-component prefix.
fn replace_prefix(path: &str, from: &str, to: &str) -> Option<String> {
    let rest = path.strip_prefix(from)?;
    if rest.is_empty() || rest.starts_with('/') || from.ends_with('/') {
        Some(format!("{to}{rest}"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn runtime_maps_win_and_replace() {
        let mut p = SourcePaths::new(vec![("/ci".into(), "/cfg".into())], vec![]);
        assert_eq!(p.rewrite("/ci/a.c"), "/cfg/a.c");
        assert_eq!(p.map("/ci/", "/rt"), RuleChange::Added);
        assert_eq!(p.rewrite("/ci/a.c"), "/rt/a.c");
        assert_eq!(p.map("/ci", "/rt2"), RuleChange::Replaced);
        assert_eq!(p.rewrite("/ci/a.c"), "/rt2/a.c");
        assert_eq!(p.rewrite("/cinema/a.c"), "/cinema/a.c");
        assert!(p.is_config_rule("/ci"));
        assert!(p.remove("/ci"));
        assert!(!p.remove("/ci"));
        assert_eq!(p.rewrite("/ci/a.c"), "/cfg/a.c");
    }

    #[test]
    fn resolve_tries_path_then_maps_then_dirs() {
        let dir = std::env::temp_dir().join(format!("gs-ui-srcpath-{}", std::process::id()));
        fs::create_dir_all(dir.join("src")).unwrap();
        fs::write(dir.join("src/main.c"), "int main;").unwrap();
        let mut p = SourcePaths::default();
        assert_eq!(p.resolve("/nowhere/src/main.c"), None);
        p.map("/nowhere", dir.to_str().unwrap());
        assert_eq!(
            p.resolve("/nowhere/src/main.c"),
            Some(dir.join("src/main.c"))
        );
        p.clear();
        p.add_dir(dir.join("src").to_str().unwrap());
        assert_eq!(p.resolve("/x/y/main.c"), Some(dir.join("src/main.c")));
        let _ = fs::remove_dir_all(dir);
    }
}
