//! The menu and the restaurant's locations: their types and rules, no I/O. Availability windows,
//! modifier pricing, combo resolution and the published menu are decided here, so the orders
//! crate and the bot ask the same questions and get the same answers.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use fanorder_platform::text::text;
use fanorder_platform::{Currency, ulid_id};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

ulid_id!(
    /// A menu item: something sold on its own.
    ItemId,
    "item id"
);

ulid_id!(
    /// A menu category (a section of the menu).
    CategoryId,
    "category id"
);

ulid_id!(
    /// A combo: several items sold together at one price.
    ComboId,
    "combo id"
);

ulid_id!(
    /// A branch of the restaurant.
    LocationId,
    "location id"
);

ulid_id!(
    /// A modifier group of an item (size, extras...).
    GroupId,
    "modifier group id"
);

ulid_id!(
    /// One option of a modifier group; unique within its item.
    OptionId,
    "option id"
);

/// The highest price or price delta, in minor units (a billion in a two-decimal currency).
pub const MAX_PRICE: i64 = 100_000_000_000;
/// The highest stock an item may be given.
pub const MAX_STOCK: i64 = 1_000_000_000;
/// The highest display position.
pub const MAX_POSITION: i64 = 1_000_000;
/// The most modifier groups on one item.
pub const MAX_GROUPS: usize = 20;
/// The most options in one modifier group.
pub const MAX_OPTIONS: usize = 50;
/// The most availability or opening-hours windows.
pub const MAX_WINDOWS: usize = 20;
/// The most keyword languages on one item.
pub const MAX_LANGUAGES: usize = 20;
/// The most keywords in one language.
pub const MAX_KEYWORDS: usize = 50;
/// The most components in one combo.
pub const MAX_COMPONENTS: usize = 10;
/// The most items one choice component offers.
pub const MAX_CHOICE_ITEMS: usize = 20;
/// The most distinct items one combo may reference: a combo edit touches each reference in one
/// transaction (at most 100 operations), so this keeps every edit within that.
pub const MAX_COMBO_ITEMS: usize = 40;
/// The highest quantity of a combo component.
pub const MAX_QUANTITY: i64 = 99;

// ---------------------------------------------------------------------------------------------
// Time windows

/// A day of the week, as `mon` ... `sun`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Weekday {
    /// Every day, Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// The day's name as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Mon => "mon",
            Weekday::Tue => "tue",
            Weekday::Wed => "wed",
            Weekday::Thu => "thu",
            Weekday::Fri => "fri",
            Weekday::Sat => "sat",
            Weekday::Sun => "sun",
        }
    }

    /// The day before.
    pub fn previous(self) -> Weekday {
        match self {
            Weekday::Mon => Weekday::Sun,
            Weekday::Tue => Weekday::Mon,
            Weekday::Wed => Weekday::Tue,
            Weekday::Thu => Weekday::Wed,
            Weekday::Fri => Weekday::Thu,
            Weekday::Sat => Weekday::Fri,
            Weekday::Sun => Weekday::Sat,
        }
    }
}

impl From<jiff::civil::Weekday> for Weekday {
    fn from(day: jiff::civil::Weekday) -> Self {
        use jiff::civil::Weekday as J;
        match day {
            J::Monday => Weekday::Mon,
            J::Tuesday => Weekday::Tue,
            J::Wednesday => Weekday::Wed,
            J::Thursday => Weekday::Thu,
            J::Friday => Weekday::Fri,
            J::Saturday => Weekday::Sat,
            J::Sunday => Weekday::Sun,
        }
    }
}

impl FromStr for Weekday {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Weekday::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| "must be one of mon, tue, wed, thu, fri, sat, sun".to_owned())
    }
}

/// A time of day to the minute, written `HH:MM` (00:00 to 23:59); `24:00` is the end of the day
/// and only ends a window.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    /// 00:00.
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);
    /// 24:00, the end of the day.
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(24 * 60);

    /// The time `hour:minute`, if it is one (24:00 included).
    pub fn new(hour: u8, minute: u8) -> Option<TimeOfDay> {
        let minutes = u16::from(hour) * 60 + u16::from(minute);
        (minute < 60 && minutes <= 24 * 60).then_some(TimeOfDay(minutes))
    }

    /// Minutes since midnight (0 to 1440).
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl FromStr for TimeOfDay {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad =
            || "must be a time HH:MM from 00:00 to 23:59 (or 24:00 to end a window)".to_owned();
        let bytes = s.as_bytes();
        if bytes.len() != 5 || bytes[2] != b':' {
            return Err(bad());
        }
        let two = |at: usize| -> Option<u8> {
            let (a, b) = (bytes[at], bytes[at + 1]);
            (a.is_ascii_digit() && b.is_ascii_digit()).then(|| (a - b'0') * 10 + (b - b'0'))
        };
        let (Some(hour), Some(minute)) = (two(0), two(3)) else {
            return Err(bad());
        };
        TimeOfDay::new(hour, minute).ok_or_else(bad)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl fmt::Debug for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A weekly window of local time: on each listed day, from `from` until `to`. When `to` is not
/// after `from` the window crosses midnight and ends on the next day (`fri 22:00-02:00` is
/// Friday night until 2 in the morning on Saturday). A whole day is `00:00-24:00`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"days": ["mon", "tue", "wed", "thu", "fri"], "from": "11:00", "to": "14:30"}))]
pub struct Window {
    /// The days the window starts on, Monday first, each once.
    pub days: Vec<Weekday>,
    /// Start, `HH:MM`, included.
    #[schema(value_type = String, example = "11:00")]
    pub from: TimeOfDay,
    /// End, `HH:MM`, excluded; `24:00` is midnight at the end of the day.
    #[schema(value_type = String, example = "14:30")]
    pub to: TimeOfDay,
}

/// Which part of a window is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowError {
    /// `days`, `from` or `to`.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

impl Window {
    /// A window, checked: at least one day (duplicates are dropped), `from` before 24:00 and
    /// different from `to`.
    pub fn new(days: Vec<Weekday>, from: TimeOfDay, to: TimeOfDay) -> Result<Window, WindowError> {
        let fail = |field, message: &str| {
            Err(WindowError {
                field,
                message: message.to_owned(),
            })
        };
        if days.is_empty() {
            return fail("days", "must name at least one day");
        }
        if from == TimeOfDay::END_OF_DAY {
            return fail("from", "must be 23:59 or earlier");
        }
        if from == to {
            return fail(
                "to",
                "must differ from `from` (a whole day is 00:00 to 24:00)",
            );
        }
        let mut days = days;
        days.sort_unstable();
        days.dedup();
        Ok(Window { days, from, to })
    }

    /// True when the window covers `minute` (since local midnight) of `day`.
    pub fn contains(&self, day: Weekday, minute: u16) -> bool {
        let (from, to) = (self.from.minutes(), self.to.minutes());
        if from < to {
            self.days.contains(&day) && from <= minute && minute < to
        } else {
            // Overnight: the evening part on a listed day, the morning part on the day after one.
            (self.days.contains(&day) && minute >= from)
                || (self.days.contains(&day.previous()) && minute < to)
        }
    }
}

/// True when `now`, in the time zone `tz`, falls in one of the windows; no windows means always.
pub fn in_windows(windows: &[Window], now: Timestamp, tz: &TimeZone) -> bool {
    if windows.is_empty() {
        return true;
    }
    let local = now.to_zoned_datetime(tz.clone());
    let day = Weekday::from(local.weekday());
    let hour = u16::try_from(local.hour()).unwrap_or(0);
    let minute = u16::try_from(local.minute()).unwrap_or(0);
    windows.iter().any(|w| w.contains(day, hour * 60 + minute))
}

// ---------------------------------------------------------------------------------------------
// Field rules shared by the routes

/// A display name: 1 to 100 characters.
pub fn name(value: &str) -> Result<String, String> {
    text(value, 100)
}

/// A description: 1 to 1000 characters.
pub fn description(value: &str) -> Result<String, String> {
    text(value, 1000)
}

/// A price in minor units: 0 to [`MAX_PRICE`].
pub fn price(value: i64) -> Result<i64, String> {
    if (0..=MAX_PRICE).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "must be an integer of minor units from 0 to {MAX_PRICE}"
        ))
    }
}

