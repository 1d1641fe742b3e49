//! The free-text order reader (`fanorder_pages::reader`), on what customers really typed (the
//! fixture texts), order phrases in English, Spanish and Thai, menu names with typos, numbers
//! and separators, mixed with Unicode that changes under normalization and edited as bytes.
//! The reader must never invent: every line is an entry of the menu whose name is in the
//! line's words (give or take a typo), with a quantity from 1 to 99; every question offers 1 to
//! 10 entries of the menu; every quoted text is a piece of what the customer wrote; nothing
//! after the first `MAX_TEXT_CHARS` characters changes the reading; and the time to read grows
//! no faster than the text.

use std::time::{Duration, Instant};

use fanorder_fuzz::mutate::{self, ByteEdit};
use fanorder_fuzz::{fuzz, seeds};
use fanorder_menus::{ComboId, ItemId};
use fanorder_pages::reader::{
    Catalog, Entry, EntryKind, MAX_QUANTITY, MAX_TEXT_CHARS, Reading, Unsure, quantity,
    quantity_in, read,
};
use proptest::prelude::*;
use unicode_normalization::UnicodeNormalization;

/// Real menus: names with separators ("and", "&"), numbers, accents, Thai, and keywords in
/// other languages.
const MENUS: &[&[(&str, &[&str])]] = &[
    &[
        ("Pad thai", &["phad thai", "ผัดไทย"]),
        ("Pad thai with shrimp", &["shrimp pad thai", "ผัดไทยกุ้ง"]),
        ("Fried rice", &["khao pad", "ข้าวผัด", "arroz frito"]),
        ("Green curry", &["แกงเขียวหวาน", "curry verde"]),
        ("Tom yum goong", &["tom yum", "ต้มยำกุ้ง"]),
        ("Drunken noodles", &["pad kee mao", "ผัดขี้เมา"]),
        ("Boat noodles", &["ก๋วยเตี๋ยวเรือ"]),
        ("Thai iced tea", &["ชาเย็น", "té helado"]),
        ("Coke", &["coca cola", "โค้ก"]),
        ("Mango sticky rice", &["ข้าวเหนียวมะม่วง"]),
        ("Steamed rice", &["rice", "ข้าวสวย", "arroz"]),
    ],
    &[
        ("Lomo saltado", &["lomito saltado"]),
        ("Ají de gallina", &[]),
        ("Tallarín saltado", &[]),
        ("Inca Kola", &["inka kola"]),
        ("Chicha morada", &["chicha"]),
        ("Ceviche", &["cebiche"]),
    ],
    &[
        ("Fish and chips", &[]),
        ("Mac & cheese", &["mac n cheese"]),
        ("7 Up", &[]),
        ("Burger", &["hamburger", "hamburguesa"]),
        ("Double burger", &[]),
        ("Fries", &["chips", "papas fritas"]),
        ("Ice cream", &["helado"]),
        ("A", &[]),
        ("Pizza margherita", &["margherita", "pizza"]),
    ],
];

/// Words menus of random catalogs are made of.
const POOL: &[&str] = &[
    "pad",
    "thai",
    "rice",
    "fried",
    "green",
    "curry",
    "noodles",
    "coke",
    "tea",
    "iced",
    "with",
    "and",
    "no",
    "2",
    "x",
    "ผัด",
    "ไทย",
    "ข้าว",
    "กุ้ง",
    "ชา",
    "lomo",
    "saltado",
    "ají",
    "de",
    "y",
    "un",
    "pollo",
    "a",
    "1",
    "dozen",
];

/// What customers write around the names.
const PHRASES: &[&str] = &[
    "2 pad thai and a coke",
    "hi! can I get 3 fried rice, no peanuts please",
    "ข้าวผัด 2",
    "ขอผัดไทยสองจานครับ",
    "dos lomo saltado y una inca kola",
    "quiero 2 ceviches por favor",
    "a dozen burgers & 2 7 up",
    "half a dozen fries",
    "treinta y dos ceviches",
    "how much is the pad thai?",
    "0 pad thai",
    "pad thai 500",
    "๒ จาน",
    "x2",
    "and and and",
    "with extra egg",
    "thanks!",
    "hola",
];

