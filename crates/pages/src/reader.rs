//! Reading a customer's free text ("2 pad thai and a coke", "ข้าวผัดสองจาน", "dos lomo saltado y
//! una inca kola") against one restaurant's menu. Pure logic: the bot calls [`read`] with the
//! tenant's [`Catalog`] and turns the [`Reading`] into cart lines and questions. It never
//! invents an entry: a line is only ever an entry whose name or keyword is in the text (exactly,
//! or within a small typo distance); anything less certain is returned as [`Unsure`].
//!
//! How a message is read:
//!
//! 1. Normalise: the first [`MAX_TEXT_CHARS`] characters, Unicode NFKC (cut again to
//!    [`MAX_TEXT_CHARS`]: a character may expand to many), lower case; accents are
//!    dropped from Latin letters only (`ají` reads as `aji`; Thai vowel and tone marks are kept);
//!    Thai digits become ASCII digits; an apostrophe inside a word joins it (`i'd` -> `id`), any
//!    other punctuation or symbol is a space.
//! 2. Segment: `,` `;` `.` `!` `?` `:` and new lines end a segment; `&`, `+`, `and`, `n`,
//!    `plus`, `y`, `e`, `และ`, `กับ`, `แล้วก็` separate the items of a segment, except inside a
//!    menu name that contains them ("Fish and chips").
//! 3. Words: digits and letters are split (`x2` -> `x 2`, `ผัดไทย2` -> `ผัดไทย 2`). Text in a
//!    script written without spaces (Thai) is cut into the menu's names first (longest first,
//!    never inside a syllable), then into the small vocabulary below; the rest stays as unknown
//!    words.
//! 4. Match: a run of words is scored against every name and keyword of every entry; see
//!    [`read`] for the scores and thresholds. The longest well-matched run wins; entries scoring
//!    within a small margin of the best on the same words are all candidates.
//! 5. Quantities: a number right before the name (skipping `x`, `of`, classifiers such as
//!    `plates` or `จาน`, and size words) or, failing that, right after it. A name still without
//!    one then takes the nearest free number of its item past words that describe it without
//!    naming another line: unknown words, often an option of the item ("2 chicken fried rice",
//!    "ข้าวผัดไก่ 2 จาน"), and pieces of other names (`กุ้ง` of "ต้มยำกุ้ง" in "ข้าวผัดกุ้ง 3
//!    จาน"). Those words stay in the line's text. Missing means 1.
//!
//! "with"/"con" are *not* separators: they, "without"/"sin"/"no", "extra" and Thai `ไม่`/`ใส่`
//! start a modifier ("pad thai with extra egg", "lomo saltado con arroz"). The modifier stays in
//! the line's `text` for the kitchen and never becomes a line of its own, so "green curry with
//! rice" is one green curry, not a curry and a rice. A menu name that contains "with" ("Pad thai
//! with shrimp") still matches as a whole, and the longest exact name wins.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use fanorder_menus::model::PublishedMenu;
use fanorder_menus::{Combo, ComboId, ItemId, MenuItem};
use strsim::osa_distance;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// The most one line may ask for; 0 or more than this is asked about instead.
pub const MAX_QUANTITY: u32 = 99;

/// Characters beyond this are not read (a Messenger text has at most 2000), before or after
/// NFKC normalisation.
pub const MAX_TEXT_CHARS: usize = 2000;

/// A run of words scoring at least this against an entry is read as that entry.
const ACCEPT: f64 = 0.8;
/// A run scoring at least this (but under [`ACCEPT`]) is asked about ("did you mean ...?").
const ASK: f64 = 0.7;
/// Entries scoring within this of the best on the same words are all candidates.
const MARGIN: f64 = 0.035;
/// The most candidates one question offers.
const MAX_CANDIDATES: usize = 10;
/// A keyword matched without its small words ("aji gallina" for "Ají de gallina").
const CORE: f64 = 0.95;
/// A name matched with different spacing ("padthai" for "pad thai").
const COMPACT: f64 = 0.97;

// ---------------------------------------------------------------------------------------------
// The public types

/// What a menu entry can be ordered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// An item sold on its own.
    Item(ItemId),
    /// A combo.
    Combo(ComboId),
}

/// One orderable entry and every way customers may name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What the entry is on the menu.
    pub kind: EntryKind,
    /// Its display name (also matched, whether or not `names` repeats it).
    pub name: String,
    /// Every way customers may name it: its name and its keywords in every language.
    pub names: Vec<String>,
}

/// The restaurant's menu as the reader sees it: the entries and their names, normalised once.
#[derive(Debug, Clone)]
pub struct Catalog {
    entries: Vec<Entry>,
    /// Per entry, each distinct name, normalised.
    forms: Vec<Vec<Form>>,
    /// Names in scripts written without spaces, as characters, longest first: Thai text is cut
    /// into these before anything else.
    glued: Vec<Vec<char>>,
}

impl Catalog {
    /// A catalog of these entries; [`ReadLine::entry`] indexes this list.
    pub fn new(entries: Vec<Entry>) -> Catalog {
        let mut forms = Vec::with_capacity(entries.len());
        let mut glued = Vec::new();
        for entry in &entries {
            let mut seen = HashSet::new();
            let mut list = Vec::new();
            for name in std::iter::once(&entry.name).chain(&entry.names) {
                let Some(form) = Form::new(name) else {
                    continue;
                };
                let key: Vec<&str> = form.full.toks.iter().map(|t| t.s.as_str()).collect();
                if !seen.insert(key.join(" ")) {
                    continue;
                }
                if form.full.toks.iter().all(|t| t.glued) {
                    glued.push(form.full.compact.chars().collect());
                }
                for tok in form.full.toks.iter().filter(|t| t.glued && !t.weak) {
                    glued.push(tok.s.chars().collect());
                }
                list.push(form);
            }
            forms.push(list);
        }
        glued.sort_by(|a: &Vec<char>, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        glued.dedup();
        Catalog {
            entries,
            forms,
            glued,
        }
    }

    /// From the menu available now: each item by its name and keywords in every language, each
    /// combo by its name. The caller passes only what can be ordered now.
    pub fn from_menu(items: &[MenuItem], combos: &[Combo]) -> Catalog {
        let items = items.iter().map(|item| Entry {
            kind: EntryKind::Item(item.id),
            name: item.name.clone(),
            names: names_of(&item.name, item.keywords.values()),
        });
        let combos = combos.iter().map(|combo| Entry {
            kind: EntryKind::Combo(combo.id),
            name: combo.name.clone(),
            names: vec![combo.name.clone()],
        });
        Catalog::new(items.chain(combos).collect())
    }

    /// From the published menu (what a customer can order now), in its display order.
    pub fn from_published(menu: &PublishedMenu) -> Catalog {
        let mut entries = Vec::new();
        let sections = menu
            .categories
            .iter()
            .map(|c| (&c.items, &c.combos))
            .chain(std::iter::once((&menu.items, &menu.combos)));
        for (items, combos) in sections {
            entries.extend(items.iter().map(|item| Entry {
                kind: EntryKind::Item(item.id),
                name: item.name.clone(),
                names: names_of(&item.name, item.keywords.values()),
            }));
            entries.extend(combos.iter().map(|combo| Entry {
                kind: EntryKind::Combo(combo.id),
                name: combo.name.clone(),
                names: vec![combo.name.clone()],
            }));
        }
        Catalog::new(entries)
    }

    /// The entries, in the order [`ReadLine::entry`] and [`Unsure`] candidates index.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry at `index`, if there is one.
    pub fn entry(&self, index: usize) -> Option<&Entry> {
        self.entries.get(index)
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the catalog has no entries (then nothing can be read as a line).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A name followed by its keywords, each once.
fn names_of<'a>(name: &str, keywords: impl Iterator<Item = &'a Vec<String>>) -> Vec<String> {
    let mut names = vec![name.to_owned()];
    for keyword in keywords.flatten() {
        if !names.contains(keyword) {
            names.push(keyword.clone());
        }
    }
    names
}

/// A line the text asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadLine {
    /// Index into [`Catalog::entries`].
    pub entry: usize,
    /// How many, 1 to [`MAX_QUANTITY`].
    pub quantity: u32,
    /// The words it came from as the customer wrote them (after NFKC), including its quantity
    /// and any modifier that followed ("2 pad thai no peanuts").
    pub text: String,
}

/// Something in the text the reader could not settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsure {
    /// Several entries fit about equally well: ask which one. One candidate means the words
    /// fit it only roughly (a bigger typo, or only part of its name): ask "did you mean ...?".
    /// Once answered, [`quantity_in`] on `text` gives how many.
    Ambiguous {
        /// The words in question, with their quantity ("2 noodles").
        text: String,
        /// Indexes into [`Catalog::entries`], best first, at most ten.
        candidates: Vec<usize>,
    },
    /// Looks like a request for something, but nothing on the menu fits.
    Unknown {
        /// The words in question ("2 pizzas").
        text: String,
    },
    /// The text names an entry but asks for 0 of it or more than [`MAX_QUANTITY`]: ask how
    /// many.
    Quantity {
        /// The words in question ("500 pad thai").
        text: String,
        /// Index into [`Catalog::entries`].
        entry: usize,
    },
}

/// What a text asked for, in the order it was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// The lines it asked for. The same entry may appear on several lines.
    pub lines: Vec<ReadLine>,
    /// What to ask about.
    pub unsure: Vec<Unsure>,
}

