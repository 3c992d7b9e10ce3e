//! Where a module's DWARF comes from (cli.md §5): its own sections, the
//! file the user named with `--debug-file`, or a separate debug file found
//! through `.gnu_debuglink` or by build id.
//!
//! Separate files come from a chain of sources tried in order, each offering
//! candidate files with the rule a candidate must satisfy. A candidate that
//! satisfies its rule strictly wins at once; with loose matching the first
//! candidate that exists but fails its check is kept as a fallback. A later
//! source (debuginfod) is one more entry in [`DebugLookup::chain`].

use std::path::{Path, PathBuf};

use crate::elf::ElfFile;
use crate::error::DwarfError;

/// The default `dwarf.search_paths` (config.md §3.3).
pub const DEFAULT_SEARCH_PATHS: [&str; 2] = ["/usr/lib/debug", "/usr/local/lib/debug"];

/// The build-id tree searched even when the search paths are replaced.
const SYSTEM_DEBUG_ROOT: &str = "/usr/lib/debug";

/// Where a module's DWARF came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DebugSource {
    /// The module's own `.debug_*` sections.
    Embedded,
    /// The file given with `--debug-file`.
    Explicit(PathBuf),
    /// A separate file found through `.gnu_debuglink` or a build-id tree.
    Debuglink(PathBuf),
    /// A file downloaded from debuginfod.
    Debuginfod(PathBuf),
    /// No DWARF anywhere.
    Missing,
}

impl DebugSource {
    /// The label of the startup report: `embedded`, `explicit`, `debuglink`,
    /// `debuginfod` or `missing`.
    pub fn label(&self) -> &'static str {
        match self {
            DebugSource::Embedded => "embedded",
            DebugSource::Explicit(_) => "explicit",
            DebugSource::Debuglink(_) => "debuglink",
            DebugSource::Debuginfod(_) => "debuginfod",
            DebugSource::Missing => "missing",
        }
    }

    /// The separate file the DWARF was read from, if any.
    pub fn file(&self) -> Option<&Path> {
        match self {
            DebugSource::Explicit(p) | DebugSource::Debuglink(p) | DebugSource::Debuginfod(p) => {
                Some(p)
            }
            DebugSource::Embedded | DebugSource::Missing => None,
        }
    }
}

/// How separate debug files are looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugLookup {
    /// `dwarf.search_paths`: directories searched for `.gnu_debuglink`
    /// names (and their `.build-id` trees).
    pub search_paths: Vec<PathBuf>,
    /// `--allow-loose-debug-match`: accept CRC or build-id mismatches when
    /// nothing matches exactly.
    pub allow_loose_match: bool,
}

impl Default for DebugLookup {
    fn default() -> DebugLookup {
        DebugLookup {
            search_paths: DEFAULT_SEARCH_PATHS.iter().map(PathBuf::from).collect(),
            allow_loose_match: false,
        }
    }
}

impl DebugLookup {
    /// The sources of separate debug files, in the order they are tried.
    fn chain(&self) -> Vec<Box<dyn DebugFileSource + '_>> {
        vec![
            Box::new(DebuglinkSource { lookup: self }),
            Box::new(BuildIdTreeSource { lookup: self }),
        ]
    }

    /// The best separate debug file for `module` that carries DWARF, and
    /// how it was found.
    pub(crate) fn find_separate(&self, module: &ElfFile) -> Option<(ElfFile, DebugSource)> {
        let mut loose = None;
        for source in self.chain() {
            for candidate in source.candidates(module) {
                log::trace!("Checking debug file path: {}", candidate.path.display());
                if !candidate.path.is_file() {
                    continue;
                }
                let file = match ElfFile::open(&candidate.path) {
                    Ok(f) => f,
                    Err(e) => {
                        log::debug!("Ignoring debug file {}: {e}", candidate.path.display());
                        continue;
                    }
                };
                if !file.has_debug_info() {
                    log::warn!(
                        "Ignoring separate debug file {} for {} because it contains no .debug_info",
                        candidate.path.display(),
                        module.path().display()
                    );
                    continue;
                }
                let found = match candidate.rule.check(module, &file) {
                    Ok(()) => {
                        log::info!(
                            "Loading DWARF from separate debug file: {}",
                            candidate.path.display()
                        );
                        return Some((file, DebugSource::Debuglink(candidate.path)));
                    }
                    Err(mismatch) => {
                        log::warn!(
                            "Debug file {} does not match {}: {mismatch}",
                            candidate.path.display(),
                            module.path().display()
                        );
                        (file, DebugSource::Debuglink(candidate.path))
                    }
                };
                if self.allow_loose_match && loose.is_none() {
                    loose = Some(found);
                }
            }
        }
        if let Some((_, source)) = &loose {
            log::warn!(
                "No debug file matches {} exactly; loose match enabled -> using {}",
                module.path().display(),
                source
                    .file()
                    .map(Path::display)
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            );
        }
        loose
    }
}