/// Characters that change under NFKC, lower-casing or folding, and ones that stretch text.
const ODD: &[&str] = &[
    "ＰＡＤ ＴＨＡＩ",
    "Ⅻ",
    "ﷺ",
    "İ",
    "ß",
    "ﬁ",
    "\u{301}\u{301}\u{301}",
    "\u{200d}",
    "\u{202e}",
    "\u{e31}\u{e48}",
    "๙๙",
    "’",
    "\u{0}",
    "\r\n",
    "…",
    "🍜",
];

fn entries_of(menu: &[(&str, &[&str])]) -> Vec<Entry> {
    menu.iter()
        .enumerate()
        .map(|(i, (name, keywords))| Entry {
            kind: if i % 5 == 4 {
                EntryKind::Combo(ComboId::new())
            } else {
                EntryKind::Item(ItemId::new())
            },
            name: (*name).to_owned(),
            names: keywords.iter().map(|k| (*k).to_owned()).collect(),
        })
        .collect()
}

fn pool_name() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(POOL), 1..4),
        any::<bool>(),
    )
        .prop_map(|(words, spaced)| words.join(if spaced { " " } else { "" }))
}

/// A real menu, a random one (maybe empty), or both together.
fn entries() -> impl Strategy<Value = Vec<Entry>> {
    let random = || {
        prop::collection::vec(
            (pool_name(), prop::collection::vec(pool_name(), 0..3)),
            0..10,
        )
        .prop_map(|list| {
            list.into_iter()
                .map(|(name, names)| Entry {
                    kind: EntryKind::Item(ItemId::new()),
                    name,
                    names,
                })
                .collect::<Vec<_>>()
        })
    };
    prop_oneof![
        3 => prop::sample::select(MENUS).prop_map(entries_of),
        2 => random(),
        1 => (prop::sample::select(MENUS), random()).prop_map(|(menu, mut more)| {
            let mut all = entries_of(menu);
            all.append(&mut more);
            all
        }),
    ]
}

/// A typo: a character dropped, doubled or two swapped.
fn mangle(word: &str, at: prop::sample::Index, how: u8) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.len() < 2 {
        return word.to_owned();
    }
    let i = at.index(chars.len() - 1);
    match how % 3 {
        0 => chars.swap(i, i + 1),
        1 => {
            chars.remove(i);
        }
        _ => chars.insert(i, chars[i]),
    }
    chars.into_iter().collect()
}

fn fragment(names: Vec<String>, texts: Vec<String>) -> impl Strategy<Value = String> {
    let names = if names.is_empty() {
        vec!["pizza".to_owned()]
    } else {
        names
    };
    prop_oneof![
        4 => prop::sample::select(names.clone()),
        2 => (prop::sample::select(names), any::<prop::sample::Index>(), any::<u8>())
            .prop_map(|(name, at, how)| mangle(&name, at, how)),
        2 => prop::sample::select(PHRASES).prop_map(str::to_owned),
        1 => prop::sample::select(texts),
        2 => prop::sample::select(POOL).prop_map(str::to_owned),
        1 => prop::sample::select(ODD).prop_map(str::to_owned),
        1 => (0u64..1_000_000).prop_map(|n| n.to_string()),
        1 => prop::sample::select(&[", ", " and ", "\n", " y ", "กับ", "? ", " x", "&", "+"][..])
            .prop_map(str::to_owned),
        1 => "\\PC{0,8}",
    ]
}

#[derive(Debug, Clone)]
struct Case {
    entries: Vec<Entry>,
    text: String,
}