/// A display position: 0 to [`MAX_POSITION`]; lower comes first.
pub fn position(value: i64) -> Result<u32, String> {
    if (0..=MAX_POSITION).contains(&value) {
        u32::try_from(value).map_err(|e| e.to_string())
    } else {
        Err(format!("must be from 0 to {MAX_POSITION}"))
    }
}

/// A tracked stock: 0 to [`MAX_STOCK`].
pub fn stock(value: i64) -> Result<i64, String> {
    if (0..=MAX_STOCK).contains(&value) {
        Ok(value)
    } else {
        Err(format!("must be from 0 to {MAX_STOCK}"))
    }
}

/// A modifier group's `min` or `max`: 0 to [`MAX_OPTIONS`].
pub fn choice_count(value: i64) -> Result<u32, String> {
    if (0..=MAX_OPTIONS as i64).contains(&value) {
        u32::try_from(value).map_err(|e| e.to_string())
    } else {
        Err(format!("must be from 0 to {MAX_OPTIONS}"))
    }
}

/// A combo component's quantity: 1 to [`MAX_QUANTITY`].
pub fn quantity(value: i64) -> Result<u32, String> {
    if (1..=MAX_QUANTITY).contains(&value) {
        u32::try_from(value).map_err(|e| e.to_string())
    } else {
        Err(format!("must be from 1 to {MAX_QUANTITY}"))
    }
}

/// A photo address: an absolute `https` URL with a host and no credentials, at most 2048
/// characters. Returned in its normalised form.
pub fn photo_url(value: &str) -> Result<String, String> {
    let bad = || "must be an https URL such as https://example.com/pad-thai.jpg".to_owned();
    let trimmed = value.trim();
    if trimmed.len() > 2048 {
        return Err("must be at most 2048 characters".to_owned());
    }
    let url = url::Url::parse(trimmed).map_err(|_| bad())?;
    if url.scheme() != "https"
        || url.host_str().is_none_or(str::is_empty)
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(bad());
    }
    Ok(url.to_string())
}

/// A language tag for keywords: a primary language of 2 or 3 lower-case letters, optionally
/// followed by `-` subtags (`en`, `th`, `es`, `pt-BR`, `zh-Hant`).
pub fn language(value: &str) -> Result<String, String> {
    let mut parts = value.split('-');
    let primary = parts.next().unwrap_or_default();
    let primary_ok =
        (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
    let rest_ok =
        parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if primary_ok && rest_ok && value.len() <= 35 {
        Ok(value.to_owned())
    } else {
        Err("must be a language tag such as en, th, es or pt-BR".to_owned())
    }
}

/// One keyword or phrase: 1 to 60 characters.
pub fn keyword(value: &str) -> Result<String, String> {
    text(value, 60)
}

// ---------------------------------------------------------------------------------------------
// Categories

/// A section of the menu.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Category {
    /// Its id.
    #[schema(value_type = String, example = "01J8Z3K4M5N6P7Q8R9S0T1V2W3")]
    pub id: CategoryId,
    /// Display name.
    #[schema(example = "Noodles")]
    pub name: String,
    /// Display order: lower first, then by name.
    pub position: u32,
    /// How many items and combos are in it; a category can be deleted only when empty.
    #[serde(default)]
    pub entries: i64,
    /// Pass back in PATCH to guard against concurrent edits.
    pub version: i64,
    /// When created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last change.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

// ---------------------------------------------------------------------------------------------
// Items and their modifiers

/// One option of a modifier group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "01J8Z3K4M5N6P7Q8R9S0T1V2W5", "name": "Large", "price_delta": 2000}))]
pub struct ModifierOption {
    /// Its id, unique within the item and kept across edits.
    #[schema(value_type = String)]
    pub id: OptionId,
    /// Display name.
    pub name: String,
    /// Added to the item's price when chosen, in minor units (0 or more).
    pub price_delta: i64,
}

/// A set of options the customer picks from, between `min` and `max` of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ModifierGroup {
    /// Its id, kept across edits.
    #[schema(value_type = String)]
    pub id: GroupId,
    /// Display name, e.g. `Size`.
    pub name: String,
    /// The fewest options to choose (1 makes the group required).
    pub min: u32,
    /// The most options to choose (1 makes it a single choice).
    pub max: u32,
    /// The options, in display order.
    pub options: Vec<ModifierOption>,
}

/// Something sold on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MenuItem {
    /// Its id.
    #[schema(value_type = String, example = "01J8Z3K4M5N6P7Q8R9S0T1V2W3")]
    pub id: ItemId,
    /// Display name.
    #[schema(example = "Pad thai")]
    pub name: String,
    /// Longer text for the menu.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Base price in minor units of the restaurant's currency.
    #[schema(example = 12000)]
    pub price: i64,
    /// The category it is listed in; none lists it after the categories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub category_id: Option<CategoryId>,
    /// An https URL of its photo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
    /// Words and phrases per language the bot matches free text against.
    #[serde(default)]
    #[schema(example = json!({"en": ["pad thai"], "th": ["ผัดไทย"]}))]
    pub keywords: BTreeMap<String, Vec<String>>,
    /// Choices the customer makes (size, extras), in display order.
    #[serde(default)]
    pub modifier_groups: Vec<ModifierGroup>,
    /// When it can be ordered, in the restaurant's time zone; empty means always.
    #[serde(default)]
    pub availability: Vec<Window>,
    /// How many are left, when counted; absent means not counted. At 0 it is sold out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock: Option<i64>,
    /// Hidden from the menu until this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub snoozed_until: Option<Timestamp>,
    /// Display order within its category: lower first, then by name.
    pub position: u32,
    /// Pass back in PATCH to guard against concurrent edits. Stock moves do not change it.
    pub version: i64,
    /// When created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last edit.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// An option chosen for a line, as sold (names and prices copied, so later menu edits never