impl Reading {
    /// True when the text asked for nothing the reader noticed (a greeting, a question).
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.unsure.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Reads free text against the catalog.
///
/// A run of words matches a name or keyword of an entry with a score:
/// - 1.0 when the words are the name (plurals folded: `cokes`, `tallarines`; `&` = `and` = `y`);
/// - 0.97 when only the spacing differs (`padthai`);
/// - 0.95 when the words are the name without its small words (`aji gallina`,
///   `pad thai shrimp` for "Pad thai with shrimp");
/// - `1 - edits / length` for typos (optimal string alignment distance, per word, each word
///   allowed 0 edits up to 3 letters, 1 up to 5, 2 up to 9, 3 beyond: `pad tai` 0.86,
///   `lomo saltao` 0.91, `coka` 0.75);
/// - 0.70 to 0.79 when the words are only part of a name (`noodles` in "Drunken noodles",
///   `ก๋วยเตี๋ยว` in "ก๋วยเตี๋ยวเรือ"), more for a bigger part.
///
/// A score of 0.8 or more on one entry makes a line; several entries within 0.035 of each other
/// on the same words (and an exact match beats any inexact one) make an
/// [`Unsure::Ambiguous`], as does a best score from 0.7 to 0.8. Below 0.7 nothing matches.
///
/// Words that match nothing become [`Unsure::Unknown`] only in an item of the message (see the
/// separators above) where nothing matched and that holds at least one word outside the
/// vocabulary of greetings, politeness, request verbs, pronouns, articles, numbers,
/// classifiers and size words in English, Spanish and Thai. So "hi", "hola", "สวัสดีครับ",
/// "thanks!" read as nothing, "2 pizzas" is unknown, and in "pad thai for my sister" the extra
/// words stay in the pad thai line's text. An item that starts with a modifier word ("no
/// peanuts") is added to the text of the line before it. A segment asking for a price ("how much
/// is the pad thai?", "ราคาเท่าไหร่") is not an order and reads as nothing.
pub fn read(text: &str, catalog: &Catalog) -> Reading {
    let (source, chars) = normalize(text);
    let mut outs: Vec<Out> = Vec::new();
    for segment in words(&chars) {
        let toks = tokens(segment, &catalog.glued);
        read_segment(&toks, catalog, &mut outs);
    }
    let mut reading = Reading::default();
    for out in outs {
        let text = source
            .get(out.start..out.end)
            .unwrap_or_default()
            .trim()
            .to_owned();
        match out.what {
            What::Line { entry, quantity } => reading.lines.push(ReadLine {
                entry,
                quantity,
                text,
            }),
            What::Ambiguous(candidates) => {
                reading.unsure.push(Unsure::Ambiguous { text, candidates });
            }
            What::Unknown => reading.unsure.push(Unsure::Unknown { text }),
            What::Quantity { entry } => reading.unsure.push(Unsure::Quantity { text, entry }),
        }
    }
    reading
}

/// A quantity on its own ("2", "dos", "สอง", "two", "a dozen", "๒ จาน", "2 please"), for when
/// the bot asked "how many?". `None` for anything else, for 0 and for more than
/// [`MAX_QUANTITY`].
pub fn quantity(text: &str) -> Option<u32> {
    let toks = plain_tokens(text);
    let other = |t: &Tok| {
        !matches!(
            t.lex,
            Some(Lex::Number { .. } | Lex::Article | Lex::Glue | Lex::Filler | Lex::ModWord)
        )
    };
    if toks.iter().any(other) {
        return None;
    }
    count_in(&toks)
}

/// The quantity a phrase asks for, whatever else it says: "2 noodles" -> 2, "noodles" -> 1,
/// "ก๋วยเตี๋ยวสองชาม" -> 2. `None` when it asks for 0, more than [`MAX_QUANTITY`], or gives
/// several numbers: then ask how many. Meant for the `text` of an [`Unsure::Ambiguous`] once the
/// customer has picked the entry.
pub fn quantity_in(text: &str) -> Option<u32> {
    let toks = plain_tokens(text);
    if !toks
        .iter()
        .any(|t| matches!(t.lex, Some(Lex::Number { .. })))
    {
        return Some(1);
    }
    count_in(&toks)
}

/// True when the text says a number ("2 coke", "dos coca", "โค้กสองขวด"), not only a name.
pub fn has_count(text: &str) -> bool {
    plain_tokens(text).iter().any(is_count)
}

/// The tokens of a text read without a menu.
fn plain_tokens(text: &str) -> Vec<Tok> {
    let (_, chars) = normalize(text);
    words(&chars)
        .into_iter()
        .flat_map(|segment| tokens(segment, &[]))
        .collect()
}

/// The value of the only run of numbers in `toks`, if it is in range.
fn count_in(toks: &[Tok]) -> Option<u32> {
    let counts: Vec<usize> = (0..toks.len()).filter(|&i| is_count(&toks[i])).collect();
    let (&first, &last) = (counts.first()?, counts.last()?);
    if last - first + 1 != counts.len() {
        return None;
    }
    in_range(group_value(&toks[first..=last], None)?)
}

/// `value` as a line quantity, when it is one.
fn in_range(value: u64) -> Option<u32> {
    u32::try_from(value)
        .ok()
        .filter(|v| (1..=MAX_QUANTITY).contains(v))
}

/// What one stretch of the text became, by byte range of the NFKC text.
struct Out {
    start: usize,
    end: usize,
    what: What,
}

enum What {
    Line { entry: usize, quantity: u32 },
    Ambiguous(Vec<usize>),
    Unknown,
    Quantity { entry: usize },
}

/// Reads one segment (between hard separators).
fn read_segment(toks: &[Tok], catalog: &Catalog, outs: &mut Vec<Out>) {
    if toks.is_empty() || toks.iter().any(|t| t.lex == Some(Lex::Question)) {
        return;
    }
    let spans = choose(find_spans(toks, catalog), toks);
    let mut covered = vec![false; toks.len()];
    for span in &spans {
        covered[span.start..span.end].fill(true);
    }
    let mut from = 0;
    for i in 0..=toks.len() {
        if i == toks.len() || (!covered[i] && toks[i].lex == Some(Lex::Conj)) {
            if from < i {
                read_item(toks, (from, i), &spans, &covered, outs);
            }
            from = i + 1;
        }
    }
}

/// Reads one item of a segment: the tokens `a..b`, between item separators.
fn read_item(
    toks: &[Tok],
    (a, b): (usize, usize),
    spans: &[Span],
    covered: &[bool],
    outs: &mut Vec<Out>,
) {
    // A modifier runs to the end of the item; names inside it are part of the modifier.
    let modifier = (a..b)
        .find(|&i| !covered[i] && toks[i].lex == Some(Lex::ModIntro))
        .unwrap_or(b);
    let mut kept: Vec<&Span> = spans
        .iter()
        .filter(|s| s.start >= a && s.start < modifier)
        .collect();
    // Part of another name next to a name that matched ("chicken pad thai" with a Chicken
    // satay on the menu) describes that name.
    if kept.iter().any(|s| !s.partial) {
        kept.retain(|s| !s.partial);
    }
    if kept.is_empty() {
        let first = (a..b).find(|&i| !is_trim(&toks[i]));
        let last = (a..b).rev().find(|&i| !is_trim_end(&toks[i]));
        let (Some(first), Some(last)) = (first, last) else {
            return;
        };
        if toks[first].lex == Some(Lex::ModIntro) {
            if let Some(previous) = outs.last_mut() {
                previous.end = previous.end.max(toks[last].end);
            }
        } else if (a..modifier).any(|i| toks[i].lex.is_none()) {
            outs.push(Out {
                start: toks[first].start,
                end: toks[last].end,
                what: What::Unknown,
            });
        }
        return;
    }

    // A number goes to the name it is next to (past classifiers and size words); a name left
    // without one then takes the nearest free number past words that describe it ("2 chicken
    // fried rice", "ข้าวผัดกุ้ง 3 จาน"): unknown words and words of names that were not kept.
    let mut held = vec![false; toks.len()];
    for span in &kept {
        held[span.start..span.end].fill(true);
    }
    let mut claimed = vec![false; toks.len()];
    let mut plans: Vec<(&Span, Option<u64>, usize, usize)> = kept
        .iter()
        .map(|span| {
            let (value, lo, hi) =
                quantity_for(toks, (a, b), span, (covered, Reach::Near), &mut claimed);
            (*span, value, lo, hi)
        })
        .collect();
    for plan in plans.iter_mut().filter(|plan| plan.1.is_none()) {
        let (value, lo, hi) = quantity_for(toks, (a, b), plan.0, (&held, Reach::Far), &mut claimed);
        *plan = (plan.0, value, lo, hi);
    }
    for (k, &(span, value, lo, hi)) in plans.iter().enumerate() {
        // Words before the first name go with it; words after a name go with it.
        let mut from = if k == 0 { a } else { lo };
        let mut to = plans.get(k + 1).map_or(b, |next| next.2);
        while from < lo && is_trim(&toks[from]) {
            from += 1;
        }
        while to > hi && is_trim_end(&toks[to - 1]) {
            to -= 1;
        }
        let what = match (span.entries.as_slice(), span.accepted) {
            ([entry], true) => match value.map_or(Some(1), in_range) {
                Some(quantity) => What::Line {
                    entry: *entry,
                    quantity,
                },
                None => What::Quantity { entry: *entry },
            },
            (entries, _) => What::Ambiguous(entries.to_vec()),
        };
        outs.push(Out {
            start: toks[from].start,
            end: toks[to - 1].end,
            what,
        });
    }
}

/// How far from a name its number may be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Past classifiers and size words only ("2 plates of", "สองจาน", "2 large").
    Near,
    /// Also past words that describe the dish without naming another line: unknown words
    /// ("chicken" in "2 chicken fried rice", often an option of the item) and pieces of names
    /// that were not read (กุ้ง of ต้มยำกุ้ง in "ข้าวผัดกุ้ง 3 จาน").
    Far,
}

/// The quantity for a matched span within the item `a..b`: the explicit value if any, and the
/// token range the span and its number cover. `covered` marks the words that belong to names:
/// a number is never looked for past them.
fn quantity_for(
    toks: &[Tok],
    (a, b): (usize, usize),
    span: &Span,
    (covered, reach): (&[bool], Reach),
    claimed: &mut [bool],
) -> (Option<u64>, usize, usize) {
    let skippable = |i: usize| {
        !covered[i]
            && match toks[i].lex {
                Some(Lex::Glue | Lex::ModWord) => true,
                None => reach == Reach::Far,
                _ => false,
            }
    };
    let free_count = |i: usize, claimed: &[bool]| !covered[i] && !claimed[i] && is_count(&toks[i]);

    let mut j = span.start;
    while j > a && skippable(j - 1) {
        j -= 1;
    }
    let left_end = j;
    while j > a && free_count(j - 1, claimed) {
        j -= 1;
    }
    let left = (j, left_end);

    let mut j = span.end;
    while j < b && skippable(j) {
        j += 1;
    }
    let right_start = j;
    while j < b && free_count(j, claimed) {
        j += 1;
    }
    let right = (right_start, j);

    let has_number = |(from, to): (usize, usize)| {
        toks[from..to]
            .iter()
            .any(|t| matches!(t.lex, Some(Lex::Number { .. })))
    };
    let pick = if has_number(left) {
        Some((left, Side::Left))
    } else if has_number(right) {
        Some((right, Side::Right))
    } else if left.0 < left.1 {
        Some((left, Side::Left))
    } else {
        None
    };
    match pick {
        Some(((from, to), side)) => {
            claimed[from..to].fill(true);
            let value = group_value(&toks[from..to], Some(side)).unwrap_or(0);
            (Some(value), from.min(span.start), to.max(span.end))
        }
        None => (None, span.start, span.end),
    }
}

/// Which side of a name a number was found on.
#[derive(Clone, Copy)]
enum Side {
    Left,
    Right,
}

/// The value of a run of numbers and articles: "a" 1, "a couple" 2, "2 dozen" 24. With two
/// plain numbers the one nearest the name wins, or `None` without a name.
fn group_value(toks: &[Tok], side: Option<Side>) -> Option<u64> {
    let numbers: Vec<(u64, bool)> = toks
        .iter()
        .filter_map(|t| match t.lex {
            Some(Lex::Number { value, scale }) => Some((value, scale)),
            _ => None,
        })
        .collect();
    match (numbers.as_slice(), side) {
        ([], _) => Some(1),
        ([(value, _)], _) => Some(*value),
        ([(first, _), (second, true)], _) => Some(first.saturating_mul(*second)),
        (_, Some(Side::Left)) => numbers.last().map(|n| n.0),
        (_, Some(Side::Right)) => numbers.first().map(|n| n.0),
        (_, None) => None,
    }
}

/// A number or an article.
fn is_count(tok: &Tok) -> bool {
    matches!(tok.lex, Some(Lex::Number { .. } | Lex::Article))
}

/// Words trimmed from the start of a line's or an unknown's text.
fn is_trim(tok: &Tok) -> bool {
    matches!(
        tok.lex,
        Some(Lex::Filler | Lex::Glue | Lex::Conj | Lex::Question)
    )
}

/// Words trimmed from the end of a line's or an unknown's text: a classifier stays ("2 จาน").
fn is_trim_end(tok: &Tok) -> bool {
    matches!(tok.lex, Some(Lex::Filler | Lex::Conj | Lex::Question))
}

// ---------------------------------------------------------------------------------------------
// Matching

/// A run of tokens `start..end` and the entries it matches.
#[derive(Debug, Clone)]
struct Span {
    start: usize,
    end: usize,
    /// Characters of text covered.
    chars: usize,
    best: f64,
    accepted: bool,
    /// Every candidate matched only part of its name.
    partial: bool,
    /// Candidates, best first.
    entries: Vec<usize>,
}

/// One entry's best match on a run of tokens.
#[derive(Debug, Clone, Copy)]
struct Found {
    entry: usize,
    score: f64,
    exact: bool,
    partial: bool,
}

type FoundMap = HashMap<(usize, usize), Vec<Found>>;

fn offer(found: &mut FoundMap, (start, end): (usize, usize), candidate: Found) {
    if candidate.score < ASK {
        return;
    }
    let list = found.entry((start, end)).or_default();
    match list.iter_mut().find(|f| f.entry == candidate.entry) {
        Some(existing) => {
            if (candidate.exact, candidate.score) > (existing.exact, existing.score) {
                *existing = candidate;
            }
        }
        None => list.push(candidate),
    }
}