/// One place separate debug files can come from.
trait DebugFileSource {
    /// The files this source offers for `module`, most preferred first.
    fn candidates(&self, module: &ElfFile) -> Vec<Candidate>;
}

/// A file that may hold a module's DWARF.
struct Candidate {
    path: PathBuf,
    rule: MatchRule,
}

/// What a candidate must satisfy to belong to the module.
enum MatchRule {
    /// `.gnu_debuglink`: the CRC-32 of the file, and the build id when both have one.
    DebugLink { crc: u32 },
    /// A build-id tree: the same build id.
    BuildId,
}

/// Why a debug file does not belong to a module.
#[derive(Debug, PartialEq, Eq)]
enum Mismatch {
    Crc { expected: u32, actual: u32 },
    BuildId { module: String, debug: String },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::Crc { expected, actual } => {
                write!(
                    f,
                    "CRC mismatch: expected=0x{expected:08x}, actual=0x{actual:08x}"
                )
            }
            Mismatch::BuildId { module, debug } => {
                write!(f, "Build ID mismatch: binary={module}, debug={debug}")
            }
        }
    }
}

impl MatchRule {
    fn check(&self, module: &ElfFile, file: &ElfFile) -> Result<(), Mismatch> {
        match self {
            MatchRule::DebugLink { crc } => {
                check_crc(*crc, file)?;
                check_build_ids(module, file)
            }
            MatchRule::BuildId => match (module.build_id(), file.build_id()) {
                (Some(m), Some(d)) if m == d => Ok(()),
                (m, d) => Err(Mismatch::BuildId {
                    module: m.map(build_id_hex).unwrap_or_default(),
                    debug: d.map(build_id_hex).unwrap_or_default(),
                }),
            },
        }
    }
}

fn check_crc(expected: u32, file: &ElfFile) -> Result<(), Mismatch> {
    let actual = file.crc32();
    if actual == expected {
        Ok(())
    } else {
        Err(Mismatch::Crc { expected, actual })
    }
}

/// Build ids must agree when both files have one.
fn check_build_ids(module: &ElfFile, file: &ElfFile) -> Result<(), Mismatch> {
    match (module.build_id(), file.build_id()) {
        (Some(m), Some(d)) if m != d => Err(Mismatch::BuildId {
            module: build_id_hex(m),
            debug: build_id_hex(d),
        }),
        _ => Ok(()),
    }
}

/// A build id as lower-case hex, as `.build-id` paths spell it.
pub(crate) fn build_id_hex(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// `.gnu_debuglink`: the absolute link path if the link is absolute; then
/// `P/<name>` and `P/.debug/<name>` for each search path `P`; then the
/// module's directory and its `.debug/`.
struct DebuglinkSource<'a> {
    lookup: &'a DebugLookup,
}

impl DebugFileSource for DebuglinkSource<'_> {
    fn candidates(&self, module: &ElfFile) -> Vec<Candidate> {
        let Some(link) = module.debuglink() else {
            return Vec::new();
        };
        let Some(name) = link.name.file_name().map(Path::new) else {
            return Vec::new();
        };
        log::debug!(
            "Looking for debug file '{}' for binary '{}'",
            link.name.display(),
            module.path().display()
        );
        let mut paths = Vec::new();
        if link.name.is_absolute() {
            paths.push(link.name.clone());
        }
        for dir in &self.lookup.search_paths {
            paths.push(dir.join(name));
            paths.push(dir.join(".debug").join(name));
        }
        if let Some(dir) = module.path().parent() {
            paths.push(dir.join(name));
            paths.push(dir.join(".debug").join(name));
        }
        dedup_in_order(&mut paths);
        paths
            .into_iter()
            // A module can carry a debuglink that names itself; it is not its own debug file.
            .filter(|p| p != module.path())
            .map(|path| Candidate {
                path,
                rule: MatchRule::DebugLink { crc: link.crc },
            })
            .collect()
    }
}