/// change a placed order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChosenModifier {
    /// The option's group.
    #[schema(value_type = String)]
    pub group_id: GroupId,
    /// The group's name when sold.
    pub group: String,
    /// The option.
    #[schema(value_type = String)]
    pub option_id: OptionId,
    /// The option's name when sold.
    pub name: String,
    /// What it added to the price, in minor units.
    pub price_delta: i64,
}

/// An item priced with the options chosen for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PricedItem {
    /// The item's price plus every chosen option's delta, in minor units.
    pub unit_price: i64,
    /// The chosen options, in menu order.
    pub modifiers: Vec<ChosenModifier>,
}

/// Why a line cannot be priced; Display is a message for a 422.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MenuError {
    /// The option is not on this item.
    #[error("option {0} is not offered on this item")]
    UnknownOption(OptionId),
    /// The same option was chosen twice.
    #[error("option {0} is chosen more than once")]
    DuplicateOption(OptionId),
    /// Fewer options than the group's minimum.
    #[error("choose at least {min} from {group:?}")]
    TooFew {
        /// The group's name.
        group: String,
        /// Its minimum.
        min: u32,
    },
    /// More options than the group's maximum.
    #[error("choose at most {max} from {group:?}")]
    TooMany {
        /// The group's name.
        group: String,
        /// Its maximum.
        max: u32,
    },
    /// The chosen item is not one of the component's choices.
    #[error("that item is not one of the choices for {component:?}")]
    BadChoice {
        /// The choice component's name.
        component: String,
    },
    /// No item was chosen for a choice component.
    #[error("choose an item for {component:?}")]
    MissingChoice {
        /// The choice component's name.
        component: String,
    },
    /// More choices than the combo has choice components.
    #[error("this combo takes {expected} choice(s)")]
    TooManyChoices {
        /// How many choice components the combo has.
        expected: usize,
    },
    /// Outside its hours, snoozed or sold out.
    #[error("{name} is not available now")]
    Unavailable {
        /// The item's or combo's name.
        name: String,
    },
    /// The price does not fit in 64 bits (cannot happen with checked menus).
    #[error("the price is out of range")]
    PriceOverflow,
}

impl MenuItem {
    /// Snoozed at `now`.
    pub fn is_snoozed(&self, now: Timestamp) -> bool {
        self.snoozed_until.is_some_and(|until| until > now)
    }

    /// Counted and none left.
    pub fn is_sold_out(&self) -> bool {
        self.stock.is_some_and(|left| left <= 0)
    }

    /// Available at `now` in `tz`: inside an availability window (or no windows), not snoozed,
    /// not out of stock.
    pub fn available_at(&self, now: Timestamp, tz: &TimeZone) -> bool {
        !self.is_snoozed(now) && !self.is_sold_out() && in_windows(&self.availability, now, tz)
    }

    /// `Ok` when [`MenuItem::available_at`], else [`MenuError::Unavailable`].
    pub fn ensure_available(&self, now: Timestamp, tz: &TimeZone) -> Result<(), MenuError> {
        if self.available_at(now, tz) {
            Ok(())
        } else {
            Err(MenuError::Unavailable {
                name: self.name.clone(),
            })
        }
    }

    /// The option with this id and its group.
    pub fn option(&self, id: &OptionId) -> Option<(&ModifierGroup, &ModifierOption)> {
        self.modifier_groups
            .iter()
            .find_map(|g| g.options.iter().find(|o| o.id == *id).map(|o| (g, o)))
    }