/// Every run of tokens that matches some entry well enough to ask about.
fn find_spans(toks: &[Tok], catalog: &Catalog) -> Vec<Span> {
    let mut found = FoundMap::new();
    for (entry, forms) in catalog.forms.iter().enumerate() {
        for form in forms {
            match_variant(toks, &form.full, 1.0, entry, &mut found);
            if let Some(core) = &form.core {
                match_variant(toks, core, CORE, entry, &mut found);
            }
            match_partial(toks, &form.full, entry, &mut found);
        }
    }
    let mut spans = Vec::new();
    for ((start, end), list) in found {
        let exact = list.iter().any(|f| f.exact);
        let pool: Vec<Found> = list.into_iter().filter(|f| f.exact || !exact).collect();
        let best = pool.iter().map(|f| f.score).fold(0.0, f64::max);
        let mut keep: Vec<Found> = pool
            .into_iter()
            .filter(|f| f.score >= best - MARGIN)
            .collect();
        keep.sort_by(|x, y| y.score.total_cmp(&x.score).then(x.entry.cmp(&y.entry)));
        keep.truncate(MAX_CANDIDATES);
        spans.push(Span {
            start,
            end,
            chars: toks[start..end].iter().map(|t| t.chars).sum(),
            best,
            accepted: best >= ACCEPT,
            partial: keep.iter().all(|f| f.partial),
            entries: keep.iter().map(|f| f.entry).collect(),
        });
    }
    spans
}

/// The spans to read, in text order: accepted matches first, then longer, then better. A match
/// inside a longer partial match that adds a real word ("rice" in "sticky rice" when only Mango
/// sticky rice has it) gives way, so the customer is asked instead of sold the wrong rice.
fn choose(spans: Vec<Span>, toks: &[Tok]) -> Vec<Span> {
    let swallowed = |s: &Span| {
        spans.iter().any(|p| {
            p.partial
                && p.start <= s.start
                && s.end <= p.end
                && p.end - p.start > s.end - s.start
                && (p.start..s.start)
                    .chain(s.end..p.end)
                    .any(|i| toks[i].lex.is_none())
        })
    };
    let mut ranked: Vec<&Span> = spans.iter().filter(|s| !swallowed(s)).collect();
    ranked.sort_by(|x, y| {
        y.accepted
            .cmp(&x.accepted)
            .then(y.chars.cmp(&x.chars))
            .then(y.best.total_cmp(&x.best))
            .then(x.start.cmp(&y.start))
    });
    let mut chosen: Vec<Span> = Vec::new();
    for span in ranked {
        if chosen
            .iter()
            .all(|c| span.end <= c.start || c.end <= span.start)
        {
            chosen.push(span.clone());
        }
    }
    chosen.sort_by_key(|s| s.start);
    chosen
}

/// Whole-name matches of one variant of a name: exact, respaced, and with typos.
fn match_variant(toks: &[Tok], v: &Variant, factor: f64, entry: usize, found: &mut FoundMap) {
    let n = toks.len();
    let k = v.toks.len();
    if v.strict {
        for i in (0..n).filter(|i| i + k <= n) {
            if toks[i..i + k]
                .iter()
                .zip(&v.toks)
                .all(|(t, f)| t.norm == f.s)
            {
                let exact = Found {
                    entry,
                    score: factor,
                    exact: true,
                    partial: false,
                };
                offer(found, (i, i + k), exact);
            }
        }
        return;
    }
    for i in 0..n {
        if i + k <= n {
            let window = &toks[i..i + k];
            if window.iter().zip(&v.toks).all(|(t, f)| same(t, f)) {
                let exact = Found {
                    entry,
                    score: factor,
                    exact: true,
                    partial: false,
                };
                offer(found, (i, i + k), exact);
            } else if let Some(score) = fuzzy_words(window, &v.toks) {
                let fuzzy = Found {
                    entry,
                    score: score * factor,
                    exact: false,
                    partial: false,
                };
                offer(found, (i, i + k), fuzzy);
            }
        }
        for m in k.saturating_sub(1).max(1)..=k + 1 {
            if i + m > n {
                break;
            }
            let window = &toks[i..i + m];
            // Most windows are far longer or shorter than the name: skip them before
            // building strings.
            let chars: usize = window.iter().map(|t| t.chars).sum();
            if chars.abs_diff(v.chars) > allowed_edits(chars.max(v.chars)) {
                continue;
            }
            if !compact_window_ok(window, v) {
                continue;
            }
            let joined: String = window.iter().map(|t| t.norm.as_str()).collect();
            let candidate = if joined == v.compact {
                Some((COMPACT, true))
            } else {
                similarity(&joined, &v.compact).map(|s| (s * 0.98, false))
            };
            if let Some((score, exact)) = candidate {
                let respaced = Found {
                    entry,
                    score: score * factor,
                    exact,
                    partial: false,
                };
                offer(found, (i, i + m), respaced);
            }
        }
    }
}

/// Matches of part of a name: the words in order, all of them words of the name
/// ("noodles", "thai tea" for "Thai iced tea"), or a piece of a Thai name.
fn match_partial(toks: &[Tok], v: &Variant, entry: usize, found: &mut FoundMap) {
    let n = toks.len();
    let k = v.toks.len();
    let score = |covered: usize| 0.7 + 0.09 * covered as f64 / v.chars.max(1) as f64;
    for i in 0..n {
        let tok = &toks[i];
        if tok.glued
            && tok.lex.is_none()
            && tok.chars >= 2
            && tok.norm != v.compact
            && v.compact.contains(&tok.norm)
        {
            let part = Found {
                entry,
                score: score(tok.chars),
                exact: false,
                partial: true,
            };
            offer(found, (i, i + 1), part);
        }
        let mut next = 0;
        let mut covered = 0;
        let mut strong = false;
        for m in 1..=k.min(n - i) {
            let tok = &toks[i + m - 1];
            if matches!(
                tok.lex,
                Some(Lex::Number { .. } | Lex::Conj | Lex::Question)
            ) {
                break;
            }
            let Some(offset) = v.toks[next..].iter().position(|f| same(tok, f)) else {
                break;
            };
            let f = &v.toks[next + offset];
            next += offset + 1;
            covered += f.chars;
            strong |= !f.weak && f.chars >= 3;
            if strong && m < k {
                let part = Found {
                    entry,
                    score: score(covered),
                    exact: false,
                    partial: true,
                };
                offer(found, (i, i + m), part);
            }
        }
    }
}

/// A window may be compared as one string when its small words (numbers, separators, modifier
/// and vocabulary words at its edges) are words of the name too.
fn compact_window_ok(window: &[Tok], v: &Variant) -> bool {
    let in_name = |t: &Tok| v.toks.iter().any(|f| f.s == t.norm);
    let last = window.len().saturating_sub(1);
    window.iter().enumerate().all(|(i, t)| {
        let hard = matches!(
            t.lex,
            Some(Lex::Number { .. } | Lex::Conj | Lex::ModIntro | Lex::Question)
        );
        let edge = (i == 0 || i == last) && t.lex.is_some();
        !(hard || edge) || in_name(t)
    })
}

/// Text word `t` is name word `f`: equal, both separators, or one the plural of the other.
fn same(t: &Tok, f: &FTok) -> bool {
    if t.norm == f.s {
        return true;
    }
    if f.conj && t.lex == Some(Lex::Conj) {
        return true;
    }
    if t.glued || f.glued || f.number || matches!(t.lex, Some(Lex::Number { .. })) {
        return false;
    }
    if t.chars.min(f.chars) < 3 {
        return false;
    }
    let plural = |a: &str, b: &str| {
        a.strip_suffix('s').is_some_and(|r| r == b)
            || a.strip_suffix("es").is_some_and(|r| r == b)
            || a.strip_suffix("ies")
                .zip(b.strip_suffix('y'))
                .is_some_and(|(x, y)| x == y)
    };
    plural(&t.norm, &f.s) || plural(&f.s, &t.norm)
}

/// The similarity of words matched one to one with some typos, or `None` if a word is too far
/// off (or is a vocabulary word, which must be exact).
fn fuzzy_words(window: &[Tok], name: &[FTok]) -> Option<f64> {
    let mut edits = 0usize;
    let mut length = 0usize;
    let mut typo = false;
    for (t, f) in window.iter().zip(name) {
        if same(t, f) {
            length += f.chars;
            continue;
        }
        if t.lex.is_some() || f.weak || f.number || t.glued != f.glued {
            return None;
        }
        let longest = t.chars.max(f.chars);
        let allowed = allowed_edits(longest);
        if allowed == 0 || t.chars.abs_diff(f.chars) > allowed {
            return None;
        }
        let d = bounded_distance(&t.norm, &f.s, allowed)?;
        edits += d;
        length += longest;
        typo = true;
    }
    (typo && length > 0).then(|| 1.0 - edits as f64 / length as f64)
}

/// The similarity of two strings within the typo allowance, if they differ.
fn similarity(a: &str, b: &str) -> Option<f64> {
    let (la, lb) = (a.chars().count(), b.chars().count());
    let longest = la.max(lb);
    let allowed = allowed_edits(longest);
    if allowed == 0 || la.abs_diff(lb) > allowed {
        return None;
    }
    let d = bounded_distance(a, b, allowed)?;
    (d > 0).then(|| 1.0 - d as f64 / longest as f64)
}

/// The optimal string alignment distance of `a` and `b` if it is at most `max`. Most pairs are
/// rejected by a cheap lower bound first: the characters one has and the other lacks (counted
/// in 64 buckets, which can only lower the count), since every edit fixes at most one of them.
fn bounded_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let mut buckets = [0i32; 64];
    for c in a.chars() {
        buckets[(u32::from(c) % 64) as usize] += 1;
    }
    for c in b.chars() {
        buckets[(u32::from(c) % 64) as usize] -= 1;
    }
    let surplus: i32 = buckets.iter().filter(|n| **n > 0).sum();
    let deficit: i32 = -buckets.iter().filter(|n| **n < 0).sum::<i32>();
    if usize::try_from(surplus.max(deficit)).unwrap_or(usize::MAX) > max {
        return None;
    }
    let d = osa_distance(a, b);
    (d <= max).then_some(d)
}

/// Typos allowed in a word of this many characters.
fn allowed_edits(chars: usize) -> usize {
    match chars {
        0..=3 => 0,
        4..=5 => 1,
        6..=9 => 2,
        _ => 3,
    }
}

// ---------------------------------------------------------------------------------------------
// Names

/// One normalised name of an entry.
#[derive(Debug, Clone)]
struct Form {
    full: Variant,
    /// The name without its small words ("aji gallina"), when that differs and still says
    /// enough.
    core: Option<Variant>,
}

#[derive(Debug, Clone)]
struct Variant {
    toks: Vec<FTok>,
    /// The words run together.
    compact: String,
    chars: usize,
    /// Only small words ("7 Up", "and and"): matched word for word or not at all, so that
    /// numbers and separators in the text never make up such a name.
    strict: bool,
}

impl Variant {
    fn new(toks: Vec<FTok>) -> Variant {
        let compact: String = toks.iter().map(|t| t.s.as_str()).collect();
        let chars = toks.iter().map(|t| t.chars).sum();
        let strict = toks.iter().all(|t| t.weak);
        Variant {
            toks,
            compact,
            chars,
            strict,
        }
    }
}

/// A word of a name.
#[derive(Debug, Clone)]
struct FTok {
    s: String,
    chars: usize,
    /// A vocabulary word, a number or a single letter: never matched by a typo, and not
    /// enough on its own.
    weak: bool,
    conj: bool,
    number: bool,
    glued: bool,
}

