//! The parsed DWARF of one module: units in section order, and helpers that
//! read a DIE by its global `.debug_info` offset.

use std::collections::HashMap;
use std::sync::OnceLock;

use gimli::{AttributeValue, DebuggingInformationEntry, LittleEndian, Unit, UnitOffset};

use crate::elf::ElfFile;
use crate::lines::LineTable;
use crate::location::AddressIndex;

pub(crate) type Slice = gimli::EndianSlice<'static, LittleEndian>;
pub(crate) type Die = DebuggingInformationEntry<Slice>;

/// One compilation unit and the lazily decoded parts of it.
pub(crate) struct UnitData {
    pub(crate) unit: Unit<Slice>,
    /// `.debug_info` offset of the unit header.
    pub(crate) start: u64,
    /// `.debug_info` offset one past the unit.
    pub(crate) end: u64,
    pub(crate) lines: OnceLock<LineTable>,
    /// The file paths of the line program header (see [`crate::lines::file_names`]).
    pub(crate) files: OnceLock<Vec<String>>,
}

/// The DWARF sections of a module with every unit header parsed.
pub(crate) struct DwarfData {
    pub(crate) dwarf: gimli::Dwarf<Slice>,
    pub(crate) units: Vec<UnitData>,
    /// DWARF 5 type units (`-fdebug-types-section`): signature → global
    /// offset of the unit's type DIE, for `DW_FORM_ref_sig8` references.
    type_units: HashMap<u64, u64>,
}

impl DwarfData {
    /// Loads the sections of `elf` and parses every unit header.
    pub(crate) fn load(elf: &ElfFile) -> Result<DwarfData, gimli::Error> {
        let dwarf = gimli::Dwarf::load(|id| -> Result<Slice, gimli::Error> {
            Ok(gimli::EndianSlice::new(
                elf.section(id.name()),
                LittleEndian,
            ))
        })?;
        let mut units = Vec::new();
        let mut type_units = HashMap::new();
        let mut headers = dwarf.units();
        while let Some(header) = headers.next()? {
            let Some(start) = header.debug_info_offset().map(|o| o.0 as u64) else {
                continue;
            };
            let end = start + header.length_including_self() as u64;
            if let gimli::UnitType::Type {
                type_signature,
                type_offset,
            } = header.type_()
            {
                type_units.insert(type_signature.0, start + type_offset.0 as u64);
            }
            let unit = dwarf.unit(header)?;
            units.push(UnitData {
                unit,
                start,
                end,
                lines: OnceLock::new(),
                files: OnceLock::new(),
            });
        }
        Ok(DwarfData {
            dwarf,
            units,
            type_units,
        })
    }

    /// Index of the unit that contains a global DIE offset.
    pub(crate) fn unit_of(&self, die: u64) -> Option<usize> {
        let i = self.units.partition_point(|u| u.end <= die);
        (i < self.units.len() && self.units[i].start <= die).then_some(i)
    }

    /// Converts a global DIE offset into (unit index, unit-relative offset).
    pub(crate) fn locate(&self, die: u64) -> Option<(usize, UnitOffset)> {
        let u = self.unit_of(die)?;
        let offset = gimli::DebugInfoOffset(die as usize).to_unit_offset(&self.units[u].unit)?;
        Some((u, offset))
    }

    /// Global offset of a unit-relative DIE offset.
    pub(crate) fn global(&self, unit: usize, offset: UnitOffset) -> u64 {
        self.units[unit].start + offset.0 as u64
    }

    /// Reads the DIE at a global offset.
    pub(crate) fn entry(&self, die: u64) -> Option<(usize, Die)> {
        let (u, offset) = self.locate(die)?;
        let entry = self.units[u].unit.entry(offset).ok()?;
        Some((u, entry))
    }

    /// The source language of a unit (`DW_AT_language` of its root DIE).
    pub(crate) fn language(&self, unit: usize) -> Option<gimli::DwLang> {
        let mut entries = self.units[unit].unit.entries();
        match entries
            .next_dfs()
            .ok()??
            .attr_value(gimli::DW_AT_language)?
        {
            AttributeValue::Language(language) => Some(language),
            _ => None,
        }
    }

    /// A string attribute, decoded lossily.
    pub(crate) fn string(&self, unit: usize, entry: &Die, at: gimli::DwAt) -> Option<String> {
        let value = entry.attr_value(at)?;
        let s = self.dwarf.attr_string(&self.units[unit].unit, value).ok()?;
        Some(s.to_string_lossy().into_owned())
    }

    /// A reference attribute as a global DIE offset.
    pub(crate) fn reference(&self, unit: usize, entry: &Die, at: gimli::DwAt) -> Option<u64> {
        match entry.attr_value(at)? {
            AttributeValue::UnitRef(o) => Some(self.global(unit, o)),
            AttributeValue::DebugInfoRef(o) => Some(o.0 as u64),
            AttributeValue::DebugTypesRef(sig) => self.type_units.get(&sig.0).copied(),
            _ => None,
        }
    }

    /// An unsigned constant attribute.
    pub(crate) fn udata(entry: &Die, at: gimli::DwAt) -> Option<u64> {
        entry.attr(at).and_then(|a| a.udata_value())
    }

    /// A flag attribute (absent means false).
    pub(crate) fn flag(entry: &Die, at: gimli::DwAt) -> bool {
        matches!(entry.attr_value(at), Some(AttributeValue::Flag(true)))
    }