/// `<root>/.build-id/xx/yyyy.debug`, as gdb looks them up, under
/// `/usr/lib/debug` and each search path (beyond, cli.md §5 step 4).
struct BuildIdTreeSource<'a> {
    lookup: &'a DebugLookup,
}

impl DebugFileSource for BuildIdTreeSource<'_> {
    fn candidates(&self, module: &ElfFile) -> Vec<Candidate> {
        let Some(id) = module.build_id().filter(|id| id.len() >= 2) else {
            return Vec::new();
        };
        let hex = build_id_hex(id);
        log::debug!(
            "Looking for debug file by build id {hex} for binary '{}'",
            module.path().display()
        );
        let (dir, file) = hex.split_at(2);
        let mut roots = vec![PathBuf::from(SYSTEM_DEBUG_ROOT)];
        roots.extend(self.lookup.search_paths.iter().cloned());
        dedup_in_order(&mut roots);
        roots
            .into_iter()
            .map(|root| Candidate {
                path: root
                    .join(".build-id")
                    .join(dir)
                    .join(format!("{file}.debug")),
                rule: MatchRule::BuildId,
            })
            .collect()
    }
}

fn dedup_in_order(paths: &mut Vec<PathBuf>) {
    let mut seen = std::collections::HashSet::new();
    paths.retain(|p| seen.insert(p.clone()));
}

/// Opens the `--debug-file` for `module` and checks that it belongs to it:
/// the `.gnu_debuglink` CRC when the module has one, the build id when both
/// have one (each only a warning with loose matching), and `.debug_info`.
pub(crate) fn open_explicit(
    module: &ElfFile,
    debug_file: &Path,
    allow_loose_match: bool,
) -> Result<ElfFile, DwarfError> {
    log::info!(
        "Loading DWARF from explicit debug file {} for {}",
        debug_file.display(),
        module.path().display()
    );
    let file = ElfFile::open(debug_file).map_err(|e| match e {
        DwarfError::Open { source, .. } => DwarfError::DebugFileOpen {
            path: debug_file.to_path_buf(),
            source,
        },
        _ => DwarfError::DebugFileParse {
            path: debug_file.to_path_buf(),
        },
    })?;
    let crc = module
        .debuglink()
        .map_or(Ok(()), |link| check_crc(link.crc, &file));
    for check in [crc, check_build_ids(module, &file)] {
        match check {
            Err(mismatch) if allow_loose_match => log::warn!(
                "Explicit debug file {} does not match {} ({mismatch}); loose match enabled -> using it",
                debug_file.display(),
                module.path().display()
            ),
            Err(Mismatch::Crc { expected, actual }) => {
                return Err(DwarfError::ExplicitCrcMismatch {
                    debug_file: debug_file.to_path_buf(),
                    module: module.path().to_path_buf(),
                    expected,
                    actual,
                })
            }
            Err(Mismatch::BuildId { module: m, debug }) => {
                return Err(DwarfError::ExplicitBuildIdMismatch {
                    debug_file: debug_file.to_path_buf(),
                    module: module.path().to_path_buf(),
                    module_id: m,
                    debug_id: debug,
                })
            }
            Ok(()) => {}
        }
    }
    if !file.has_debug_info() {
        return Err(DwarfError::ExplicitWithoutDebugInfo {
            debug_file: debug_file.to_path_buf(),
            module: module.path().to_path_buf(),
        });
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_files() {
        assert_eq!(DebugSource::Embedded.label(), "embedded");
        assert_eq!(DebugSource::Missing.file(), None);
        let d = DebugSource::Debuglink(PathBuf::from("/x/app.debug"));
        assert_eq!(d.label(), "debuglink");
        assert_eq!(d.file(), Some(Path::new("/x/app.debug")));
        assert_eq!(
            DebugSource::Explicit(PathBuf::from("a")).label(),
            "explicit"
        );
        assert_eq!(
            DebugSource::Debuginfod(PathBuf::from("a")).label(),
            "debuginfod"
        );
    }

    #[test]
    fn default_search_paths_are_the_configs_defaults() {
        assert_eq!(
            DebugLookup::default().search_paths,
            vec![
                PathBuf::from("/usr/lib/debug"),
                PathBuf::from("/usr/local/lib/debug")
            ]
        );
    }

    #[test]
    fn build_ids_are_lower_hex() {
        assert_eq!(build_id_hex(&[0xab, 0x01, 0xff]), "ab01ff");
    }
}
