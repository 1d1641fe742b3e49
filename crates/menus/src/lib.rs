//! The menu and the restaurant's locations: categories, items with modifier groups, combos,
//! availability windows, stock and snooze, the published menu, and the rules the orders crate
//! prices lines with.
#![forbid(unsafe_code)]

pub mod http;
pub mod model;
pub mod store;

pub use http::router;
pub use model::{
    Category, CategoryId, ChosenModifier, Combo, ComboComponent, ComboId, GroupId, ItemId,
    Location, LocationId, Menu, MenuError, MenuItem, ModifierGroup, ModifierOption, OptionId,
    PricedItem, PublishedMenu,
};