    /// Checks the chosen options against each group's min/max and prices the item with them.
    /// Each option may be chosen once; the result lists them in menu order.
    pub fn price_with(&self, options: &[OptionId]) -> Result<PricedItem, MenuError> {
        let mut chosen = HashSet::with_capacity(options.len());
        for id in options {
            if self.option(id).is_none() {
                return Err(MenuError::UnknownOption(*id));
            }
            if !chosen.insert(*id) {
                return Err(MenuError::DuplicateOption(*id));
            }
        }
        let mut unit_price = self.price;
        let mut modifiers = Vec::with_capacity(chosen.len());
        for group in &self.modifier_groups {
            let picked: Vec<&ModifierOption> = group
                .options
                .iter()
                .filter(|o| chosen.contains(&o.id))
                .collect();
            let count = u32::try_from(picked.len()).unwrap_or(u32::MAX);
            if count < group.min {
                return Err(MenuError::TooFew {
                    group: group.name.clone(),
                    min: group.min,
                });
            }
            if count > group.max {
                return Err(MenuError::TooMany {
                    group: group.name.clone(),
                    max: group.max,
                });
            }
            for option in picked {
                unit_price = unit_price
                    .checked_add(option.price_delta)
                    .ok_or(MenuError::PriceOverflow)?;
                modifiers.push(ChosenModifier {
                    group_id: group.id,
                    group: group.name.clone(),
                    option_id: option.id,
                    name: option.name.clone(),
                    price_delta: option.price_delta,
                });
            }
        }
        Ok(PricedItem {
            unit_price,
            modifiers,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Combos

/// One part of a combo: a fixed item, or a choice among items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ComboComponent {
    /// Always this item.
    Item {
        /// The item.
        #[schema(value_type = String)]
        item_id: ItemId,
        /// How many per combo.
        quantity: u32,
    },
    /// One item the customer picks from `item_ids`.
    Choice {
        /// What the choice is called, e.g. `Drink`.
        name: String,
        /// The items to pick from.
        #[schema(value_type = Vec<String>)]
        item_ids: Vec<ItemId>,
        /// How many of the picked item per combo.
        quantity: u32,
    },
}

/// Several items sold together at one price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Combo {
    /// Its id.
    #[schema(value_type = String, example = "01J8Z3K4M5N6P7Q8R9S0T1V2W3")]
    pub id: ComboId,
    /// Display name.
    #[schema(example = "Lunch set")]
    pub name: String,
    /// Longer text for the menu.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The combo's price in minor units (its items' own prices do not count).
    pub price: i64,
    /// The category it is listed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub category_id: Option<CategoryId>,
    /// What it is made of, in display order.
    pub components: Vec<ComboComponent>,
    /// When it can be ordered; empty means always.
    #[serde(default)]
    pub availability: Vec<Window>,
    /// Hidden from the menu until this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub snoozed_until: Option<Timestamp>,
    /// Display order within its category.
    pub position: u32,
    /// Pass back in PATCH to guard against concurrent edits.
    pub version: i64,
    /// When created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last edit.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl Combo {
    /// Inside its windows (or none) and not snoozed at `now`. The items it resolves to have
    /// their own availability, which the caller checks too.
    pub fn available_at(&self, now: Timestamp, tz: &TimeZone) -> bool {
        self.snoozed_until.is_none_or(|until| until <= now)
            && in_windows(&self.availability, now, tz)
    }

    /// `Ok` when [`Combo::available_at`], else [`MenuError::Unavailable`].
    pub fn ensure_available(&self, now: Timestamp, tz: &TimeZone) -> Result<(), MenuError> {
        if self.available_at(now, tz) {
            Ok(())
        } else {
            Err(MenuError::Unavailable {
                name: self.name.clone(),
            })
        }
    }

    /// The items a combo sells given the customer's choices (one item id per Choice
    /// component, in component order): (item id, quantity per combo), one entry per
    /// component in component order, so an item may appear more than once.
    pub fn resolve(&self, choices: &[ItemId]) -> Result<Vec<(ItemId, u32)>, MenuError> {
        let mut picks = choices.iter();
        let mut sold = Vec::with_capacity(self.components.len());
        for component in &self.components {
            match component {
                ComboComponent::Item { item_id, quantity } => sold.push((*item_id, *quantity)),
                ComboComponent::Choice {
                    name,
                    item_ids,
                    quantity,
                } => {
                    let Some(pick) = picks.next() else {
                        return Err(MenuError::MissingChoice {
                            component: name.clone(),
                        });
                    };
                    if !item_ids.contains(pick) {
                        return Err(MenuError::BadChoice {
                            component: name.clone(),
                        });
                    }
                    sold.push((*pick, *quantity));
                }
            }
        }
        if picks.next().is_some() {
            let expected = self
                .components
                .iter()
                .filter(|c| matches!(c, ComboComponent::Choice { .. }))
                .count();
            return Err(MenuError::TooManyChoices { expected });
        }
        Ok(sold)
    }

    /// Every item the combo refers to, once, in order of first mention, with the request field
    /// that first mentions it (`components[1].item_ids[0]`).
    pub fn references(&self) -> Vec<(ItemId, String)> {
        let mut seen = HashSet::new();
        let mut refs = Vec::new();
        for (i, component) in self.components.iter().enumerate() {
            match component {
                ComboComponent::Item { item_id, .. } => {
                    if seen.insert(*item_id) {
                        refs.push((*item_id, format!("components[{i}].item_id")));
                    }
                }
                ComboComponent::Choice { item_ids, .. } => {
                    for (k, item_id) in item_ids.iter().enumerate() {
                        if seen.insert(*item_id) {
                            refs.push((*item_id, format!("components[{i}].item_ids[{k}]")));
                        }
                    }
                }
            }
        }
        refs
    }
}

// ---------------------------------------------------------------------------------------------
// Locations

/// A branch of the restaurant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Location {
    /// Its id.
    #[schema(value_type = String, example = "01J8Z3K4M5N6P7Q8R9S0T1V2W3")]
    pub id: LocationId,
    /// Display name.
    #[schema(example = "Silom")]
    pub name: String,
    /// Street address as customers and drivers read it.
    #[schema(example = "123 Silom Rd, Bang Rak, Bangkok 10500")]
    pub address: String,
    /// When it is open, in the restaurant's time zone; empty means always.
    #[serde(default)]
    pub opening_hours: Vec<Window>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Pass back in PATCH to guard against concurrent edits.
    pub version: i64,
    /// When created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last edit.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl Location {
    /// Open at `now` in `tz` (no opening hours means always open).
    pub fn open_at(&self, now: Timestamp, tz: &TimeZone) -> bool {
        in_windows(&self.opening_hours, now, tz)
    }
}

// ---------------------------------------------------------------------------------------------
// The whole menu and the published menu

/// Every category, item and combo of a restaurant, as stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Menu {
    /// The categories.
    pub categories: Vec<Category>,
    /// The items.
    pub items: Vec<MenuItem>,
    /// The combos.
    pub combos: Vec<Combo>,
}

/// An item as the published menu shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublishedItem {
    /// Its id.
    #[schema(value_type = String)]
    pub id: ItemId,
    /// Display name.
    pub name: String,
    /// Longer text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Base price in minor units.
    pub price: i64,
    /// Photo URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
    /// Words per language for free-text matching.
    pub keywords: BTreeMap<String, Vec<String>>,
    /// The choices to make.
    pub modifier_groups: Vec<ModifierGroup>,
    /// How many are left, when counted (never 0 here: sold-out items are not shown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock: Option<i64>,
}

/// A combo as the published menu shows it: its choices list only items available now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublishedCombo {
    /// Its id.
    #[schema(value_type = String)]
    pub id: ComboId,
    /// Display name.
    pub name: String,
    /// Longer text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Price in minor units.
    pub price: i64,
    /// What it is made of.
    pub components: Vec<ComboComponent>,
}

/// A category of the published menu with what it offers now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MenuSection {
    /// The category.
    #[schema(value_type = String)]
    pub id: CategoryId,
    /// Its name.
    pub name: String,
    /// Its items, in display order.
    pub items: Vec<PublishedItem>,
    /// Its combos, in display order.
    pub combos: Vec<PublishedCombo>,
}

/// What a customer can order now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublishedMenu {
    /// ISO 4217 code of every price.
    #[schema(value_type = String, example = "THB")]
    pub currency: Currency,
    /// The time zone availability was judged in.
    #[schema(example = "Asia/Bangkok")]
    pub time_zone: String,
    /// Categories with something available, in display order.
    pub categories: Vec<MenuSection>,
    /// Available items in no category, after the categories.
    pub items: Vec<PublishedItem>,
    /// Available combos in no category.
    pub combos: Vec<PublishedCombo>,
}

fn display_order(position: u32, name: &str) -> (u32, String) {
    (position, name.to_lowercase())
}

impl Menu {
    /// The item with this id.
    pub fn item(&self, id: &ItemId) -> Option<&MenuItem> {
        self.items.iter().find(|i| i.id == *id)
    }