impl Form {
    /// The normalised name, or `None` when it says nothing matchable (empty, or one small word
    /// such as "A" or "1", which would match every article or number).
    fn new(name: &str) -> Option<Form> {
        let (_, chars) = normalize(name);
        let toks: Vec<FTok> = words(&chars)
            .into_iter()
            .flatten()
            .map(|word| {
                let s: String = word.iter().map(|c| c.c).collect();
                let lex = lookup(&s).and_then(Word::lex);
                let chars = word.len();
                let glued = word.first().is_some_and(|c| is_glued(c.c));
                FTok {
                    weak: lex.is_some() || (chars == 1 && !glued),
                    conj: lex == Some(Lex::Conj),
                    number: matches!(lex, Some(Lex::Number { .. })),
                    glued,
                    chars,
                    s,
                }
            })
            .collect();
        match toks.as_slice() {
            [] => return None,
            [only] if only.weak => return None,
            _ => {}
        }
        let full = Variant::new(toks);
        let core_toks: Vec<FTok> = full
            .toks
            .iter()
            .filter(|t| !t.weak || t.number)
            .cloned()
            .collect();
        let core_chars: usize = core_toks.iter().map(|t| t.chars).sum();
        let says_enough = core_toks.iter().any(|t| !t.weak)
            && (core_toks.len() >= 2 || core_chars * 10 >= full.chars * 6);
        let core =
            (core_toks.len() < full.toks.len() && says_enough).then(|| Variant::new(core_toks));
        Some(Form { full, core })
    }
}

// ---------------------------------------------------------------------------------------------
// Normalisation and words

/// A character of the normalised text, and the bytes of the NFKC text it came from.
#[derive(Debug, Clone, Copy)]
struct NChar {
    c: char,
    start: usize,
    end: usize,
}

/// Ends a segment.
const BREAK: char = '\n';
/// Separates items (`&`, `+`).
const AND: char = '&';
/// An apostrophe: nothing inside a word, a space elsewhere.
const JOIN: char = '\u{1}';

/// The NFKC text and its normalised characters (see the module documentation).
fn normalize(text: &str) -> (String, Vec<NChar>) {
    // Cut again after NFKC: one character can expand to 18 (U+FDFA), and reading time grows
    // with the normalised length.
    let source: String = text
        .chars()
        .take(MAX_TEXT_CHARS)
        .nfkc()
        .take(MAX_TEXT_CHARS)
        .collect();
    let mut chars: Vec<NChar> = Vec::with_capacity(source.len());
    let mut after_latin = false;
    for (start, c) in source.char_indices() {
        let end = start + c.len_utf8();
        for lower in c.to_lowercase() {
            decompose_canonical(lower, |d| {
                let out = if is_combining_mark(d) && !is_thai(d) {
                    if after_latin {
                        return;
                    }
                    d
                } else if let Some(digit) = thai_digit(d) {
                    after_latin = false;
                    digit
                } else if is_word_char(d) {
                    after_latin = is_latin(d);
                    d
                } else {
                    after_latin = false;
                    separator(d)
                };
                chars.push(NChar { c: out, start, end });
            });
        }
    }
    let mut out = Vec::with_capacity(chars.len());
    for (i, ch) in chars.iter().enumerate() {
        let mut ch = *ch;
        if ch.c == JOIN {
            let inside = i > 0
                && is_word_char(chars[i - 1].c)
                && chars.get(i + 1).is_some_and(|next| is_word_char(next.c));
            if inside {
                continue;
            }
            ch.c = ' ';
        }
        out.push(ch);
    }
    (source, out)
}

/// What a character that is not part of a word stands for.
fn separator(c: char) -> char {
    match c {
        ',' | ';' | '.' | '!' | '?' | ':' | '\n' | '\r' | '\u{2028}' | '\u{2029}' | '、' | '。'
        | '¿' | '¡' | '؟' | '…' => BREAK,
        '&' | '+' => AND,
        '\'' | '\u{2019}' | '\u{2018}' | '\u{02bc}' | '`' => JOIN,
        _ => ' ',
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c) || is_thai_letter(c)
}

fn is_latin(c: char) -> bool {
    c.is_ascii_alphabetic()
        || ('\u{00c0}'..='\u{024f}').contains(&c)
        || ('\u{1e00}'..='\u{1eff}').contains(&c)
}

fn is_thai(c: char) -> bool {
    ('\u{0e00}'..='\u{0e7f}').contains(&c)
}

/// Thai consonants, vowels and marks (not the baht sign, digits or punctuation).
fn is_thai_letter(c: char) -> bool {
    ('\u{0e01}'..='\u{0e3a}').contains(&c) || ('\u{0e40}'..='\u{0e4e}').contains(&c)
}

fn thai_digit(c: char) -> Option<char> {
    let offset = u32::from(c).checked_sub(0x0e50).filter(|o| *o < 10)?;
    char::from_digit(offset, 10)
}

/// Scripts written without spaces between words: matched by pieces, not by words.
fn is_glued(c: char) -> bool {
    matches!(u32::from(c),
        0x0e00..=0x0eff      // Thai, Lao
        | 0x1000..=0x109f    // Myanmar
        | 0x1780..=0x17ff    // Khmer
        | 0x3040..=0x30ff    // Hiragana, Katakana
        | 0x3400..=0x4dbf    // CJK extension A
        | 0x4e00..=0x9fff    // CJK
        | 0xf900..=0xfaff) // CJK compatibility
}

/// A Thai vowel or mark that belongs to the consonant before it: no word starts with it.
fn attaches_left(c: char) -> bool {
    matches!(u32::from(c), 0x0e30..=0x0e3a | 0x0e45 | 0x0e47..=0x0e4e)
}

/// A Thai vowel written before its consonant: no word ends with it.
fn leads(c: char) -> bool {
    matches!(u32::from(c), 0x0e40..=0x0e44)
}

/// A word of Thai text may begin or end at `p`.
fn boundary(cs: &[char], p: usize) -> bool {
    p == 0 || p >= cs.len() || (!attaches_left(cs[p]) && !leads(cs[p - 1]))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Digit,
    Glued,
    Other,
}

fn class(c: char) -> Class {
    if c.is_ascii_digit() {
        Class::Digit
    } else if is_glued(c) {
        Class::Glued
    } else {
        Class::Other
    }
}

/// The words of normalised text, segment by segment: split at spaces, between digits and
/// letters, and between scripts with and without spaces.
fn words(chars: &[NChar]) -> Vec<Vec<Vec<NChar>>> {
    let mut segments: Vec<Vec<Vec<NChar>>> = vec![Vec::new()];
    let mut word: Vec<NChar> = Vec::new();
    let mut last = Class::Other;
    fn flush(segments: &mut [Vec<Vec<NChar>>], word: &mut Vec<NChar>) {
        if !word.is_empty()
            && let Some(segment) = segments.last_mut()
        {
            segment.push(std::mem::take(word));
        }
    }
    for &ch in chars {
        match ch.c {
            BREAK => {
                flush(&mut segments, &mut word);
                segments.push(Vec::new());
            }
            ' ' => flush(&mut segments, &mut word),
            AND => {
                flush(&mut segments, &mut word);
                word.push(ch);
                flush(&mut segments, &mut word);
            }
            c => {
                let this = if is_combining_mark(c) && !word.is_empty() {
                    last
                } else {
                    class(c)
                };
                if this != last {
                    flush(&mut segments, &mut word);
                }
                word.push(ch);
                last = this;
            }
        }
    }
    flush(&mut segments, &mut word);
    segments.retain(|s| !s.is_empty());
    segments
}

/// A word of the text as read: vocabulary class, position in the NFKC text.
#[derive(Debug, Clone)]
struct Tok {
    norm: String,
    chars: usize,
    start: usize,
    end: usize,
    lex: Option<Lex>,
    glued: bool,
}

/// The tokens of one segment; Thai words are cut into names, vocabulary and unknown pieces,
/// and Thai numerals are read as numbers ("สามสิบห้า" 35).
fn tokens(segment: Vec<Vec<NChar>>, glued_names: &[Vec<char>]) -> Vec<Tok> {
    let mut raw: Vec<(Vec<NChar>, Option<Word>)> = Vec::new();
    for word in segment {
        if word.first().is_some_and(|c| is_glued(c.c)) {
            split_glued(&word, glued_names, &mut raw);
        } else {
            let s: String = word.iter().map(|c| c.c).collect();
            let found = lookup(&s);
            raw.push((word, found));
        }
    }
    let mut toks = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if let Some((value, used)) = thai_number(&raw[i..]) {
            let pieces = &raw[i..i + used];
            let chars: Vec<NChar> = pieces.iter().flat_map(|p| p.0.iter().copied()).collect();
            toks.push(tok(
                &chars,
                Some(Lex::Number {
                    value,
                    scale: false,
                }),
            ));
            i += used;
            continue;
        }
        let (chars, found) = &raw[i];
        let lex = match found {
            Some(Word::Lex(lex)) => Some(*lex),
            // A tens or "เอ็ด" word that is not part of a numeral.
            Some(_) => Some(Lex::Filler),
            None => None,
        };
        toks.push(tok(chars, lex));
        i += 1;
    }
    compound_numbers(toks)
}

/// Number words that make one number together: "twenty one" and "treinta y dos" (a ten, maybe
/// "and", a unit), "half a dozen" and "media docena" (6).
fn compound_numbers(toks: Vec<Tok>) -> Vec<Tok> {
    let word_number = |t: &Tok| match t.lex {
        Some(Lex::Number { value, scale }) if !t.norm.bytes().all(|b| b.is_ascii_digit()) => {
            Some((value, scale))
        }
        _ => None,
    };
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let first = &toks[i];
        let skip = |kind: Lex| usize::from(toks.get(i + 1).is_some_and(|t| t.lex == Some(kind)));
        let merged = match word_number(first) {
            Some((tens, false)) if tens % 10 == 0 && (20..=90).contains(&tens) => {
                let at = i + 1 + skip(Lex::Conj);
                toks.get(at)
                    .and_then(word_number)
                    .filter(|(unit, scale)| (1..=9).contains(unit) && !scale)
                    .map(|(unit, _)| (tens + unit, false, at))
            }
            None if ["half", "media", "medio"].contains(&first.norm.as_str()) => {
                let at = i + 1 + skip(Lex::Article);
                toks.get(at)
                    .and_then(word_number)
                    .filter(|number| *number == (12, true))
                    .map(|_| (6, true, at))
            }
            _ => None,
        };
        match merged {
            Some((value, scale, last)) => {
                out.push(Tok {
                    norm: toks[i..=last].iter().map(|t| t.norm.as_str()).collect(),
                    chars: toks[i..=last].iter().map(|t| t.chars).sum(),
                    start: first.start,
                    end: toks[last].end,
                    lex: Some(Lex::Number { value, scale }),
                    glued: false,
                });
                i = last + 1;
            }
            None => {
                out.push(first.clone());
                i += 1;
            }
        }
    }
    out
}

fn tok(chars: &[NChar], lex: Option<Lex>) -> Tok {
    Tok {
        norm: chars.iter().map(|c| c.c).collect(),
        chars: chars.len(),
        start: chars.first().map_or(0, |c| c.start),
        end: chars.last().map_or(0, |c| c.end),
        lex,
        glued: chars.first().is_some_and(|c| is_glued(c.c)),
    }
}

/// Cuts a word of a script without spaces: the menu's names first (longest, leftmost), then
/// the vocabulary in what is left; what neither covers stays as unknown pieces.
fn split_glued(word: &[NChar], names: &[Vec<char>], out: &mut Vec<(Vec<NChar>, Option<Word>)>) {
    let cs: Vec<char> = word.iter().map(|c| c.c).collect();
    let mut gap_start = 0;
    let mut p = 0;
    while p < cs.len() {
        let name = boundary(&cs, p)
            .then(|| {
                names
                    .iter()
                    .find(|n| cs[p..].starts_with(n) && boundary(&cs, p + n.len()))
            })
            .flatten();
        match name {
            Some(n) => {
                split_vocabulary(&word[gap_start..p], out);
                out.push((word[p..p + n.len()].to_vec(), None));
                p += n.len();
                gap_start = p;
            }
            None => p += 1,
        }
    }
    split_vocabulary(&word[gap_start..], out);
}