fn cases() -> impl Strategy<Value = Case> {
    let texts = seeds::message_texts();
    let byte_edits = prop_oneof![
        3 => Just(Vec::<ByteEdit>::new()),
        1 => prop::collection::vec(mutate::byte_edit(), 1..4),
    ];
    (entries(), byte_edits, 1usize..=3)
        .prop_flat_map(move |(entries, edits, repeat)| {
            let names: Vec<String> = entries
                .iter()
                .flat_map(|e| std::iter::once(&e.name).chain(&e.names))
                .cloned()
                .collect();
            let text = prop::collection::vec(fragment(names, texts.clone()), 0..12).prop_map(
                move |parts| {
                    let text = parts.join(" ");
                    let text = mutate::edit_text(&text, &edits);
                    // Now and then a text long enough to be cut at MAX_TEXT_CHARS.
                    let times = if repeat == 3 {
                        1 + MAX_TEXT_CHARS / (text.len() + 1)
                    } else {
                        1
                    };
                    text.repeat(times)
                },
            );
            (Just(entries), text)
        })
        .prop_map(|(entries, text)| Case { entries, text })
}

/// The part of `text` the reader reads: the first `MAX_TEXT_CHARS` characters, NFKC, and of
/// that the first `MAX_TEXT_CHARS` characters.
fn normalized(text: &str) -> String {
    text.chars()
        .take(MAX_TEXT_CHARS)
        .nfkc()
        .take(MAX_TEXT_CHARS)
        .collect()
}

/// Text as compared with names: the part the reader reads, NFKC, lower case, letters and
/// digits only (combining marks dropped, Thai digits as ASCII).
fn folded(text: &str) -> Vec<char> {
    let lower = normalized(text).to_lowercase();
    lower
        .nfd()
        .filter(|c| c.is_alphanumeric())
        .map(|c| match u32::from(c) {
            0x0e50..=0x0e59 => char::from_u32(u32::from(c) - 0x0e50 + u32::from('0')).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// The fewest edits that turn `needle` into some substring of `hay`.
fn edits_to_substring(needle: &[char], hay: &[char]) -> usize {
    let mut previous = vec![0; hay.len() + 1];
    for (i, n) in needle.iter().enumerate() {
        let mut current = vec![i + 1; hay.len() + 1];
        for (j, h) in hay.iter().enumerate() {
            current[j + 1] = (previous[j] + usize::from(n != h))
                .min(previous[j + 1] + 1)
                .min(current[j] + 1);
        }
        previous = current;
    }
    previous.into_iter().min().unwrap_or(needle.len())
}

/// The ways a name may appear: whole, or without some of its words as long as what is left
/// says enough (two words, or 60% of the letters). The reader only drops small words
/// ("aji gallina" for "Ají de gallina", "noodles" for "with noodles"); dropping any word is
/// more lenient, never less.
fn variants(name: &str) -> Vec<(Vec<char>, usize)> {
    let words: Vec<Vec<char>> = name
        .split_whitespace()
        .map(folded)
        .filter(|w| !w.is_empty())
        .collect();
    let full: usize = words.iter().map(Vec::len).sum();
    let n = words.len();
    if n > 6 {
        return vec![(words.concat(), n)];
    }
    (1u32..(1 << n))
        .filter_map(|mask| {
            let kept: Vec<&Vec<char>> = (0..n)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| &words[i])
                .collect();
            let chars: usize = kept.iter().map(|w| w.len()).sum();
            (kept.len() >= 2 || chars * 10 >= full * 6).then(|| {
                (
                    kept.iter().flat_map(|w| w.iter().copied()).collect(),
                    kept.len(),
                )
            })
        })
        .collect()
}

/// Some name of `entry` is in `text`, give or take the typos, plurals and small words the
/// reader allows (a fifth of the name, plus one per word).
fn named_in(entry: &Entry, text: &str) -> bool {
    let hay = folded(text);
    std::iter::once(&entry.name)
        .chain(&entry.names)
        .flat_map(|name| variants(name))
        .any(|(needle, words)| {
            let slack = (needle.len() + 3) / 5 + words;
            !needle.is_empty()
                && edits_to_substring(&needle, &hay) <= slack.min(needle.len().saturating_sub(1))
        })
}

fn check(catalog: &Catalog, text: &str, reading: &Reading) -> Result<(), TestCaseError> {
    let source = normalized(text);
    for line in &reading.lines {
        prop_assert!(line.entry < catalog.len(), "{line:?}");
        prop_assert!((1..=MAX_QUANTITY).contains(&line.quantity), "{line:?}");
        prop_assert!(
            !line.text.is_empty() && source.contains(&line.text),
            "{line:?}"
        );
        let entry = &catalog.entries()[line.entry];
        prop_assert!(
            named_in(entry, &line.text),
            "{:?} / {:?} read from {:?}",
            entry.name,
            entry.names,
            line.text
        );
    }
    for unsure in &reading.unsure {
        match unsure {
            Unsure::Ambiguous { text, candidates } => {
                prop_assert!((1..=10).contains(&candidates.len()), "{unsure:?}");
                prop_assert!(candidates.iter().all(|&c| c < catalog.len()), "{unsure:?}");
                let mut distinct = candidates.clone();
                distinct.sort_unstable();
                distinct.dedup();
                prop_assert_eq!(distinct.len(), candidates.len());
                prop_assert!(!text.is_empty() && source.contains(text), "{unsure:?}");
                prop_assert!(quantity_in(text).is_none_or(|q| (1..=MAX_QUANTITY).contains(&q)));
            }
            Unsure::Quantity { text, entry } => {
                prop_assert!(*entry < catalog.len(), "{unsure:?}");
                prop_assert!(!text.is_empty() && source.contains(text), "{unsure:?}");
            }
            Unsure::Unknown { text } => {
                prop_assert!(!text.is_empty() && source.contains(text), "{unsure:?}");
            }
        }
    }
    if catalog.is_empty() {
        prop_assert!(
            reading.lines.is_empty(),
            "a line from an empty menu: {reading:?}"
        );
    }
    Ok(())
}

#[test]
fn fuzz_order_reader() {
    fuzz("reader", 100, cases(), |case| {
        let catalog = Catalog::new(case.entries);
        let reading = read(&case.text, &catalog);
        check(&catalog, &case.text, &reading)?;
        prop_assert_eq!(&read(&case.text, &catalog), &reading, "two readings differ");
        for n in [quantity(&case.text), quantity_in(&case.text)] {
            prop_assert!(n.is_none_or(|q| (1..=MAX_QUANTITY).contains(&q)));
        }
        if case.text.chars().count() >= MAX_TEXT_CHARS {
            let longer = format!("{} 2 pad thai and 3 cokes", case.text);
            prop_assert_eq!(
                &read(&longer, &catalog),
                &reading,
                "text after the cap was read"
            );
        }
        Ok(())
    });
}

/// The fastest of `runs` readings of `text`.
fn time_to_read(text: &str, catalog: &Catalog, runs: usize) -> Duration {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            let reading = read(text, catalog);
            let took = started.elapsed();
            check(catalog, text, &reading).unwrap_or_else(|e| panic!("{e}"));
            took
        })
        .min()
        .unwrap_or_default()
}