    /// The menu available at `now` in `tz`: no snoozed, sold-out or out-of-hours items; combos
    /// only when every part can be served, with their choices narrowed to what is available;
    /// categories by position then name, items and combos by position then name within them.
    pub fn published(&self, currency: Currency, now: Timestamp, tz: &TimeZone) -> PublishedMenu {
        let available: HashMap<ItemId, &MenuItem> = self
            .items
            .iter()
            .filter(|i| i.available_at(now, tz))
            .map(|i| (i.id, i))
            .collect();
        let mut items: Vec<&MenuItem> = available.values().copied().collect();
        items.sort_by_key(|i| (display_order(i.position, &i.name), i.id));
        let mut combos: Vec<(&Combo, PublishedCombo)> = self
            .combos
            .iter()
            .filter(|c| c.available_at(now, tz))
            .filter_map(|c| publish_combo(c, &available).map(|p| (c, p)))
            .collect();
        combos.sort_by_key(|(c, _)| (display_order(c.position, &c.name), c.id));
        let mut categories: Vec<&Category> = self.categories.iter().collect();
        categories.sort_by_key(|c| (display_order(c.position, &c.name), c.id));

        let known: HashSet<CategoryId> = categories.iter().map(|c| c.id).collect();
        // An entry whose category is gone (cannot happen while categories count their entries)
        // is shown with the uncategorised ones rather than lost.
        let section_of = |category: Option<CategoryId>| category.filter(|c| known.contains(c));
        let sections = categories
            .iter()
            .map(|category| MenuSection {
                id: category.id,
                name: category.name.clone(),
                items: items
                    .iter()
                    .filter(|i| section_of(i.category_id) == Some(category.id))
                    .map(|i| publish_item(i))
                    .collect(),
                combos: combos
                    .iter()
                    .filter(|(c, _)| section_of(c.category_id) == Some(category.id))
                    .map(|(_, p)| p.clone())
                    .collect(),
            })
            .filter(|s| !s.items.is_empty() || !s.combos.is_empty())
            .collect();
        PublishedMenu {
            currency,
            time_zone: tz.iana_name().unwrap_or("UTC").to_owned(),
            categories: sections,
            items: items
                .iter()
                .filter(|i| section_of(i.category_id).is_none())
                .map(|i| publish_item(i))
                .collect(),
            combos: combos
                .into_iter()
                .filter(|(c, _)| section_of(c.category_id).is_none())
                .map(|(_, p)| p)
                .collect(),
        }
    }
}

fn publish_item(item: &MenuItem) -> PublishedItem {
    PublishedItem {
        id: item.id,
        name: item.name.clone(),
        description: item.description.clone(),
        price: item.price,
        photo_url: item.photo_url.clone(),
        keywords: item.keywords.clone(),
        modifier_groups: item.modifier_groups.clone(),
        stock: item.stock,
    }
}