/// Cuts Thai text that holds no menu name into vocabulary words and unknown pieces.
fn split_vocabulary(part: &[NChar], out: &mut Vec<(Vec<NChar>, Option<Word>)>) {
    let cs: Vec<char> = part.iter().map(|c| c.c).collect();
    let mut unknown_start = 0;
    let mut p = 0;
    while p < cs.len() {
        let hit = boundary(&cs, p)
            .then(|| {
                LEXICON
                    .glued
                    .iter()
                    .find(|(w, _)| cs[p..].starts_with(w) && boundary(&cs, p + w.len()))
            })
            .flatten();
        match hit {
            Some((w, found)) => {
                if unknown_start < p {
                    out.push((part[unknown_start..p].to_vec(), None));
                }
                out.push((part[p..p + w.len()].to_vec(), Some(*found)));
                p += w.len();
                unknown_start = p;
            }
            None => p += 1,
        }
    }
    if unknown_start < cs.len() {
        out.push((part[unknown_start..].to_vec(), None));
    }
}

/// A Thai numeral at the start of `raw`: its value and how many pieces it takes.
fn thai_number(raw: &[(Vec<NChar>, Option<Word>)]) -> Option<(u64, usize)> {
    let word = |i: usize| raw.get(i).and_then(|r| r.1);
    let (tens, mut used) = match (word(0), word(1)) {
        (Some(Word::Unit(u)), Some(Word::Ten)) => (u * 10, 2),
        (Some(Word::Ten), _) => (10, 1),
        (Some(Word::Twenty), _) => (20, 1),
        (Some(Word::Unit(u)), _) => return Some((u, 1)),
        _ => return None,
    };
    let mut value = tens;
    match word(used) {
        Some(Word::Unit(u)) => {
            value += u;
            used += 1;
        }
        Some(Word::Et) => {
            value += 1;
            used += 1;
        }
        _ => {}
    }
    Some((value, used))
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

/// What a vocabulary word does in an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    /// A count; `scale` for "dozen", "couple": "2 dozen" is 24.
    Number { value: u64, scale: bool },
    /// "a", "an", "un", "una", "another": one, unless a number says otherwise.
    Article,
    /// Sits between a number and a name: "x", "of", "plates", "จาน".
    Glue,
    /// Greetings, politeness, request verbs, pronouns and the like: never an item.
    Filler,
    /// Separates items: "and", "y", "และ".
    Conj,
    /// Starts a modifier: "with", "without", "no", "extra", "ไม่".
    ModIntro,
    /// Describes a line without naming it: "large", "spicy", "เผ็ด".
    ModWord,
    /// Asks for a price: the segment is not an order.
    Question,
}

/// A vocabulary entry; Thai numerals are built from pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    Lex(Lex),
    /// หนึ่ง to เก้า.
    Unit(u64),
    /// สิบ.
    Ten,
    /// ยี่สิบ.
    Twenty,
    /// เอ็ด, "one" after a ten.
    Et,
}

impl Word {
    fn lex(self) -> Option<Lex> {
        match self {
            Word::Lex(lex) => Some(lex),
            Word::Unit(value) => Some(Lex::Number {
                value,
                scale: false,
            }),
            Word::Ten => Some(Lex::Number {
                value: 10,
                scale: false,
            }),
            Word::Twenty => Some(Lex::Number {
                value: 20,
                scale: false,
            }),
            Word::Et => Some(Lex::Filler),
        }
    }
}

