//! What an interactive front end browses in a module: its source files,
//! the lines of a file that have code, and function names for completion.

use super::Module;

impl Module {
    /// Every source file named by the line tables (directory joined), sorted.
    pub fn source_files(&self) -> Vec<String> {
        let Some(data) = self.dwarf() else {
            return Vec::new();
        };
        let mut out: Vec<String> = (0..data.units.len())
            .filter_map(|u| self.line_table(u))
            .flat_map(|t| t.files.iter().filter(|f| !f.is_empty()).cloned())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The lines of `file` (an exact recorded path, as [`Module::source_files`]
    /// lists it) that have at least one address, sorted.
    pub fn lines_with_code(&self, file: &str) -> Vec<u32> {
        let Some(data) = self.dwarf() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for u in 0..data.units.len() {
            let Some(table) = self.line_table(u) else {
                continue;
            };
            let files: Vec<u32> = (0..table.files.len() as u32)
                .filter(|&i| table.files[i as usize] == file)
                .collect();
            if files.is_empty() {
                continue;
            }
            out.extend(
                table
                    .rows
                    .iter()
                    .filter(|r| !r.end_sequence && r.line != 0 && files.contains(&r.file))
                    .map(|r| r.line),
            );
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Names of functions with code that start with `prefix`, sorted.
    pub fn function_names_with_prefix(&self, prefix: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .index()
            .map(|i| {
                i.functions
                    .keys()
                    .filter(|n| n.starts_with(prefix))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }
}