/// The combo as offered now, or `None` when one of its parts cannot be served.
fn publish_combo(combo: &Combo, available: &HashMap<ItemId, &MenuItem>) -> Option<PublishedCombo> {
    let mut components = Vec::with_capacity(combo.components.len());
    for component in &combo.components {
        match component {
            ComboComponent::Item { item_id, .. } => {
                if !available.contains_key(item_id) {
                    return None;
                }
                components.push(component.clone());
            }
            ComboComponent::Choice {
                name,
                item_ids,
                quantity,
            } => {
                let open: Vec<ItemId> = item_ids
                    .iter()
                    .filter(|id| available.contains_key(id))
                    .copied()
                    .collect();
                if open.is_empty() {
                    return None;
                }
                components.push(ComboComponent::Choice {
                    name: name.clone(),
                    item_ids: open,
                    quantity: *quantity,
                });
            }
        }
    }
    Some(PublishedCombo {
        id: combo.id,
        name: combo.name.clone(),
        description: combo.description.clone(),
        price: combo.price,
        components,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn time(text: &str) -> TimeOfDay {
        text.parse().unwrap()
    }

    fn window(days: &[Weekday], from: &str, to: &str) -> Window {
        Window::new(days.to_vec(), time(from), time(to)).unwrap()
    }

    fn item(price: i64) -> MenuItem {
        let now = at("2026-01-01T00:00:00Z");
        MenuItem {
            id: ItemId::new(),
            name: "Pad thai".into(),
            description: None,
            price,
            category_id: None,
            photo_url: None,
            keywords: BTreeMap::new(),
            modifier_groups: Vec::new(),
            availability: Vec::new(),
            stock: None,
            snoozed_until: None,
            position: 0,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    fn option(name: &str, price_delta: i64) -> ModifierOption {
        ModifierOption {
            id: OptionId::new(),
            name: name.into(),
            price_delta,
        }
    }

    fn group(name: &str, min: u32, max: u32, options: Vec<ModifierOption>) -> ModifierGroup {
        ModifierGroup {
            id: GroupId::new(),
            name: name.into(),
            min,
            max,
            options,
        }
    }

    fn combo(components: Vec<ComboComponent>) -> Combo {
        let now = at("2026-01-01T00:00:00Z");
        Combo {
            id: ComboId::new(),
            name: "Lunch set".into(),
            description: None,
            price: 15900,
            category_id: None,
            components,
            availability: Vec::new(),
            snoozed_until: None,
            position: 0,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn times_of_day_are_hh_mm_up_to_24_00() {
        for (text, minutes) in [
            ("00:00", 0),
            ("09:05", 545),
            ("23:59", 1439),
            ("24:00", 1440),
        ] {
            let parsed = time(text);
            assert_eq!(parsed.minutes(), minutes);
            assert_eq!(parsed.to_string(), text);
        }
        for bad in [
            "25:00", "24:01", "9:00", "09:60", "0900", "ab:cd", "", "09:00:00", "-1:00", "９:00",
        ] {
            assert!(bad.parse::<TimeOfDay>().is_err(), "{bad}");
        }
        assert_eq!(
            serde_json::to_value(time("07:30")).unwrap(),
            serde_json::json!("07:30")
        );
        assert!(serde_json::from_value::<TimeOfDay>(serde_json::json!("25:00")).is_err());
    }

    #[test]
    fn weekdays_are_three_letter_names() {
        assert_eq!("mon".parse::<Weekday>(), Ok(Weekday::Mon));
        assert_eq!("sun".parse::<Weekday>(), Ok(Weekday::Sun));
        for bad in ["monday", "Mon", "MON", "", "xyz"] {
            assert!(bad.parse::<Weekday>().is_err(), "{bad}");
        }
        assert_eq!(Weekday::Mon.previous(), Weekday::Sun);
        assert_eq!(Weekday::Sun.previous(), Weekday::Sat);
    }

    #[test]
    fn windows_need_days_and_a_real_span() {
        let err = Window::new(vec![], time("09:00"), time("10:00")).unwrap_err();
        assert_eq!(err.field, "days");
        let err = Window::new(vec![Weekday::Mon], time("24:00"), time("10:00")).unwrap_err();
        assert_eq!(err.field, "from");
        let err = Window::new(vec![Weekday::Mon], time("10:00"), time("10:00")).unwrap_err();
        assert_eq!(err.field, "to");
        let w = window(
            &[Weekday::Sun, Weekday::Mon, Weekday::Sun],
            "09:00",
            "10:00",
        );
        assert_eq!(w.days, [Weekday::Mon, Weekday::Sun]);
    }

    #[test]
    fn a_daytime_window_includes_its_start_and_excludes_its_end() {
        let w = window(&[Weekday::Mon], "09:00", "17:00");
        assert!(!w.contains(Weekday::Mon, 8 * 60 + 59));
        assert!(w.contains(Weekday::Mon, 9 * 60));
        assert!(w.contains(Weekday::Mon, 16 * 60 + 59));
        assert!(!w.contains(Weekday::Mon, 17 * 60));
        assert!(!w.contains(Weekday::Tue, 10 * 60));
        assert!(!w.contains(Weekday::Sun, 10 * 60));
        let all_day = window(&[Weekday::Wed], "00:00", "24:00");
        assert!(all_day.contains(Weekday::Wed, 0));
        assert!(all_day.contains(Weekday::Wed, 1439));
        assert!(!all_day.contains(Weekday::Thu, 0));
    }

    #[test]
    fn an_overnight_window_belongs_to_the_day_it_starts() {
        let w = window(&[Weekday::Fri], "22:00", "02:00");
        assert!(!w.contains(Weekday::Fri, 21 * 60 + 59));
        assert!(w.contains(Weekday::Fri, 22 * 60));
        assert!(w.contains(Weekday::Fri, 23 * 60 + 59));
        assert!(w.contains(Weekday::Sat, 0));
        assert!(w.contains(Weekday::Sat, 60 + 59));
        assert!(!w.contains(Weekday::Sat, 2 * 60));
        // Friday early morning belongs to Thursday night, which is not listed.
        assert!(!w.contains(Weekday::Fri, 60));
        assert!(!w.contains(Weekday::Sat, 23 * 60));
        // Sunday night runs into Monday across the week's end.
        let sunday = window(&[Weekday::Sun], "22:00", "02:00");
        assert!(sunday.contains(Weekday::Mon, 60));
        assert!(!sunday.contains(Weekday::Sat, 23 * 60));
        // Until midnight: ends exactly at the day's end.
        let late = window(&[Weekday::Fri], "22:00", "00:00");
        assert!(late.contains(Weekday::Fri, 1439));
        assert!(!late.contains(Weekday::Sat, 0));
    }

    #[test]
    fn availability_is_judged_in_the_restaurants_time_zone() {
        let lunch = vec![window(
            &[
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            "11:00",
            "14:00",
        )];
        // Monday 04:30 UTC is Monday 11:30 in Bangkok (UTC+7) and Sunday 23:30 in Lima (UTC-5).
        let instant = at("2026-01-05T04:30:00Z");
        assert!(in_windows(&lunch, instant, &tz("Asia/Bangkok")));
        assert!(!in_windows(&lunch, instant, &tz("America/Lima")));
        assert!(!in_windows(&lunch, instant, &TimeZone::UTC));
        // Friday 18:00 UTC is Saturday 01:00 in Bangkok: inside Friday's late window there.
        let late = vec![window(&[Weekday::Fri], "22:00", "02:00")];
        let instant = at("2026-01-09T18:00:00Z");
        assert!(in_windows(&late, instant, &tz("Asia/Bangkok")));
        assert!(!in_windows(&late, instant, &TimeZone::UTC));
        // Daylight saving: 13:30 UTC is 08:30 in New York in winter, 09:30 after the change.
        let morning = vec![window(&Weekday::ALL, "09:00", "17:00")];
        let new_york = tz("America/New_York");
        assert!(!in_windows(&morning, at("2026-03-06T13:30:00Z"), &new_york));
        assert!(in_windows(&morning, at("2026-03-09T13:30:00Z"), &new_york));
        // No windows: always.
        assert!(in_windows(&[], instant, &TimeZone::UTC));
    }

    #[test]
    fn an_item_is_unavailable_when_snoozed_sold_out_or_out_of_hours() {
        let now = at("2026-01-05T05:00:00Z");
        let bangkok = tz("Asia/Bangkok");
        let mut pad_thai = item(12000);
        assert!(pad_thai.available_at(now, &bangkok));
        pad_thai.snoozed_until = Some(at("2026-01-05T06:00:00Z"));
        assert!(!pad_thai.available_at(now, &bangkok));
        assert_eq!(
            pad_thai.ensure_available(now, &bangkok),
            Err(MenuError::Unavailable {
                name: "Pad thai".into()
            })
        );
        pad_thai.snoozed_until = Some(now);
        assert!(
            pad_thai.available_at(now, &bangkok),
            "a snooze ends at its instant"
        );
        pad_thai.snoozed_until = None;
        pad_thai.stock = Some(0);
        assert!(!pad_thai.available_at(now, &bangkok));
        pad_thai.stock = Some(1);
        assert!(pad_thai.available_at(now, &bangkok));
        pad_thai.availability = vec![window(&[Weekday::Sat], "11:00", "14:00")];
        assert!(!pad_thai.available_at(now, &bangkok));
        assert!(pad_thai.ensure_available(now, &bangkok).is_err());
    }

    fn pad_thai_with_modifiers() -> MenuItem {
        let mut pad_thai = item(12000);
        pad_thai.modifier_groups = vec![
            group(
                "Size",
                1,
                1,
                vec![option("Regular", 0), option("Large", 2000)],
            ),
            group(
                "Extras",
                0,
                3,
                vec![
                    option("Shrimp", 3000),
                    option("Egg", 1000),
                    option("Tofu", 500),
                    option("Cheese", 700),
                ],
            ),
        ];
        pad_thai
    }

    #[test]
    fn modifiers_price_the_item_within_each_groups_min_and_max() {
        let pad_thai = pad_thai_with_modifiers();
        let size = &pad_thai.modifier_groups[0];
        let extras = &pad_thai.modifier_groups[1];
        let (regular, large) = (size.options[0].id, size.options[1].id);
        let [shrimp, egg, tofu, cheese] = [0, 1, 2, 3].map(|i| extras.options[i].id);

        let priced = pad_thai.price_with(&[large]).unwrap();
        assert_eq!(priced.unit_price, 14000);
        assert_eq!(
            priced.modifiers,
            [ChosenModifier {
                group_id: size.id,
                group: "Size".into(),
                option_id: large,
                name: "Large".into(),
                price_delta: 2000,
            }]
        );
        // Chosen in any order, listed in menu order.
        let priced = pad_thai.price_with(&[egg, large, shrimp]).unwrap();
        assert_eq!(priced.unit_price, 12000 + 2000 + 3000 + 1000);
        let names: Vec<&str> = priced.modifiers.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["Large", "Shrimp", "Egg"]);
        assert_eq!(pad_thai.price_with(&[regular]).unwrap().unit_price, 12000);

        assert_eq!(
            pad_thai.price_with(&[]),
            Err(MenuError::TooFew {
                group: "Size".into(),
                min: 1
            })
        );
        assert_eq!(
            pad_thai.price_with(&[regular, large]),
            Err(MenuError::TooMany {
                group: "Size".into(),
                max: 1
            })
        );
        assert_eq!(
            pad_thai.price_with(&[regular, shrimp, egg, tofu, cheese]),
            Err(MenuError::TooMany {
                group: "Extras".into(),
                max: 3
            })
        );
        let stranger = OptionId::new();
        assert_eq!(
            pad_thai.price_with(&[regular, stranger]),
            Err(MenuError::UnknownOption(stranger))
        );
        assert_eq!(
            pad_thai.price_with(&[regular, egg, egg]),
            Err(MenuError::DuplicateOption(egg))
        );
        assert_eq!(
            MenuError::TooFew {
                group: "Size".into(),
                min: 1
            }
            .to_string(),
            "choose at least 1 from \"Size\""
        );
        // An item without modifiers is its price.
        let plain = item(4500);
        assert_eq!(
            plain.price_with(&[]).unwrap(),
            PricedItem {
                unit_price: 4500,
                modifiers: vec![]
            }
        );
        assert!(matches!(
            plain.price_with(&[regular]),
            Err(MenuError::UnknownOption(_))
        ));
    }

    #[test]
    fn a_combo_resolves_to_its_fixed_items_and_the_customers_choices() {
        let (rice, cola, tea, soup) = (ItemId::new(), ItemId::new(), ItemId::new(), ItemId::new());
        let set = combo(vec![
            ComboComponent::Item {
                item_id: rice,
                quantity: 1,
            },
            ComboComponent::Choice {
                name: "Drink".into(),
                item_ids: vec![cola, tea],
                quantity: 1,
            },
            ComboComponent::Item {
                item_id: soup,
                quantity: 2,
            },
        ]);
        assert_eq!(
            set.resolve(&[tea]).unwrap(),
            [(rice, 1), (tea, 1), (soup, 2)]
        );
        assert_eq!(
            set.resolve(&[]),
            Err(MenuError::MissingChoice {
                component: "Drink".into()
            })
        );
        assert_eq!(
            set.resolve(&[soup]),
            Err(MenuError::BadChoice {
                component: "Drink".into()
            })
        );
        assert_eq!(
            set.resolve(&[cola, tea]),
            Err(MenuError::TooManyChoices { expected: 1 })
        );
        let owned = set.references();
        let refs: Vec<(ItemId, &str)> = owned
            .iter()
            .map(|(id, field)| (*id, field.as_str()))
            .collect();
        assert_eq!(
            refs,
            [
                (rice, "components[0].item_id"),
                (cola, "components[1].item_ids[0]"),
                (tea, "components[1].item_ids[1]"),
                (soup, "components[2].item_id"),
            ]
        );
        // Two choices are taken in component order; an item may come back twice.
        let double = combo(vec![
            ComboComponent::Choice {
                name: "Main".into(),
                item_ids: vec![rice, soup],
                quantity: 1,
            },
            ComboComponent::Choice {
                name: "Side".into(),
                item_ids: vec![rice, tea],
                quantity: 1,
            },
        ]);
        assert_eq!(
            double.resolve(&[rice, rice]).unwrap(),
            [(rice, 1), (rice, 1)]
        );
        assert_eq!(
            double.resolve(&[rice]),
            Err(MenuError::MissingChoice {
                component: "Side".into()
            })
        );
        assert_eq!(double.references().len(), 3);
    }

    #[test]
    fn combos_and_locations_follow_their_own_hours() {
        let now = at("2026-01-05T05:00:00Z"); // Monday 12:00 in Bangkok
        let bangkok = tz("Asia/Bangkok");
        let mut set = combo(vec![]);
        assert!(set.available_at(now, &bangkok));
        set.availability = vec![window(&[Weekday::Mon], "11:00", "14:30")];
        assert!(set.available_at(now, &bangkok));
        assert!(!set.available_at(now, &tz("Europe/Madrid")));
        set.snoozed_until = Some(at("2026-01-05T05:00:01Z"));
        assert!(!set.available_at(now, &bangkok));
        assert!(set.ensure_available(now, &bangkok).is_err());

        let mut silom = Location {
            id: LocationId::new(),
            name: "Silom".into(),
            address: "123 Silom Rd".into(),
            opening_hours: vec![],
            phone: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        assert!(silom.open_at(now, &bangkok), "no hours: always open");
        silom.opening_hours = vec![window(&Weekday::ALL, "17:00", "01:00")];
        assert!(!silom.open_at(now, &bangkok));
        assert!(silom.open_at(at("2026-01-05T17:30:00Z"), &bangkok)); // 00:30 Tuesday
    }

    #[test]
    fn the_published_menu_shows_what_can_be_ordered_in_display_order() {
        let now = at("2026-01-05T05:00:00Z"); // Monday 12:00 in Bangkok
        let bangkok = tz("Asia/Bangkok");
        let category = |name: &str, position: u32| Category {
            id: CategoryId::new(),
            name: name.into(),
            position,
            entries: 0,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let named = |name: &str, position: u32, category: Option<CategoryId>| {
            let mut i = item(1000);
            i.name = name.into();
            i.position = position;
            i.category_id = category;
            i
        };
        let drinks = category("Drinks", 2);
        let noodles = category("Noodles", 1);
        let apps = category("Appetizers", 1);
        let empty = category("Desserts", 0);
        let pad_thai = named("Pad thai", 1, Some(noodles.id));
        let pad_see_ew = named("Pad see ew", 1, Some(noodles.id));
        let boat = named("Boat noodles", 2, Some(noodles.id));
        let cola = named("Cola", 0, Some(drinks.id));
        let mut tea = named("Thai tea", 0, Some(drinks.id));
        tea.stock = Some(0);
        let mut spring_rolls = named("Spring rolls", 0, Some(apps.id));
        spring_rolls.snoozed_until = Some(at("2026-01-05T06:00:00Z"));
        let mut dinner_only = named("Dinner special", 0, Some(noodles.id));
        dinner_only.availability = vec![window(&Weekday::ALL, "17:00", "22:00")];
        let water = named("Water", 0, None);
        let set = {
            let mut c = combo(vec![
                ComboComponent::Item {
                    item_id: pad_thai.id,
                    quantity: 1,
                },
                ComboComponent::Choice {
                    name: "Drink".into(),
                    item_ids: vec![cola.id, tea.id],
                    quantity: 1,
                },
            ]);
            c.category_id = Some(noodles.id);
            c
        };
        let broken = combo(vec![ComboComponent::Item {
            item_id: spring_rolls.id,
            quantity: 1,
        }]);
        let menu = Menu {
            categories: vec![drinks.clone(), noodles.clone(), apps, empty],
            items: vec![
                pad_thai.clone(),
                pad_see_ew.clone(),
                boat.clone(),
                cola.clone(),
                tea,
                spring_rolls,
                dinner_only,
                water.clone(),
            ],
            combos: vec![set.clone(), broken],
        };
        let published = menu.published("THB".parse().unwrap(), now, &bangkok);
        assert_eq!(published.currency.code(), "THB");
        assert_eq!(published.time_zone, "Asia/Bangkok");
        let sections: Vec<(&str, Vec<&str>)> = published
            .categories
            .iter()
            .map(|s| {
                (
                    s.name.as_str(),
                    s.items.iter().map(|i| i.name.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            sections,
            [
                ("Noodles", vec!["Pad see ew", "Pad thai", "Boat noodles"]),
                ("Drinks", vec!["Cola"]),
            ],
            "Appetizers (all snoozed) and Desserts (empty) are left out"
        );
        let noodles_section = &published.categories[0];
        assert_eq!(noodles_section.combos.len(), 1);
        assert_eq!(
            noodles_section.combos[0].components[1],
            ComboComponent::Choice {
                name: "Drink".into(),
                item_ids: vec![cola.id],
                quantity: 1
            },
            "the sold-out tea is not offered"
        );
        assert_eq!(published.items.len(), 1);
        assert_eq!(published.items[0].id, water.id);
        assert!(
            published.combos.is_empty(),
            "a combo of a snoozed item is hidden"
        );
        // In the evening the dinner special appears, and the spring rolls are back.
        let evening = menu.published("THB".parse().unwrap(), at("2026-01-05T11:00:00Z"), &bangkok);
        let names: Vec<&str> = evening.categories.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Appetizers", "Noodles", "Drinks"]);
        assert!(
            evening.categories[1]
                .items
                .iter()
                .any(|i| i.name == "Dinner special")
        );
    }

    #[test]
    fn field_rules() {
        assert_eq!(
            photo_url("https://example.com/a b.jpg").unwrap(),
            "https://example.com/a%20b.jpg"
        );
        assert!(photo_url(" https://cdn.example.com/x.png ").is_ok());
        for bad in [
            "http://example.com/x.jpg",
            "https://",
            "ftp://example.com/x",
            "https://user:pw@example.com/x",
            "not a url",
            "example.com/x.jpg",
            "",
        ] {
            assert!(photo_url(bad).is_err(), "{bad}");
        }
        assert!(photo_url(&format!("https://example.com/{}", "a".repeat(2048))).is_err());
        for good in ["en", "th", "es", "pt-BR", "zh-Hant", "fil"] {
            assert!(language(good).is_ok(), "{good}");
        }
        for bad in ["EN", "e", "english", "en_US", "", "en-", "-en"] {
            assert!(language(bad).is_err(), "{bad}");
        }
        assert!(price(0).is_ok() && price(MAX_PRICE).is_ok());
        assert!(price(-1).is_err() && price(MAX_PRICE + 1).is_err());
        assert!(stock(0).is_ok() && stock(-1).is_err());
        assert_eq!(position(7), Ok(7));
        assert!(position(-1).is_err() && position(MAX_POSITION + 1).is_err());
        assert!(quantity(0).is_err() && quantity(1).is_ok() && quantity(100).is_err());
        assert!(choice_count(0).is_ok() && choice_count(51).is_err());
    }

    #[test]
    fn menu_entries_round_trip_through_the_table_format() {
        let schema = fanorder_store::TableSchema::load();
        let key = fanorder_store::Key::new("T#x", "MENU#ITEM#x");
        let mut pad_thai = pad_thai_with_modifiers();
        pad_thai.availability = vec![window(&[Weekday::Fri], "22:00", "02:00")];
        pad_thai.keywords = BTreeMap::from([("th".to_owned(), vec!["ผัดไทย".to_owned()])]);
        pad_thai.stock = Some(3);
        let stored = fanorder_store::to_item(schema, &key, &pad_thai).unwrap();
        assert_eq!(stored.get("stock"), Some(&fanorder_store::n(3)));
        assert_eq!(
            fanorder_store::from_item::<MenuItem>(stored).unwrap(),
            pad_thai
        );
        // Untracked stock is no attribute at all, so `attribute_exists(stock)` tells them apart.
        let untracked = fanorder_store::to_item(schema, &key, &item(100)).unwrap();
        assert!(!untracked.contains_key("stock"));
        let set = combo(vec![
            ComboComponent::Item {
                item_id: ItemId::new(),
                quantity: 2,
            },
            ComboComponent::Choice {
                name: "Drink".into(),
                item_ids: vec![ItemId::new()],
                quantity: 1,
            },
        ]);
        let stored = fanorder_store::to_item(schema, &key, &set).unwrap();
        assert_eq!(fanorder_store::from_item::<Combo>(stored).unwrap(), set);
        let json = serde_json::to_value(&set.components[0]).unwrap();
        assert_eq!(json["kind"], "item");
        assert_eq!(json["quantity"], 2);
    }

    proptest! {
        #[test]
        fn times_round_trip(minutes in 0u16..=1440) {
            let t = TimeOfDay::new(u8::try_from(minutes / 60).unwrap(), u8::try_from(minutes % 60).unwrap()).unwrap();
            prop_assert_eq!(t.to_string().parse::<TimeOfDay>().unwrap(), t);
        }

        /// A window covers exactly the minutes of the week from each listed day's `from`, for
        /// its length (overnight windows spilling into the next day, Sunday into Monday).
        #[test]
        fn a_window_covers_its_span_of_the_week(
            day_mask in 1u8..128,
            from in 0u16..1440,
            to in 0u16..=1440,
            probe in 0u32..(7 * 1440),
        ) {
            prop_assume!(from != to);
            let days: Vec<Weekday> = (0..7).filter(|i| day_mask & (1 << i) != 0).map(|i| Weekday::ALL[i]).collect();
            let make = |m: u16| TimeOfDay::new(u8::try_from(m / 60).unwrap(), u8::try_from(m % 60).unwrap()).unwrap();
            let w = Window::new(days.clone(), make(from), make(to)).unwrap();
            let length = if from < to { u32::from(to - from) } else { 1440 - u32::from(from) + u32::from(to) };
            let week = 7 * 1440;
            let expected = days.iter().any(|d| {
                let start = Weekday::ALL.iter().position(|x| x == d).unwrap() as u32 * 1440 + u32::from(from);
                (probe + week - start) % week < length
            });
            let day = Weekday::ALL[(probe / 1440) as usize];
            let minute = u16::try_from(probe % 1440).unwrap();
            prop_assert_eq!(w.contains(day, minute), expected);
        }
    }
}