    /// The name of a DIE, following `DW_AT_abstract_origin` and `DW_AT_specification`.
    pub(crate) fn name_of(&self, die: u64) -> Option<String> {
        let mut current = die;
        for _ in 0..8 {
            let (u, entry) = self.entry(current)?;
            if let Some(name) = self.string(u, &entry, gimli::DW_AT_name) {
                return Some(name);
            }
            current = self
                .reference(u, &entry, gimli::DW_AT_abstract_origin)
                .or_else(|| self.reference(u, &entry, gimli::DW_AT_specification))?;
        }
        None
    }

    /// An attribute of a DIE or of the DIEs it refers to through
    /// `DW_AT_abstract_origin` / `DW_AT_specification`, as (unit, value).
    pub(crate) fn inherited_attr(
        &self,
        die: u64,
        at: gimli::DwAt,
    ) -> Option<(usize, AttributeValue<Slice>)> {
        let mut current = die;
        for _ in 0..8 {
            let (u, entry) = self.entry(current)?;
            if let Some(v) = entry.attr_value(at) {
                return Some((u, v));
            }
            current = self
                .reference(u, &entry, gimli::DW_AT_abstract_origin)
                .or_else(|| self.reference(u, &entry, gimli::DW_AT_specification))?;
        }
        None
    }

    /// The type DIE of a variable/member/function, following origins.
    pub(crate) fn type_of(&self, die: u64) -> Option<u64> {
        let (u, value) = self.inherited_attr(die, gimli::DW_AT_type)?;
        match value {
            AttributeValue::UnitRef(o) => Some(self.global(u, o)),
            AttributeValue::DebugInfoRef(o) => Some(o.0 as u64),
            AttributeValue::DebugTypesRef(sig) => self.type_units.get(&sig.0).copied(),
            _ => None,
        }
    }

    /// The PC ranges of a DIE (`low_pc`/`high_pc` or `DW_AT_ranges`).
    pub(crate) fn ranges(&self, unit: usize, entry: &Die) -> Vec<std::ops::Range<u64>> {
        let mut out = Vec::new();
        if let Ok(mut iter) = self.dwarf.die_ranges(&self.units[unit].unit, entry) {
            while let Ok(Some(r)) = iter.next() {
                if r.begin < r.end && !self.units[unit].unit.is_tombstone_address(r.begin) {
                    out.push(r.begin..r.end);
                }
            }
        }
        out
    }

    /// Where each range of a DIE starts, empty ranges included (which
    /// [`DwarfData::ranges`] drops): gcc marks where an inlined scope begins
    /// with an empty range at its entry.
    pub(crate) fn range_starts(&self, unit: usize, entry: &Die) -> Vec<u64> {
        let u = &self.units[unit].unit;
        if let Some(low) = self.address(unit, entry, gimli::DW_AT_low_pc) {
            return vec![low];
        }
        let mut out = Vec::new();
        let Some(value) = entry.attr_value(gimli::DW_AT_ranges) else {
            return out;
        };
        let Ok(Some(offset)) = self.dwarf.attr_ranges_offset(u, value) else {
            return out;
        };
        let Ok(mut raw) = self.dwarf.raw_ranges(u, offset) else {
            return out;
        };
        let mut base = u.low_pc;
        let addr = |i| self.dwarf.address(u, i).ok();
        while let Ok(Some(r)) = raw.next() {
            use gimli::RawRngListEntry as E;
            let start = match r {
                // DWARF 4 `.debug_ranges`: an all-ones start selects a new base.
                E::AddressOrOffsetPair { begin, end } if begin == u64::MAX => {
                    base = end;
                    None
                }
                E::BaseAddress { addr: a } => {
                    base = a;
                    None
                }
                E::BaseAddressx { addr: i } => {
                    base = addr(i).unwrap_or(0);
                    None
                }
                E::AddressOrOffsetPair { begin, .. } | E::OffsetPair { begin, .. } => {
                    Some(base.wrapping_add(begin))
                }
                E::StartEnd { begin, .. } | E::StartLength { begin, .. } => Some(begin),
                E::StartxEndx { begin, .. } | E::StartxLength { begin, .. } => addr(begin),
            };
            out.extend(start.filter(|a| !u.is_tombstone_address(*a)));
        }
        out
    }

    /// The address of a `DW_AT_low_pc`/`DW_AT_entry_pc`-style attribute.
    pub(crate) fn address(&self, unit: usize, entry: &Die, at: gimli::DwAt) -> Option<u64> {
        let value = entry.attr_value(at)?;
        self.dwarf
            .attr_address(&self.units[unit].unit, value)
            .ok()
            .flatten()
    }

    /// The direct children of a DIE.
    pub(crate) fn children(&self, unit: usize, entry: &Die) -> Vec<Die> {
        let mut out = Vec::new();
        let Ok(mut tree) = self.units[unit].unit.entries_tree(Some(entry.offset())) else {
            return out;
        };
        let Ok(root) = tree.root() else { return out };
        let mut iter = root.children();
        while let Ok(Some(child)) = iter.next() {
            out.push(child.entry().clone());
        }
        out
    }

    /// A resolver for `DW_OP_addrx` in one unit.
    pub(crate) fn address_index(&self, unit: usize) -> UnitAddresses<'_> {
        UnitAddresses { data: self, unit }
    }
}

/// Resolves `.debug_addr` indices for one unit.
pub(crate) struct UnitAddresses<'a> {
    data: &'a DwarfData,
    unit: usize,
}

impl AddressIndex for UnitAddresses<'_> {
    fn address(&self, index: u64) -> Option<u64> {
        let u = &self.data.units[self.unit].unit;
        self.data
            .dwarf
            .address(u, gimli::DebugAddrIndex(index as usize))
            .ok()
    }

    fn die(&self, offset: u64) -> Option<u64> {
        Some(
            self.data
                .global(self.unit, gimli::UnitOffset(offset as usize)),
        )
    }
}
