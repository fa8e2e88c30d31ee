//! Kernel function names for the addresses a binary trace record holds (what the text
//! trace prints with `%ps`): `/proc/kallsyms`, read once when a name is first needed.

use std::fs;

/// The kernel's text symbols, by address.
#[derive(Debug, Default)]
pub struct Symbols {
    /// (address, name), sorted by address.
    text: Vec<(u64, String)>,
}

impl Symbols {
    /// `/proc/kallsyms`; empty where it cannot be read or hides the addresses
    /// (`kptr_restrict`).
    pub fn load() -> Symbols {
        Symbols::parse(&fs::read_to_string("/proc/kallsyms").unwrap_or_default())
    }

    pub fn parse(text: &str) -> Symbols {
        let mut syms: Vec<(u64, String)> = text
            .lines()
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                let addr = u64::from_str_radix(f.next()?, 16).ok()?;
                let kind = f.next()?;
                let name = f.next()?;
                (addr != 0 && matches!(kind, "t" | "T")).then(|| (addr, name.to_string()))
            })
            .collect();
        syms.sort();
        Symbols { text: syms }
    }

    /// The function `addr` is in, as `%ps` prints it (the name alone).
    pub fn name(&self, addr: u64) -> Option<&str> {
        let i = self.text.partition_point(|(a, _)| *a <= addr);
        i.checked_sub(1).map(|i| self.text[i].1.as_str())
    }
}

/// How a binary record's function address is named until it is resolved.
pub fn address_name(addr: u64) -> String {
    format!("{addr:#x}")
}

/// The address in a name made by [`address_name`].
pub fn parse_address_name(name: &str) -> Option<u64> {
    u64::from_str_radix(name.strip_prefix("0x")?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_function_an_address_is_in() {
        let s = Symbols::parse(
            "ffffffff81000100 T tick_nohz_handler\nffffffff81000200 t hrtimer_wakeup\n\
             ffffffff81000150 D some_data\n0000000000000000 T hidden\n",
        );
        assert_eq!(s.name(0xffffffff81000100), Some("tick_nohz_handler"));
        assert_eq!(s.name(0xffffffff81000180), Some("tick_nohz_handler"));
        assert_eq!(s.name(0xffffffff81000200), Some("hrtimer_wakeup"));
        assert_eq!(s.name(0x1000), None);
        assert_eq!(
            parse_address_name(&address_name(0xffffffff81000200)),
            Some(0xffffffff81000200)
        );
        assert_eq!(parse_address_name("tick_nohz_handler"), None);
    }
}