const NUMBERS: &[(&str, u64)] = &[
    ("zero", 0),
    ("cero", 0),
    ("ศูนย์", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
    ("uno", 1),
    ("dos", 2),
    ("tres", 3),
    ("cuatro", 4),
    ("cinco", 5),
    ("seis", 6),
    ("siete", 7),
    ("ocho", 8),
    ("nueve", 9),
    ("diez", 10),
    ("once", 11),
    ("doce", 12),
    ("trece", 13),
    ("catorce", 14),
    ("quince", 15),
    ("dieciseis", 16),
    ("diecisiete", 17),
    ("dieciocho", 18),
    ("diecinueve", 19),
    ("veinte", 20),
    ("veintiuno", 21),
    ("veintidos", 22),
    ("veintitres", 23),
    ("veinticuatro", 24),
    ("veinticinco", 25),
    ("veintiseis", 26),
    ("veintisiete", 27),
    ("veintiocho", 28),
    ("veintinueve", 29),
    ("treinta", 30),
    ("cuarenta", 40),
    ("cincuenta", 50),
    ("sesenta", 60),
    ("setenta", 70),
    ("ochenta", 80),
    ("noventa", 90),
    ("เดียว", 1),
];

const SCALES: &[(&str, u64)] = &[
    ("couple", 2),
    ("pair", 2),
    ("dozen", 12),
    ("par", 2),
    ("docena", 12),
];

const THAI_UNITS: &[(&str, u64)] = &[
    ("หนึ่ง", 1),
    ("สอง", 2),
    ("สาม", 3),
    ("สี่", 4),
    ("ห้า", 5),
    ("หก", 6),
    ("เจ็ด", 7),
    ("แปด", 8),
    ("เก้า", 9),
];

const ARTICLES: &[&str] = &[
    "a",
    "an",
    "another",
    "single",
    "un",
    "una",
    "otro",
    "otra",
    "อีก",
];

const QUESTIONS: &[&str] = &[
    "much",
    "price",
    "prices",
    "cost",
    "costs",
    "cuanto",
    "cuanta",
    "cuesta",
    "cuestan",
    "precio",
    "precios",
    "ราคา",
    "เท่าไหร่",
    "เท่าไร",
    "กี่บาท",
];

const CONJUNCTIONS: &[&str] = &["&", "and", "n", "plus", "y", "e", "และ", "กับ", "แล้วก็"];

const MOD_INTROS: &[&str] = &[
    "with",
    "w",
    "without",
    "no",
    "not",
    "dont",
    "con",
    "sin",
    "ไม่",
    "ไม่ใส่",
    "ใส่",
    "ไม่เอา",
    "แยก",
];

const MOD_WORDS: &[&str] = &[
    "extra",
    "พิเศษ",
    "large",
    "small",
    "medium",
    "regular",
    "big",
    "mini",
    "jumbo",
    "xl",
    "spicy",
    "mild",
    "hot",
    "cold",
    "less",
    "half",
    "full",
    "vegetarian",
    "vegan",
    "grande",
    "grandes",
    "mediano",
    "mediana",
    "pequeno",
    "pequena",
    "chico",
    "chica",
    "familiar",
    "personal",
    "picante",
    "picantes",
    "caliente",
    "frio",
    "fria",
    "poco",
    "เผ็ด",
    "น้อย",
    "มาก",
    "กลาง",
    "ใหญ่",
    "เล็ก",
    "ธรรมดา",
    "จัมโบ้",
];

const GLUE: &[&str] = &[
    "x",
    "of",
    "de",
    "del",
    "pcs",
    "pc",
    "piece",
    "pieces",
    "plate",
    "plates",
    "order",
    "orders",
    "serving",
    "servings",
    "portion",
    "portions",
    "bottle",
    "bottles",
    "cans",
    "glass",
    "glasses",
    "cup",
    "cups",
    "bowl",
    "bowls",
    "box",
    "boxes",
    "pack",
    "packs",
    "times",
    "unit",
    "units",
    "plato",
    "platos",
    "pieza",
    "piezas",
    "porcion",
    "porciones",
    "orden",
    "ordenes",
    "botella",
    "botellas",
    "lata",
    "latas",
    "vaso",
    "vasos",
    "taza",
    "tazas",
    "caja",
    "cajas",
    "veces",
    "unidad",
    "unidades",
    "จาน",
    "ที่",
    "แก้ว",
    "ขวด",
    "ชิ้น",
    "กล่อง",
    "ถ้วย",
    "อัน",
    "ชาม",
    "ห่อ",
    "ไม้",
    "ลูก",
    "ตัว",
    "กระป๋อง",
    "ชุด",
    "เซ็ต",
    "ถุง",
    "ส่วน",
];

const FILLER: &[&str] = &[
    // English
    "i",
    "im",
    "ill",
    "id",
    "ive",
    "me",
    "my",
    "we",
    "us",
    "our",
    "you",
    "u",
    "ur",
    "your",
    "ya",
    "it",
    "its",
    "is",
    "are",
    "am",
    "be",
    "was",
    "were",
    "will",
    "would",
    "like",
    "love",
    "want",
    "wanna",
    "wants",
    "need",
    "needs",
    "get",
    "got",
    "gimme",
    "give",
    "have",
    "has",
    "take",
    "can",
    "could",
    "may",
    "might",
    "should",
    "please",
    "pls",
    "plz",
    "plez",
    "thanks",
    "thank",
    "thankyou",
    "thx",
    "ty",
    "tks",
    "hi",
    "hello",
    "helo",
    "hey",
    "heya",
    "hiya",
    "yo",
    "sup",
    "good",
    "morning",
    "afternoon",
    "evening",
    "night",
    "bye",
    "goodbye",
    "ok",
    "okay",
    "okey",
    "kk",
    "yes",
    "yeah",
    "yea",
    "yep",
    "yup",
    "sure",
    "alright",
    "cool",
    "great",
    "nice",
    "perfect",
    "hmm",
    "hm",
    "um",
    "uh",
    "oh",
    "ah",
    "just",
    "only",
    "also",
    "too",
    "again",
    "more",
    "then",
    "so",
    "well",
    "the",
    "some",
    "any",
    "to",
    "at",
    "in",
    "on",
    "from",
    "by",
    "for",
    "about",
    "what",
    "which",
    "where",
    "when",
    "who",
    "whats",
    "how",
    "do",
    "does",
    "did",
    "there",
    "here",
    "that",
    "this",
    "these",
    "those",
    "them",
    "they",
    "he",
    "she",
    "ordering",
    "delivery",
    "deliver",
    "pickup",
    "pick",
    "up",
    "takeaway",
    "takeout",
    "go",
    "menu",
    "cart",
    "food",
    "eat",
    "send",
    "bring",
    "make",
    "add",
    "put",
    "lets",
    "let",
    "today",
    "tonight",
    "now",
    "asap",
    "soon",
    "same",
    "all",
    "friend",
    "friends",
    // Spanish
    "hola",
    "ola",
    "buenas",
    "buenos",
    "buen",
    "dia",
    "dias",
    "tardes",
    "noches",
    "quiero",
    "quisiera",
    "queremos",
    "queria",
    "quiere",
    "quieren",
    "mi",
    "mis",
    "nos",
    "te",
    "le",
    "les",
    "yo",
    "da",
    "dame",
    "deme",
    "denme",
    "das",
    "dan",
    "puedes",
    "puede",
    "pueden",
    "podria",
    "podrias",
    "traer",
    "traeme",
    "traiga",
    "mandar",
    "mandame",
    "mande",
    "enviar",
    "envia",
    "pedir",
    "pido",
    "pedido",
    "ordenar",
    "ordeno",
    "por",
    "favor",
    "porfa",
    "porfavor",
    "porfis",
    "xfa",
    "xfavor",
    "gracias",
    "muchas",
    "mucho",
    "para",
    "la",
    "el",
    "los",
    "las",
    "lo",
    "al",
    "en",
    "que",
    "como",
    "cuando",
    "donde",
    "cual",
    "tambien",
    "mas",
    "unos",
    "unas",
    "si",
    "vale",
    "listo",
    "bueno",
    "ya",
    "hay",
    "tienen",
    "tiene",
    "tienes",
    "tengo",
    "algo",
    "comer",
    "tomar",
    "llevar",
    "aqui",
    "ahora",
    "hoy",
    "solo",
    "nada",
    "es",
    "son",
    "esta",
    "estan",
    "eso",
    "esto",
    "ese",
    "esa",
    "carta",
    "comida",
    "amigo",
    "amiga",
    // Thai
    "สวัสดี",
    "ครับ",
    "คับ",
    "ค่ะ",
    "คะ",
    "ค่า",
    "คร้า",
    "ครับผม",
    "นะ",
    "จ้า",
    "จ้ะ",
    "จ๊ะ",
    "ฮะ",
    "ขอ",
    "เอา",
    "สั่ง",
    "หน่อย",
    "ด้วย",
    "ให้",
    "ที",
    "ผม",
    "ฉัน",
    "หนู",
    "เรา",
    "ดิฉัน",
    "อยาก",
    "อยากได้",
    "ได้",
    "ไหม",
    "มั้ย",
    "ขอบคุณ",
    "โอเค",
    "เพิ่ม",
    "ทาน",
    "กิน",
    "พี่",
    "น้อง",
    "จะ",
    "ของ",
    "นี้",
    "นั้น",
    "เมนู",
    "ส่ง",
    "มี",
    "รับ",
    "ละ",
    "เลย",
    "แบบ",
    "แล้ว",
    "ก็",
];

/// The vocabulary, normalised like the text.
struct Lexicon {
    words: HashMap<String, Word>,
    /// The words in scripts without spaces, as characters, longest first.
    glued: Vec<(Vec<char>, Word)>,
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(Lexicon::build);

impl Lexicon {
    fn build() -> Lexicon {
        let mut words = HashMap::new();
        let mut add = |word: &str, value: Word| {
            let (_, chars) = normalize(word);
            let key: String = chars.iter().map(|c| c.c).filter(|c| *c != ' ').collect();
            words.entry(key).or_insert(value);
        };
        for (word, value) in NUMBERS {
            add(
                word,
                Word::Lex(Lex::Number {
                    value: *value,
                    scale: false,
                }),
            );
        }
        for (word, value) in SCALES {
            add(
                word,
                Word::Lex(Lex::Number {
                    value: *value,
                    scale: true,
                }),
            );
        }
        for (word, value) in THAI_UNITS {
            add(word, Word::Unit(*value));
        }
        add("สิบ", Word::Ten);
        add("ยี่สิบ", Word::Twenty);
        add("เอ็ด", Word::Et);
        let classes: [(&[&str], Lex); 7] = [
            (ARTICLES, Lex::Article),
            (QUESTIONS, Lex::Question),
            (CONJUNCTIONS, Lex::Conj),
            (MOD_INTROS, Lex::ModIntro),
            (MOD_WORDS, Lex::ModWord),
            (GLUE, Lex::Glue),
            (FILLER, Lex::Filler),
        ];
        for (list, lex) in classes {
            for word in list {
                add(word, Word::Lex(lex));
            }
        }
        let mut glued: Vec<(Vec<char>, Word)> = words
            .iter()
            .filter(|(k, _)| k.chars().next().is_some_and(is_glued))
            .map(|(k, v)| (k.chars().collect(), *v))
            .collect();
        glued.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Lexicon { words, glued }
    }
}

/// The vocabulary class of a normalised word: digits are numbers, unknown single letters are
/// filler ("u", "k").
fn lookup(word: &str) -> Option<Word> {
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) {
        let value = word.bytes().fold(0u64, |acc, b| {
            acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
        });
        return Some(Word::Lex(Lex::Number {
            value,
            scale: false,
        }));
    }
    if let Some(found) = LEXICON.words.get(word) {
        return Some(*found);
    }
    let mut chars = word.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if !is_glued(c) && c.is_alphabetic() => Some(Word::Lex(Lex::Filler)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fanorder_menus::{GroupId, OptionId};
    use proptest::prelude::*;

    fn entry(name: &str, keywords: &[&str]) -> Entry {
        Entry {
            kind: EntryKind::Item(ItemId::new()),
            name: name.to_owned(),
            names: keywords.iter().map(|k| (*k).to_owned()).collect(),
        }
    }

    /// A Thai restaurant with English, Thai and Spanish keywords.
    fn thai_menu() -> Catalog {
        let mut entries = vec![
            entry("Pad thai", &["pad thai", "phad thai", "ผัดไทย"]),
            entry(
                "Pad thai with shrimp",
                &["shrimp pad thai", "ผัดไทยกุ้ง", "pad thai con camarones"],
            ),
            entry("Fried rice", &["khao pad", "ข้าวผัด", "arroz frito"]),
            entry(
                "Green curry",
                &["gaeng keow wan", "แกงเขียวหวาน", "curry verde"],
            ),
            entry("Massaman curry", &["แกงมัสมั่น", "curry massaman"]),
            entry("Tom yum goong", &["tom yum", "ต้มยำกุ้ง", "sopa tom yum"]),
            entry("Drunken noodles", &["pad kee mao", "ผัดขี้เมา"]),
            entry("Boat noodles", &["ก๋วยเตี๋ยวเรือ"]),
            entry("Thai tea", &["ชาไทย", "té tailandés"]),
            entry("Thai iced tea", &["ชาเย็น", "té helado"]),
            entry("Coke", &["coca cola", "โค้ก", "coca"]),
            entry("Mango sticky rice", &["ข้าวเหนียวมะม่วง", "arroz con mango"]),
            entry("Papaya salad", &["som tam", "ส้มตำ", "ensalada de papaya"]),
            entry("Steamed rice", &["rice", "jasmine rice", "ข้าวสวย", "arroz"]),
            entry("Spring rolls", &["ปอเปี๊ยะ", "rollitos"]),
        ];
        entries.push(Entry {
            kind: EntryKind::Combo(ComboId::new()),
            name: "Lunch set".to_owned(),
            names: Vec::new(),
        });
        Catalog::new(entries)
    }

    /// A Peruvian restaurant with Spanish names.
    fn peruvian_menu() -> Catalog {
        Catalog::new(vec![
            entry("Lomo saltado", &["lomito saltado"]),
            entry("Ají de gallina", &[]),
            entry("Tallarín saltado", &[]),
            entry("Inca Kola", &["inka kola", "inca"]),
            entry("Chicha morada", &["chicha"]),
            entry("Ceviche", &["cebiche"]),
        ])
    }

    /// The reading in short: lines as "2 Pad thai", then "? text: A | B" for a question,
    /// "! text" for an unknown and "# text: Name" for a quantity to ask about.
    fn summary(text: &str, catalog: &Catalog) -> Vec<String> {
        let reading = read(text, catalog);
        let name = |i: usize| catalog.entries()[i].name.clone();
        let mut out: Vec<String> = reading
            .lines
            .iter()
            .map(|l| format!("{} {}", l.quantity, name(l.entry)))
            .collect();
        for unsure in &reading.unsure {
            out.push(match unsure {
                Unsure::Ambiguous { text, candidates } => {
                    let mut names: Vec<String> = candidates.iter().map(|&i| name(i)).collect();
                    names.sort();
                    format!("? {text}: {}", names.join(" | "))
                }
                Unsure::Unknown { text } => format!("! {text}"),
                Unsure::Quantity { text, entry } => format!("# {text}: {}", name(*entry)),
            });
        }
        out
    }

    const THAI_CASES: &[(&str, &[&str])] = &[
        // English, quantities before and after, several items
        ("2 pad thai and a coke", &["2 Pad thai", "1 Coke"]),
        ("pad thai x2, 1 coke", &["2 Pad thai", "1 Coke"]),
        ("Pad Thai ×2 + Coke", &["2 Pad thai", "1 Coke"]),
        ("2x tom yum", &["2 Tom yum goong"]),
        ("thai iced tea x 3", &["3 Thai iced tea"]),
        ("two green curries please", &["2 Green curry"]),
        ("a dozen spring rolls", &["12 Spring rolls"]),
        ("21 spring rolls", &["21 Spring rolls"]),
        ("twenty-one spring rolls", &["21 Spring rolls"]),
        ("half a dozen spring rolls", &["6 Spring rolls"]),
        ("extra rice", &["1 Steamed rice"]),
        ("2 lunch sets", &["2 Lunch set"]),
        ("2 cokes", &["2 Coke"]),
        ("som tam x2 & 2 rice", &["2 Papaya salad", "2 Steamed rice"]),
        (
            "pad thai\ncoke\nthai tea",
            &["1 Pad thai", "1 Coke", "1 Thai tea"],
        ),
        ("pad thai and pad thai", &["1 Pad thai", "1 Pad thai"]),
        // filler words
        ("I want a large pad thai", &["1 Pad thai"]),
        (
            "i'd like two pad thai please and one thai iced tea",
            &["2 Pad thai", "1 Thai iced tea"],
        ),
        ("Hi! can I get 3 phad thai pls", &["3 Pad thai"]),
        // longest and exact names win
        ("2 pad thai with shrimp", &["2 Pad thai with shrimp"]),
        ("pad thai shrimp", &["1 Pad thai with shrimp"]),
        ("thai tea", &["1 Thai tea"]),
        ("arroz con mango", &["1 Mango sticky rice"]),
        ("chicken pad thai", &["1 Pad thai"]),
        // typos and spacing
        ("pad tai", &["1 Pad thai"]),
        ("padthai", &["1 Pad thai"]),
        ("tom yam", &["1 Tom yum goong"]),
        ("grean curry", &["1 Green curry"]),
        // modifiers stay with their line
        ("pad thai no peanuts", &["1 Pad thai"]),
        ("green curry with rice", &["1 Green curry"]),
        ("no coke", &[]),
        // Thai
        ("ข้าวผัด 2", &["2 Fried rice"]),
        ("ข้าวผัดสองจาน", &["2 Fried rice"]),
        ("ข้าวผัด2จาน", &["2 Fried rice"]),
        (
            "ขอผัดไทยหนึ่งจานกับชาเย็นสองแก้วค่ะ",
            &["1 Pad thai", "2 Thai iced tea"],
        ),
        ("ผัดไทยกุ้ง ๒ จาน", &["2 Pad thai with shrimp"]),
        (
            "ต้มยำกุ้ง 1 ถ้วย ข้าวสวย 2 จาน",
            &["1 Tom yum goong", "2 Steamed rice"],
        ),
        ("เอาโค้ก 3 ขวด", &["3 Coke"]),
        ("ส้มตำสิบสองจาน", &["12 Papaya salad"]),
        ("ผัดไท 2", &["2 Pad thai"]),
        ("ผัดไทยจานเดียว", &["1 Pad thai"]),
        // Spanish on the Thai menu
        ("dos arroz frito y una coca", &["2 Fried rice", "1 Coke"]),
        // ambiguous and "did you mean"
        ("noodles", &["? noodles: Boat noodles | Drunken noodles"]),
        ("2 curry", &["? 2 curry: Green curry | Massaman curry"]),
        ("coka", &["? coka: Coke"]),
        ("3 sticky rice", &["? 3 sticky rice: Mango sticky rice"]),
        ("ก๋วยเตี๋ยว 2 ชาม", &["? ก๋วยเตี๋ยว 2 ชาม: Boat noodles"]),
        ("ชา", &["? ชา: Thai iced tea | Thai tea"]),
        // unknown
        ("2 pizzas", &["! 2 pizzas"]),
        ("2 pizzas and a coke", &["1 Coke", "! 2 pizzas"]),
        ("do you have pizza?", &["! pizza"]),
        // greetings, thanks and questions read as nothing
        ("hi", &[]),
        ("สวัสดีครับ", &[]),
        ("thanks!", &[]),
        ("ขอบคุณค่ะ", &[]),
        ("how much is the pad thai?", &[]),
        ("ผัดไทยราคาเท่าไหร่", &[]),
        // quantities out of range
        ("0 pad thai", &["# 0 pad thai: Pad thai"]),
        ("pad thai 500", &["# pad thai 500: Pad thai"]),
    ];

    const PERUVIAN_CASES: &[(&str, &[&str])] = &[
        (
            "dos lomo saltado y una inca kola",
            &["2 Lomo saltado", "1 Inca Kola"],
        ),
        ("lomo saltao", &["1 Lomo saltado"]),
        ("quiero 2 ceviches por favor", &["2 Ceviche"]),
        ("aji de gallina", &["1 Ají de gallina"]),
        ("Ají gallina x3", &["3 Ají de gallina"]),
        (
            "un ceviche, dos inca kola y una chicha morada",
            &["1 Ceviche", "2 Inca Kola", "1 Chicha morada"],
        ),
        ("dos tallarines saltados", &["2 Tallarín saltado"]),
        ("tres chichas", &["3 Chicha morada"]),
        ("inka kola 2", &["2 Inca Kola"]),
        ("ají de gallina sin picante", &["1 Ají de gallina"]),
        ("cebiche e inca kola", &["1 Ceviche", "1 Inca Kola"]),
        ("veinte ceviches", &["20 Ceviche"]),
        ("treinta y dos ceviches", &["32 Ceviche"]),
        (
            "quiero un lomo saltado con arroz extra",
            &["1 Lomo saltado"],
        ),
        ("saltado", &["? saltado: Lomo saltado | Tallarín saltado"]),
        ("una pizza", &["! una pizza"]),
        ("hola", &[]),
        ("gracias!!", &[]),
        ("cuanto cuesta el ceviche?", &[]),
        ("cero ceviches", &["# cero ceviches: Ceviche"]),
        (
            "chicha morada x 100",
            &["# chicha morada x 100: Chicha morada"],
        ),
    ];

    #[test]
    fn reads_a_thai_menu_in_english_thai_and_spanish() {
        let catalog = thai_menu();
        let failures: Vec<String> = THAI_CASES
            .iter()
            .filter_map(|(text, expected)| {
                let got = summary(text, &catalog);
                (got != *expected).then(|| format!("{text:?}: expected {expected:?}, got {got:?}"))
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn reads_a_peruvian_menu_in_spanish() {
        let catalog = peruvian_menu();
        let failures: Vec<String> = PERUVIAN_CASES
            .iter()
            .filter_map(|(text, expected)| {
                let got = summary(text, &catalog);
                (got != *expected).then(|| format!("{text:?}: expected {expected:?}, got {got:?}"))
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    fn texts(text: &str, catalog: &Catalog) -> Vec<String> {
        read(text, catalog)
            .lines
            .into_iter()
            .map(|l| l.text)
            .collect()
    }

    #[test]
    fn a_line_keeps_the_words_it_came_from() {
        let catalog = thai_menu();
        assert_eq!(
            texts("I want a large pad thai please", &catalog),
            ["a large pad thai"]
        );
        assert_eq!(texts("ข้าวผัดสองจานค่ะ", &catalog), ["ข้าวผัดสองจาน"]);
        assert_eq!(
            texts("2 Pad Thai no peanuts and a Coke", &catalog),
            ["2 Pad Thai no peanuts", "a Coke"]
        );
        // A modifier in its own segment goes with the line before it.
        assert_eq!(
            texts("Pad thai, no peanuts!", &catalog),
            ["Pad thai, no peanuts"]
        );
        let peruvian = peruvian_menu();
        assert_eq!(texts("2 Ají de gallina", &peruvian), ["2 Ají de gallina"]);
    }

    #[test]
    fn accents_fold_for_latin_but_thai_marks_stay() {
        let words = |text: &str| -> Vec<String> {
            let (_, chars) = normalize(text);
            words(&chars)
                .into_iter()
                .flatten()
                .map(|w| w.iter().map(|c| c.c).collect())
                .collect()
        };
        assert_eq!(
            words("Ají de GALLINA, Pequeño!"),
            ["aji", "de", "gallina", "pequeno"]
        );
        assert_eq!(words("Crème brûlée"), ["creme", "brulee"]);
        // Thai vowel and tone marks are combining characters too, and must survive.
        assert_eq!(words("ก๋วยเตี๋ยว"), ["ก๋วยเตี๋ยว"]);
        assert_eq!(words("ข้าวผัด๒จาน"), ["ข้าวผัด", "2", "จาน"]);
        assert_eq!(words("I'd like x2"), ["id", "like", "x", "2"]);
        // Full-width digits and letters are NFKC-folded.
        assert_eq!(words("２ ｃｏｋｅ"), ["2", "coke"]);
    }

    #[test]
    fn text_that_grows_under_normalization_is_cut_at_the_cap_too() {
        // Found by the fuzzer: U+FDFA is 18 characters after NFKC, so 2000 of them were 36000
        // characters to read, ten times the time of any other message.
        let expanding = "\u{fdfa}".repeat(200);
        assert_eq!(expanding.nfkc().count(), 3600);
        let reading = read(&format!("{expanding} 2 pad thai"), &thai_menu());
        assert!(reading.lines.is_empty(), "the pad thai is past the cap");
        let (source, chars) = normalize(&"\u{fdfa}".repeat(MAX_TEXT_CHARS));
        assert_eq!(source.chars().count(), MAX_TEXT_CHARS);
        assert!(chars.len() <= 3 * MAX_TEXT_CHARS);
        assert_eq!(summary("2 pad thai", &thai_menu()), ["2 Pad thai"]);
    }

    #[test]
    fn the_reader_only_knows_this_restaurants_menu() {
        // The Thai dishes mean nothing on the Peruvian menu.
        let peruvian = peruvian_menu();
        assert_eq!(summary("2 pad thai", &peruvian), ["! 2 pad thai"]);
        assert_eq!(summary("ผัดไทย 2 จาน", &peruvian), ["! ผัดไทย 2 จาน"]);
        let empty = Catalog::new(Vec::new());
        assert_eq!(summary("a coke please", &empty), ["! a coke"]);
    }

    #[test]
    fn names_with_separators_or_numbers_inside_still_match() {
        let catalog = Catalog::new(vec![
            entry("Fish & chips", &[]),
            entry("7 Up", &[]),
            entry("Arroz con pollo", &[]),
            entry("Combo 2", &[]),
        ]);
        assert_eq!(summary("2 fish and chips", &catalog), ["2 Fish & chips"]);
        assert_eq!(
            summary("fish n chips, 3 7up", &catalog),
            ["1 Fish & chips", "3 7 Up"]
        );
        assert_eq!(
            summary("arroz con pollo x2", &catalog),
            ["2 Arroz con pollo"]
        );
        assert_eq!(summary("3 combo 2", &catalog), ["3 Combo 2"]);
    }

    #[test]
    fn names_that_are_only_small_words_are_never_matched() {
        // An entry called "A" or "1" would otherwise match every article or number.
        let catalog = Catalog::new(vec![entry("A", &["1", "the"]), entry("Coke", &[])]);
        assert_eq!(summary("a coke", &catalog), ["1 Coke"]);
        assert_eq!(summary("1", &catalog), Vec::<String>::new());
    }

    #[test]
    fn an_ambiguous_question_keeps_its_quantity() {
        let catalog = thai_menu();
        let reading = read("3 noodles", &catalog);
        let [Unsure::Ambiguous { text, candidates }] = reading.unsure.as_slice() else {
            panic!("expected one question, got {reading:?}");
        };
        assert_eq!(candidates.len(), 2);
        assert_eq!(quantity_in(text), Some(3));
    }

    #[test]
    fn quantity_reads_a_number_on_its_own() {
        let cases: &[(&str, Option<u32>)] = &[
            ("2", Some(2)),
            ("dos", Some(2)),
            ("สอง", Some(2)),
            ("two", Some(2)),
            ("Two please", Some(2)),
            ("x2", Some(2)),
            ("สองจานค่ะ", Some(2)),
            ("๓", Some(3)),
            ("a dozen", Some(12)),
            ("una", Some(1)),
            ("สิบห้า", Some(15)),
            ("ยี่สิบเอ็ด", Some(21)),
            ("สามสิบ", Some(30)),
            ("ninety nine", Some(99)),
            ("media docena", Some(6)),
            ("99", Some(99)),
            ("100", None),
            ("0", None),
            ("cero", None),
            ("pad thai", None),
            ("2 pad thai", None),
            ("2 3", None),
            ("", None),
            ("hi", None),
        ];
        for (text, expected) in cases {
            assert_eq!(quantity(text), *expected, "{text:?}");
        }
    }

    #[test]
    fn quantity_in_reads_the_number_of_a_phrase() {
        assert_eq!(quantity_in("2 noodles"), Some(2));
        assert_eq!(quantity_in("noodles"), Some(1));
        assert_eq!(quantity_in("ก๋วยเตี๋ยวสองชาม"), Some(2));
        assert_eq!(quantity_in("500 noodles"), None);
        assert_eq!(quantity_in("2 noodles 3"), None);
    }

    #[test]
    fn a_catalog_comes_from_the_menu_items_keywords_and_combos() {
        let item: MenuItem = serde_json::from_value(serde_json::json!({
            "id": ItemId::new(),
            "name": "Lomo saltado",
            "price": 3500,
            "keywords": {"es": ["lomito"], "en": ["beef stir fry"]},
            "position": 0,
            "version": 1,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }))
        .unwrap();
        let combo: Combo = serde_json::from_value(serde_json::json!({
            "id": ComboId::new(),
            "name": "Menú del día",
            "price": 2000,
            "components": [],
            "position": 0,
            "version": 1,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }))
        .unwrap();
        let catalog = Catalog::from_menu(std::slice::from_ref(&item), std::slice::from_ref(&combo));
        assert_eq!(catalog.len(), 2);
        assert_eq!(catalog.entries()[0].kind, EntryKind::Item(item.id));
        assert_eq!(
            catalog.entries()[0].names,
            ["Lomo saltado", "beef stir fry", "lomito"]
        );
        assert_eq!(catalog.entries()[1].kind, EntryKind::Combo(combo.id));
        assert_eq!(
            summary("2 beef stir fry y un menu del dia", &catalog),
            ["2 Lomo saltado", "1 Menú del día"]
        );
    }

    /// A menu item as the API stores it, with its modifier groups (name, options).
    fn menu_item(name: &str, keywords: serde_json::Value, groups: &[(&str, &[&str])]) -> MenuItem {
        let groups: Vec<serde_json::Value> = groups
            .iter()
            .map(|(group, options)| {
                let options: Vec<serde_json::Value> = options
                    .iter()
                    .map(|o| serde_json::json!({"id": OptionId::new(), "name": o, "price_delta": 0}))
                    .collect();
                serde_json::json!({"id": GroupId::new(), "name": group, "min": 0, "max": 1, "options": options})
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "id": ItemId::new(),
            "name": name,
            "price": 10000,
            "keywords": keywords,
            "modifier_groups": groups,
            "position": 0,
            "version": 1,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }))
        .unwrap()
    }

    /// The demo's kind of menu: fried rice with a protein to choose, a pad thai with extras,
    /// and other names that hold option words ("Chicken satay", กุ้ง in "ต้มยำกุ้ง").
    fn options_menu() -> (Vec<MenuItem>, Catalog) {
        use serde_json::json;
        let items = vec![
            menu_item(
                "Khao pad",
                json!({"en": ["fried rice"], "th": ["ข้าวผัด"], "es": ["arroz frito"]}),
                &[("Protein", &["Chicken", "Pork", "Shrimp"])],
            ),
            menu_item(
                "Pad thai",
                json!({"en": ["pad thai"], "th": ["ผัดไทย"]}),
                &[("Extras", &["Shrimp", "Extra egg", "No peanuts"])],
            ),
            menu_item("Tom yum goong", json!({"th": ["ต้มยำกุ้ง"]}), &[]),
            menu_item("Chicken satay", json!({}), &[]),
            menu_item(
                "Thai iced tea",
                json!({"en": ["thai tea", "iced tea"], "th": ["ชาเย็น"]}),
                &[],
            ),
            menu_item("Coke", json!({"es": ["coca"]}), &[]),
        ];
        let catalog = Catalog::from_menu(&items, &[]);
        (items, catalog)
    }

    #[test]
    fn words_between_a_number_and_a_name_keep_the_number() {
        let (items, catalog) = options_menu();
        // Text, the reading, and each line's text with the option names found in it as the
        // bot's `preselect` finds them (whole words).
        type Case<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a [&'a str])]);
        let cases: &[Case] = &[
            // English: an option word, part of another name, an unknown word
            (
                "2 chicken fried rice",
                &["2 Khao pad"],
                &[("2 chicken fried rice", &["Chicken"])],
            ),
            (
                "3 shrimp fried rice",
                &["3 Khao pad"],
                &[("3 shrimp fried rice", &["Shrimp"])],
            ),
            (
                "fried rice chicken 3",
                &["3 Khao pad"],
                &[("fried rice chicken 3", &["Chicken"])],
            ),
            (
                "2 iced thai tea",
                &["2 Thai iced tea"],
                &[("2 iced thai tea", &[])],
            ),
            (
                "2 large pork fried rice and a coke",
                &["2 Khao pad", "1 Coke"],
                &[("2 large pork fried rice", &["Pork"]), ("a coke", &[])],
            ),
            (
                "2 pad thai 3 shrimp fried rice",
                &["2 Pad thai", "3 Khao pad"],
                &[("2 pad thai", &[]), ("3 shrimp fried rice", &["Shrimp"])],
            ),
            // A number right next to a name is that name's.
            (
                "pad thai shrimp 2 fried rice",
                &["1 Pad thai", "2 Khao pad"],
                &[("pad thai shrimp", &["Shrimp"]), ("2 fried rice", &[])],
            ),
            // Unchanged: modifiers, words after a name, numbers inside a modifier, range
            (
                "2 pad thai no peanuts",
                &["2 Pad thai"],
                &[("2 pad thai no peanuts", &["No peanuts"])],
            ),
            (
                "pad thai for my friend",
                &["1 Pad thai"],
                &[("pad thai", &[])],
            ),
            (
                "pad thai with 2 eggs",
                &["1 Pad thai"],
                &[("pad thai with 2 eggs", &[])],
            ),
            (
                "500 chicken fried rice",
                &["# 500 chicken fried rice: Khao pad"],
                &[],
            ),
            // Spanish
            (
                "2 arroz frito con pollo",
                &["2 Khao pad"],
                &[("2 arroz frito con pollo", &[])],
            ),
            (
                "dos arroz frito de camarón",
                &["2 Khao pad"],
                &[("dos arroz frito de camarón", &[])],
            ),
            (
                "arroz frito pollo x3 y una coca",
                &["3 Khao pad", "1 Coke"],
                &[("arroz frito pollo x3", &[]), ("una coca", &[])],
            ),
            // Thai: กุ้ง (shrimp) is part of ต้มยำกุ้ง, ไก่ (chicken) is an unknown word
            (
                "ขอข้าวผัดกุ้งสามจานค่ะ",
                &["3 Khao pad"],
                &[("ข้าวผัดกุ้งสามจาน", &[])],
            ),
            ("ข้าวผัดกุ้ง 3 จาน", &["3 Khao pad"], &[("ข้าวผัดกุ้ง 3 จาน", &[])]),
            ("ข้าวผัดไก่ 2 จาน", &["2 Khao pad"], &[("ข้าวผัดไก่ 2 จาน", &[])]),
            (
                "ข้าวผัดไก่สองจานกับชาเย็นสองแก้ว",
                &["2 Khao pad", "2 Thai iced tea"],
                &[("ข้าวผัดไก่สองจาน", &[]), ("ชาเย็นสองแก้ว", &[])],
            ),
        ];
        let word_in = |text: &str, name: &str| {
            let text = format!(" {} ", text.to_lowercase());
            text.contains(&format!(" {} ", name.to_lowercase()))
        };
        let mut failures = Vec::new();
        for (text, expected, lines) in cases {
            let got = summary(text, &catalog);
            if got != *expected {
                failures.push(format!("{text:?}: expected {expected:?}, got {got:?}"));
            }
            let got: Vec<(String, Vec<String>)> = read(text, &catalog)
                .lines
                .iter()
                .map(|line| {
                    let options = items[line.entry]
                        .modifier_groups
                        .iter()
                        .flat_map(|g| &g.options)
                        .filter(|o| word_in(&line.text, &o.name))
                        .map(|o| o.name.clone())
                        .collect();
                    (line.text.clone(), options)
                })
                .collect();
            let want: Vec<(String, Vec<String>)> = lines
                .iter()
                .map(|(t, o)| ((*t).to_owned(), o.iter().map(|s| (*s).to_owned()).collect()))
                .collect();
            if got != want {
                failures.push(format!("{text:?}: expected lines {want:?}, got {got:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    // ------------------------------------------------------------------------------------------
    // Properties

    /// Words random catalogs and texts are made of: shared words, Thai, accents, small words.
    const POOL: &[&str] = &[
        "pad",
        "thai",
        "rice",
        "fried",
        "green",
        "curry",
        "tea",
        "iced",
        "coke",
        "noodles",
        "boat",
        "chicken",
        "pork",
        "lomo",
        "saltado",
        "ají",
        "gallina",
        "inca",
        "kola",
        "with",
        "and",
        "de",
        "y",
        "a",
        "the",
        "x",
        "no",
        "2",
        "dos",
        "ผัด",
        "ไทย",
        "ข้าว",
        "กุ้ง",
        "ต้มยำ",
        "สอง",
        "จาน",
        "ขอ",
        "ครับ",
        "และ",
        "ก๋วยเตี๋ยว",
        "เรือ",
        "ชา",
        "เย็น",
    ];

    fn name_strategy() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(prop::sample::select(POOL), 1..4),
            any::<bool>(),
        )
            .prop_map(|(words, spaced)| words.join(if spaced { " " } else { "" }))
    }

    fn catalog_of(entries: Vec<(String, Vec<String>)>) -> Catalog {
        Catalog::new(
            entries
                .into_iter()
                .map(|(name, names)| Entry {
                    kind: EntryKind::Item(ItemId::new()),
                    name,
                    names,
                })
                .collect(),
        )
    }

    fn entries_strategy() -> impl Strategy<Value = Vec<(String, Vec<String>)>> {
        prop::collection::vec(
            (
                name_strategy(),
                prop::collection::vec(name_strategy(), 0..3),
            ),
            0..8,
        )
    }

    fn catalog_strategy() -> impl Strategy<Value = Catalog> {
        entries_strategy().prop_map(catalog_of)
    }

    /// A typo: one character dropped or two swapped.
    fn mangle(word: &str, at: prop::sample::Index, swap: bool) -> String {
        let mut chars: Vec<char> = word.chars().collect();
        if chars.len() < 2 {
            return word.to_owned();
        }
        let i = at.index(chars.len() - 1);
        if swap {
            chars.swap(i, i + 1);
        } else {
            chars.remove(i);
        }
        chars.into_iter().collect()
    }

    /// A fragment of a customer's text: a name of the catalog (maybe with a typo), a pool word
    /// (maybe with a typo), a number, a separator, or anything at all.
    fn fragment_strategy(names: Vec<String>) -> impl Strategy<Value = String> {
        let names = if names.is_empty() {
            vec!["pizza".to_owned()]
        } else {
            names
        };
        prop_oneof![
            3 => prop::sample::select(names.clone()),
            2 => (prop::sample::select(names), any::<prop::sample::Index>(), any::<bool>())
                .prop_map(|(name, at, swap)| mangle(&name, at, swap)),
            3 => prop::sample::select(POOL).prop_map(str::to_owned),
            1 => (prop::sample::select(POOL), any::<prop::sample::Index>(), any::<bool>())
                .prop_map(|(word, at, swap)| mangle(word, at, swap)),
            1 => (0u32..1000).prop_map(|n| n.to_string()),
            1 => prop::sample::select(&[", ", " and ", "\n", " y ", "กับ", "? ", " x"][..])
                .prop_map(str::to_owned),
            1 => "\\PC{0,6}",
        ]
    }

    /// A random catalog and a text that mentions its names among other things.
    fn case_strategy() -> impl Strategy<Value = (Catalog, String)> {
        entries_strategy()
            .prop_flat_map(|entries| {
                let names: Vec<String> = entries
                    .iter()
                    .flat_map(|(name, keywords)| std::iter::once(name).chain(keywords))
                    .cloned()
                    .collect();
                let text = prop::collection::vec(fragment_strategy(names), 0..10)
                    .prop_map(|parts| parts.join(" "));
                (Just(entries), text)
            })
            .prop_map(|(entries, text)| (catalog_of(entries), text))
    }

    fn text_strategy() -> impl Strategy<Value = String> {
        prop::collection::vec(fragment_strategy(Vec::new()), 0..14)
            .prop_map(|parts| parts.join(" "))
    }

    /// The text's letters run together, normalised.
    fn squeezed(text: &str) -> Vec<char> {
        let (_, chars) = normalize(text);
        chars
            .iter()
            .map(|c| c.c)
            .filter(|c| is_word_char(*c))
            .collect()
    }

    /// The fewest edits that turn `needle` into some substring of `hay`.
    fn edits_to_substring(needle: &[char], hay: &[char]) -> usize {
        let mut previous: Vec<usize> = vec![0; hay.len() + 1];
        for (i, n) in needle.iter().enumerate() {
            let mut current = vec![i + 1; hay.len() + 1];
            for (j, h) in hay.iter().enumerate() {
                let substitute = previous[j] + usize::from(n != h);
                current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
            }
            previous = current;
        }
        previous.into_iter().min().unwrap_or(needle.len())
    }

    /// Some name of `entry`, without its small words or whole, is in `text` give or take a
    /// few typos.
    fn named_in(entry: &Entry, text: &str) -> bool {
        let hay = squeezed(text);
        std::iter::once(&entry.name)
            .chain(&entry.names)
            .filter_map(|name| Form::new(name))
            .flat_map(|form| std::iter::once(form.full.clone()).chain(form.core))
            .any(|variant| {
                let needle: Vec<char> = variant.compact.chars().collect();
                // A typo-matched name is at most a fifth wrong (of the longer of the two), and
                // each word may have been written in the plural or singular.
                let slack = (needle.len() + 3) / 5 + variant.toks.len();
                edits_to_substring(&needle, &hay) <= slack.min(needle.len().saturating_sub(1))
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn reading_never_panics(text in any::<String>(), catalog in catalog_strategy()) {
            let reading = read(&text, &catalog);
            prop_assert!(reading.lines.iter().all(|l| l.entry < catalog.len()));
        }

        #[test]
        fn reading_unicode_soup_never_panics(text in "\\PC{0,300}") {
            let reading = read(&text, &thai_menu());
            prop_assert!(reading.lines.iter().all(|l| (1..=MAX_QUANTITY).contains(&l.quantity)));
        }

        #[test]
        fn the_reader_never_invents_an_entry((catalog, text) in case_strategy()) {
            let reading = read(&text, &catalog);
            for line in &reading.lines {
                let entry = &catalog.entries()[line.entry];
                prop_assert!(
                    (1..=MAX_QUANTITY).contains(&line.quantity),
                    "quantity {} in {line:?}", line.quantity
                );
                prop_assert!(
                    named_in(entry, &line.text),
                    "{:?} read from {:?} (whole text {text:?})", entry.names, line.text
                );
                prop_assert!(squeezed(&text).len() >= squeezed(&line.text).len());
            }
            for unsure in &reading.unsure {
                match unsure {
                    Unsure::Ambiguous { candidates, .. } => {
                        prop_assert!(!candidates.is_empty() && candidates.len() <= MAX_CANDIDATES);
                        prop_assert!(candidates.iter().all(|&c| c < catalog.len()));
                    }
                    Unsure::Quantity { entry, .. } => prop_assert!(*entry < catalog.len()),
                    Unsure::Unknown { text } => prop_assert!(!text.is_empty()),
                }
            }
        }

        #[test]
        fn quantities_are_always_1_to_99(text in text_strategy()) {
            let reading = read(&text, &thai_menu());
            prop_assert!(reading.lines.iter().all(|l| (1..=MAX_QUANTITY).contains(&l.quantity)));
            if let Some(n) = quantity(&text) {
                prop_assert!((1..=MAX_QUANTITY).contains(&n));
            }
            if let Some(n) = quantity_in(&text) {
                prop_assert!((1..=MAX_QUANTITY).contains(&n));
            }
        }

        #[test]
        fn any_number_is_a_quantity_only_from_1_to_99(n in 0u64..100_000) {
            let expected = (1..=99).contains(&n).then(|| u32::try_from(n).unwrap());
            prop_assert_eq!(quantity(&n.to_string()), expected);
            let thai: String = n.to_string().chars()
                .map(|d| char::from_u32(u32::from(d) - u32::from('0') + 0x0e50).unwrap())
                .collect();
            prop_assert_eq!(quantity(&thai), expected);
            let reading = read(&format!("{n} pad thai"), &thai_menu());
            prop_assert_eq!(reading.lines.len(), usize::from(expected.is_some()));
            prop_assert_eq!(reading.unsure.len(), usize::from(expected.is_none()));
        }
    }
}