#[test]
fn reading_time_grows_linearly_and_stops_at_the_cap() {
    // Every real menu at once; debug builds are slow, and this is about growth with the text.
    let catalog = Catalog::new(MENUS.iter().flat_map(|m| entries_of(m)).collect());
    let patterns = [
        "pad thai ",
        "2 pad thai and a coke, ",
        "ผัดไทยข้าวผัดกุ้ง",
        // 18 characters after NFKC.
        "\u{fdfa}",
    ];
    for pattern in patterns {
        let text = |chars: usize| -> String { pattern.chars().cycle().take(chars).collect() };
        let quarter = time_to_read(&text(MAX_TEXT_CHARS / 4), &catalog, 3);
        let full = time_to_read(&text(MAX_TEXT_CHARS), &catalog, 2);
        let huge = time_to_read(&text(1 << 20), &catalog, 2);
        eprintln!(
            "{pattern:?}: {quarter:?} for a quarter of the cap, {full:?} at the cap, {huge:?} for 1 MiB"
        );
        // Linear growth is 4x; quadratic would be 16x. Slack for a busy machine.
        let slack = Duration::from_millis(30);
        assert!(
            full <= quarter * 10 + slack,
            "{pattern:?}: {quarter:?} for {} chars, {full:?} for {}",
            MAX_TEXT_CHARS / 4,
            MAX_TEXT_CHARS
        );
        assert!(
            huge <= full * 3 + slack,
            "{pattern:?}: {full:?} at the cap, {huge:?} for 1 MiB"
        );
    }
}
